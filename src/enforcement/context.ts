// The request's tenant, carried by AsyncLocalStorage. Set and restored in one place
// (runWithTenant / withoutTenantEnforcement); read by the extension at query time.
import { AsyncLocalStorage } from 'node:async_hooks'
import { TenantContextInvalidError } from './errors.ts'

/** A tenant or user id: a non-blank string, a non-negative safe integer, or a non-negative bigint. */
export type TenantId = string | number | bigint

export interface TenantContext {
  /** the request's tenant (one level of tenancy). With two levels (config.levels) give tenantIds instead */
  tenantId?: TenantId
  /**
   * Two levels of tenancy: one id per level name (`{ organization: 'o1', team: 't1' }`); a level
   * left out proves none of its rows. A one-level config reads `tenantId ?? tenantIds.tenant`.
   */
  tenantIds?: Readonly<Record<string, TenantId>>
  /**
   * The level the request works on as a whole (an org admin's `'organization'`): its rows and every
   * lower-level row proven through it (docs/levels.md). One of the keys of tenantIds.
   */
  scope?: string
  userId?: TenantId
  /** route template (`/api/users/:id`), or a function resolving it when a violation is reported */
  endpoint?: string | (() => string | undefined)
  method?: string
}

export interface BypassScope {
  readonly reason: string
  readonly actor: string | undefined
  /** where withoutTenantEnforcement was called (captured once; bypasses are rare) */
  readonly stack: string | undefined
  /**
   * True while the callback runs. Work the callback scheduled that runs after it settled (a timer,
   * an event handler, a promise chain nobody awaited) still sees this scope in AsyncLocalStorage,
   * but gets the normal check.
   */
  active: boolean
  /** set by the extension the first time the bypass is used / refused, so each is counted once */
  usedBy?: WeakSet<object>
  deniedBy?: WeakSet<object>
}

export interface TenantStore {
  readonly context: TenantContext | undefined
  readonly bypass: BypassScope | undefined
}

export const tenantStorage = new AsyncLocalStorage<TenantStore>()

const ID_EXPECTED = 'a non-blank string, a non-negative safe integer or a non-negative bigint'

/** The type of a refused value, in words; never the value (an id can be personal, a token a secret). */
function describe(v: unknown): string {
  if (v === undefined) return 'undefined (missing)'
  if (v === null) return 'null'
  if (typeof v === 'string') return v === '' ? 'an empty string' : v.trim() === '' ? 'a blank string' : 'a string'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') {
    const name = (v as { constructor?: { name?: unknown } }).constructor?.name
    return typeof name === 'string' && name !== 'Object' ? `an object (${name})` : 'an object'
  }
  return `a ${typeof v}`
}

/** Why a string, number or bigint is not an id; other types as describe() says. */
function describeId(v: unknown): string {
  if (typeof v === 'string' && v.trim() !== '') {
    if (v.trim() !== v) return 'a string with leading or trailing whitespace'
    if (SIGNED_NUMBER.test(v)) return 'a string holding a signed number'
    return 'a string with control or line-separator characters'
  }
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN'
    if (!Number.isFinite(v)) return 'an infinite number'
    if (!Number.isInteger(v)) return 'a non-integer number'
    if (v < 0) return 'a negative number'
    if (Object.is(v, -0)) return 'negative zero (-0)'
    return 'an integer above Number.MAX_SAFE_INTEGER (pass a bigint or a string)'
  }
  if (typeof v === 'bigint') return 'a negative bigint'
  return describe(v)
}

/** "-1", "+5": a negative (or signed) number in disguise; a string id never starts so. */
const SIGNED_NUMBER = /^[+-]\d/
/** Control characters and U+2028/U+2029 (line separators in JavaScript): never part of an id. */
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/

/**
 * Is this a usable tenant or user id? The one rule of every entry point: runWithTenant and every
 * HTTP adapter (src/http/core.ts) call it, so a token's claim and a job's context are judged alike.
 * Refused: negative numbers and -0, strings with surrounding whitespace (" 1" is not "1"), strings
 * holding a signed number ("-1"), control and line-separator characters. Runs once per request.
 */
export function isTenantId(v: unknown): v is TenantId {
  return (
    (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0)) ||
    (typeof v === 'string' && v !== '' && v.trim() === v && !SIGNED_NUMBER.test(v) && !CONTROL.test(v)) ||
    (typeof v === 'bigint' && v >= 0n)
  )
}

/**
 * Refuse a context that cannot be a request's (throws TenantContextInvalidError). runWithTenant calls
 * it; an adapter that enters `tenantStorage` itself (an HTTP middleware) should call it too.
 */
