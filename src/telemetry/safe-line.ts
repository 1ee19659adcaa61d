// The last step of every line tenantfence logs (violation, bypass, flag, audit, HTTP error,
// start-up): each string capped, U+2028/U+2029 escaped (JavaScript reads them as line breaks: a
// log viewer that evals or splits on them would see a forged line), the working directory and
// home directory taken out of paths, and the whole line capped. The fields were already chosen
// to carry no query value (sanitize.ts); this bounds what a hostile input can still do to size.
import { homedir } from 'node:os'

/** Longest string a field keeps (a stack trace of 8 app frames fits). */
export const STRING_CAP = 2048
/** Longest line, as JSON: larger fields are replaced until the line fits. */
export const LINE_CAP = 16 * 1024
const MAX_DEPTH = 10

/** Absolute paths outside the working directory: `/home/…`, `/Users/…`, `C:\…`, `file:///…`. */
const ROOTS = 'home|Users|root|srv|opt|var|usr|tmp|workspace|mnt|private|nix|builds|runner|snap'
const ABS_PATH = new RegExp(`(?:file://)?(?:/(?:${ROOTS})/|\\b[A-Za-z]:\\\\)[^\\s'"\`()<>,;]*`, 'g')

/**
 * Fields that hold a route template (`/api/users/:id`): code, never a file path, kept as they are
 * (a route under `/home/` or `/tmp/` must stay readable on dashboards and in reports).
 */
const ROUTE_FIELDS: ReadonlySet<string> = new Set(['endpoint', 'route'])

/** One string made safe for a log line: no line separators, no absolute path, at most `cap` characters. */
export function safeText(text: string, cap = STRING_CAP, paths = true): string {
  let s = text.length > cap * 4 ? text.slice(0, cap * 4) : text
  const cwd = process.cwd()
  if (cwd.length > 1 && s.includes(cwd)) s = s.split(`${cwd}/`).join('').split(cwd).join('.')
  const home = homedir()
  if (home.length > 1 && s.includes(home)) s = s.split(home).join('~')
  if (paths) s = s.replace(ABS_PATH, (p) => `…/${p.split(/[\\/]/).filter(Boolean).at(-1) ?? ''}`)
  s = s.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
  return s.length > cap ? `${s.slice(0, cap)}…[+${s.length - cap} chars]` : s
}

/**
 * A copy of the line's fields fit to write: every string through safeText (keys too), bigints as
 * strings, cycles and depth cut; then, while its JSON is longer than LINE_CAP, its largest field
 * replaced by `[capped]`.
 */
export function safeLine(fields: Record<string, unknown>): Record<string, unknown> {
  const out = copy(fields, 0, new Set()) as Record<string, unknown>
  let size = jsonLength(out)
  while (size > LINE_CAP) {
    let largest: string | undefined
    let largestSize = 0
    for (const [k, v] of Object.entries(out)) {
      const n = jsonLength(v)
      if (n > largestSize && v !== '[capped]') [largest, largestSize] = [k, n]
    }
    if (largest === undefined || largestSize < 16) break
    out[largest] = '[capped]'
    size = jsonLength(out)
  }
  return out
}

function copy(value: unknown, depth: number, seen: Set<object>, key = ''): unknown {
  if (typeof value === 'string') return safeText(value, STRING_CAP, !ROUTE_FIELDS.has(key))
  if (typeof value === 'bigint') return String(value)
  if (typeof value === 'function' || typeof value === 'symbol') return `[${typeof value}]`
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return '[depth]'
  if (seen.has(value)) return '[cycle]'
  seen.add(value)
  try {
    if (Array.isArray(value)) return value.slice(0, 50).map((v) => copy(v, depth + 1, seen))
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value).slice(0, 100)) out[safeText(k, 128)] = copy(v, depth + 1, seen, k)
    return out
  } finally {
    seen.delete(value)
  }
}

function jsonLength(v: unknown): number {
  try {
    return JSON.stringify(v)?.length ?? 0
  } catch {
    return LINE_CAP + 1
  }
}
