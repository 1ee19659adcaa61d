// Query arguments as they may appear in a log line: the structure (which fields were filtered,
// included, written) stays; every value that could be secret or personal is replaced. Keys are
// judged like values: a key is kept only when it is a field of the schema or a word of Prisma's
// query language; anything else (`{ where: { "alice@example.com": true } }`, a 1 MB key) is a
// value someone typed, and is replaced. Only ids, the tenant field's ids, booleans and those
// names survive. Runs only for lines actually logged.
import { isTenantId } from '../enforcement/context.ts'

const SECRET_KEY = /pass|secret|token|hash|code|key|salt|otp|mfa|credential|session|cookie|auth/i
const ID_KEY = /^(id|.*Id)$/
/** Keys and values beyond these are summarised: a log line has a bounded size whatever the query. */
const MAX_KEYS = 24
const MAX_ITEMS = 3
const MAX_DEPTH = 6

/**
 * Prisma's query language: arguments, filter and list operators, nested writes, aggregates.
 * A key in this set is a word of Prisma's, never data. (Prisma 6 and 7 client API reference.)
 */
export const PRISMA_KEYS: ReadonlySet<string> = new Set([
  // arguments
  'where', 'data', 'select', 'include', 'omit', 'orderBy', 'cursor', 'take', 'skip', 'distinct', 'by', 'having',
  'create', 'update', 'relationLoadStrategy', 'skipDuplicates', 'sort', 'nulls', '_relevance', 'fields', 'search',
  // filters
  'AND', 'OR', 'NOT', 'equals', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte', 'not', 'contains', 'startsWith', 'endsWith',
  'mode', 'some', 'every', 'none', 'is', 'isNot', 'has', 'hasEvery', 'hasSome', 'isEmpty', 'isSet', 'path',
  'string_contains', 'string_starts_with', 'string_ends_with', 'array_contains', 'array_starts_with', 'array_ends_with',
  // nested writes and atomic updates
  'set', 'push', 'unset', 'increment', 'decrement', 'multiply', 'divide', 'connect', 'connectOrCreate', 'disconnect',
  'delete', 'deleteMany', 'updateMany', 'upsert', 'createMany',
  // aggregates
  '_count', '_sum', '_avg', '_min', '_max', '_all',
])

/** The names that may appear as keys: the schema's fields, compound unique inputs and model names. */
export interface KnownKeys {
  has(key: string): boolean
}

/**
 * Is this value fit to stand in a log line as an id? Non-negative integers, and strings that are
 * ids by shape (uuid, cuid, slug, `auth0|abc`): letters, digits and `_ . : | -`, at most 128
 * characters, no `@` (an e-mail), no space, no `/`. Anything else under an id key is redacted.
 */
export function loggableId(v: unknown): string | number | undefined {
  if (typeof v === 'bigint') return v >= 0n ? String(v) : undefined
  if (typeof v === 'number') return isTenantId(v) ? v : undefined
  return typeof v === 'string' && /^[A-Za-z0-9][\w.:|-]{0,127}$/.test(v) && isTenantId(v) ? v : undefined
}

/** A key that is a plain identifier (without a schema to check against: `sanitizeArgs(args)` alone). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

/**
 * `known`: the schema's names (the extension passes its data model's); without it, keys are kept
 * when they are Prisma's words or plain identifiers of at most 64 characters.
 */
export function sanitizeArgs(value: unknown, tenantField = 'tenantId', known?: KnownKeys): unknown {
  const keep = (k: string) => PRISMA_KEYS.has(k) || k === tenantField || (known ? known.has(k) : IDENTIFIER.test(k))
  return walk(value, { tenantField, keep, seen: new Set() }, 0, '')
}

interface Walk {
  tenantField: string
  keep: (key: string) => boolean
  /** the objects on the current path: a cycle is cut, a shared object is shown each time */
  seen: Set<object>
}

function walk(value: unknown, w: Walk, depth: number, key: string): unknown {
  if (depth > MAX_DEPTH) return '[depth]'
  if (value === null || value === undefined || typeof value === 'boolean') return value
  // Under the tenant field, a value is kept only when it has an id's shape (never an e-mail).
  if (key === w.tenantField) {
    if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return loggableId(value) ?? '[redacted]'
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    return ID_KEY.test(key) && !SECRET_KEY.test(key) ? (loggableId(value) ?? '[number]') : '[number]'
  }
  if (typeof value === 'string') return '[redacted]'
  if (typeof value !== 'object') return `[${typeof value}]`
  if (value instanceof Date) return '[date]'
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return '[bytes]'
  if (w.seen.has(value)) return '[cycle]'
  w.seen.add(value)
  try {
    if (Array.isArray(value)) {
      const head = value.slice(0, MAX_ITEMS).map((v) => walk(v, w, depth + 1, key))
      return value.length > MAX_ITEMS ? [...head, `[+${value.length - MAX_ITEMS} more]`] : head
    }
    const proto = Object.getPrototypeOf(value) as object | null
    if (proto !== Object.prototype && proto !== null) return `[${className(value)}]` // Decimal, Sql, a class instance
    const out: Record<string, unknown> = {}
    let n = 0
    let unnamed = 0
    const keys = Object.keys(value)
    for (const k of keys) {
      if (n >= MAX_KEYS) break
      n++
      const v = (value as Record<string, unknown>)[k]
      if (!w.keep(k)) {
        // A key that is data: its value goes too (a filter on it tells what was looked for).
        out[`[key ${++unnamed}]`] = '[redacted]'
        continue
      }
      // Prisma operators keep the meaning of the field they sit under (`id: { in: [1, 2] }`).
      const inner = ID_KEY.test(k) || k === w.tenantField ? k : PRISMA_KEYS.has(k) && OPERATORS.has(k) ? key : k
      out[k] = SECRET_KEY.test(k) && (v === null || typeof v !== 'object') ? '[redacted]' : walk(v, w, depth + 1, inner)
    }
    if (keys.length > n) out['[more keys]'] = keys.length - n
    return out
  } finally {
    w.seen.delete(value)
  }
}

/** Filter operators: under them, a value means what it means under the field (`tenantId: { in: [...] }`). */
const OPERATORS: ReadonlySet<string> = new Set(['equals', 'in', 'notIn', 'not', 'lt', 'lte', 'gt', 'gte', 'set'])

function className(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && /^[A-Za-z_$][\w$]{0,31}$/.test(name) ? name : 'object'
}