export function assertTenantContext(context: unknown): asserts context is TenantContext {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new TenantContextInvalidError('context', describe(context), 'an object such as { tenantId: 1, userId: 5 }')
  }
  const c = context as Record<string, unknown>
  if (c.tenantIds === undefined || c.tenantId !== undefined) {
    if (!isTenantId(c.tenantId)) throw new TenantContextInvalidError('tenantId', describeId(c.tenantId), ID_EXPECTED)
  }
  if (c.tenantIds !== undefined) assertTenantIds(c.tenantIds)
  if (c.scope !== undefined) {
    const names = c.tenantIds === undefined ? [] : Object.keys(c.tenantIds as object)
    if (typeof c.scope !== 'string' || !names.includes(c.scope)) {
      const got = typeof c.scope === 'string' ? (LEVEL_NAME.test(c.scope) ? `"${c.scope}", not a key of tenantIds` : 'a string that is not a level name') : describe(c.scope)
      throw new TenantContextInvalidError('scope', got, names.length ? `one of the levels of tenantIds (${names.join(', ')}), or left out` : 'a level named in tenantIds, or left out')
    }
  }
  if (c.userId !== undefined && !isTenantId(c.userId)) {
    throw new TenantContextInvalidError('userId', describeId(c.userId), `${ID_EXPECTED}, or left out`)
  }
  if (c.endpoint !== undefined && typeof c.endpoint !== 'string' && typeof c.endpoint !== 'function') {
    throw new TenantContextInvalidError('endpoint', describe(c.endpoint), 'a route template string or a function returning one')
  }
  if (c.method !== undefined && typeof c.method !== 'string') {
    throw new TenantContextInvalidError('method', describe(c.method), 'a string')
  }
}

/** A level name (the keys of tenantIds): an identifier, as in the config's `levels[].name`. */
const LEVEL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

function assertTenantIds(ids: unknown): void {
  if (typeof ids !== 'object' || ids === null || Array.isArray(ids) || Object.getPrototypeOf(ids) !== Object.prototype) {
    throw new TenantContextInvalidError('tenantIds', describe(ids), 'a plain object with one id per level, such as { organization: 1, team: 7 }')
  }
  const entries = Object.entries(ids)
  if (entries.length === 0) throw new TenantContextInvalidError('tenantIds', 'an empty object', 'one id per level, such as { organization: 1, team: 7 }')
  for (const [name, id] of entries) {
    // The key is the app's code, but it is not echoed: only whether it could be a level name.
    if (!LEVEL_NAME.test(name)) throw new TenantContextInvalidError('tenantIds', 'a key that is not a level name', 'keyed by level names (identifiers such as organization, team)')
    if (!isTenantId(id)) throw new TenantContextInvalidError(`tenantIds.${name}`, describeId(id), ID_EXPECTED)
  }
}

/**
 * Run fn with this tenant context. Prisma's queries are lazy (they run when awaited), so the
 * callback's result is awaited inside the context: `runWithTenant(ctx, () => prisma.user.findMany())`
 * runs the query as this tenant. A context without a valid tenant throws synchronously
 * (TenantContextInvalidError): it is a programming error, never "no request".
 */
export function runWithTenant<T>(context: TenantContext, fn: () => T | PromiseLike<T>): Promise<Awaited<T>> {
  assertTenantContext(context)
  // A frozen copy: the caller mutating its object later cannot change, or invalidate, the running context.
  const frozen = Object.freeze(context.tenantIds === undefined ? { ...context } : { ...context, tenantIds: Object.freeze({ ...context.tenantIds }) })
  return tenantStorage.run({ context: frozen, bypass: undefined }, async (): Promise<Awaited<T>> => await fn())
}

export function getTenantContext(): TenantContext | undefined {
  return tenantStorage.getStore()?.context
}

export interface BypassOptions {
  /**
   * why the bypass is needed; with BYPASS_REQUIRES_REASON (and always when hardened) it must be
   * given; hardened: one of config.bypass.reasons
   */
  reason?: string
  /**
   * who or what asks for it (a job name, an operator): logged, never a label. When the config names
   * who may bypass (`bypass.actors` / `bypass.authorize`), this is the actor checked; without it,
   * the context's userId is.
   */
  actor?: string
}

/**
 * Run fn with tenant enforcement lifted for tenant-owned queries, for as long as fn runs (until
 * the promise it returns settles). Whether the bypass is granted is decided by each client's
 * extension at query time (ALLOW_BYPASS, BYPASS_REQUIRES_REASON, hardened reasons, authorized
 * actors); a refused bypass leaves the queries to the normal check. Every granted bypass is
 * counted and logged with the stack of this call.
 */
export function withoutTenantEnforcement<T>(options: BypassOptions, fn: () => T | PromiseLike<T>): Promise<Awaited<T>> {
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextInvalidError('bypass options', describe(options), 'an object such as { reason, actor }')
  }
  if (options.reason !== undefined && typeof options.reason !== 'string') {
    throw new TenantContextInvalidError('reason', describe(options.reason), 'a string, or left out')
  }
  if (options.actor !== undefined && (typeof options.actor !== 'string' || options.actor.trim() === '')) {
    throw new TenantContextInvalidError('actor', describe(options.actor), 'a non-blank string, or left out')
  }
  const reason = options.reason?.trim() ?? ''
  const bypass: BypassScope = { reason, actor: options.actor?.trim(), stack: new Error().stack, active: true }
  return tenantStorage.run({ context: tenantStorage.getStore()?.context, bypass }, async (): Promise<Awaited<T>> => {
    try {
      return await fn()
    } finally {
      // From here on, work fn scheduled but did not await is checked as if there were no bypass.
      bypass.active = false
    }
  })
}
