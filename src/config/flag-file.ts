// A flag file (a mounted ConfigMap, say) is a complete set of flags, read while the app runs. A
// file caught half-written must be refused, never read as "these flags, the rest defaults": an
// empty file would be phase 0, enforcement off. So beyond the values themselves (parseFlags), a
// file must name TENANT_ENFORCEMENT_MODE, parse completely, and not look cut short.
import { TenantFlagError, type RawFlags } from './flags.ts'

const MODE = 'TENANT_ENFORCEMENT_MODE'
const ENFORCE_MODELS = 'TENANT_ENFORCEMENT_ENFORCE_MODELS'

/**
 * Parse a flag file: KEY=VALUE lines (a ConfigMap rendered as env; `#` comments, `export ` and
 * quotes allowed) or a JSON object. Throws TenantFlagError (flag `file`, or the flag at fault)
 * with a message that never quotes a line of the file: it may hold something that is not a flag.
 */
export function parseFlagFile(text: string): RawFlags {
  const body = text.replace(/^\uFEFF/, '')
  if (body.trim() === '') throw new TenantFlagError('file', 'is empty')
  const raw = /^\s*[{[]/.test(body) ? parseJson(body) : parseLines(body)
  assertCompleteFlags(raw, 'file', 'a file emptied or cut short while being rewritten must not switch enforcement off')
  return raw as RawFlags
}

/**
 * A source that replaces the whole set of flags at once (a file, a flag service) must name MODE,
 * and ENFORCE_MODELS when MODE is selective: a set that lost them would mean "enforcement off" or
 * "block nothing". `what` names the source in the message, `why` says how a set loses them there.
 */
export function assertCompleteFlags(raw: Record<string, string | undefined>, what: string, why: string): void {
  const mode = (raw[MODE] ?? '').trim()
  if (mode === '') {
    throw new TenantFlagError(what === 'file' ? 'file' : MODE, `lacks ${MODE}: a flag ${what} is a complete set of flags (${why})`)
  }
  // A file cut short right after `MODE=selective` would block nothing: selective names what it blocks.
  if (mode === 'selective' && raw[ENFORCE_MODELS] === undefined) {
    throw new TenantFlagError(ENFORCE_MODELS, `${MODE}=selective needs ${ENFORCE_MODELS} in the ${what} (empty to block nothing)`)
  }
}

function parseJson(body: string): Record<string, string> {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    // JSON.parse's message quotes the text around the error: not for a log line.
    throw new TenantFlagError('file', 'is not valid JSON (half-written?)')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TenantFlagError('file', 'must be one JSON object of flags')
  }
  const raw: Record<string, string> = {}
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new TenantFlagError(key, `${key} must be a string, a number or a boolean in a JSON flag file`)
    }
    raw[key] = String(value)
  }
  return raw
}

function parseLines(body: string): Record<string, string> {
  const lines = body.split('\n')
  // A writer that truncates, then writes line by line, leaves a last line with no newline until
  // it is done ("...ENFORCE_MODELS=User" of "User,Role"). One line alone is complete in itself (a
  // ConfigMap value written as a plain YAML scalar has no newline).
  if (lines.length > 1 && lines[lines.length - 1] !== '') {
    const fix = 'write the file elsewhere, then rename it into place'
    throw new TenantFlagError('file', `has several lines and the last one does not end with a newline: cut short while being written? (${fix})`)
  }
  const raw: Record<string, string> = {}
  const firstSeen = new Map<string, number>()
  lines.forEach((line, i) => {
    const l = line.trim()
    if (l === '' || l.startsWith('#')) return
    const eq = l.indexOf('=')
    if (eq < 1) throw new TenantFlagError('file', `line ${i + 1} is not KEY=VALUE`)
    const key = l.slice(0, eq).trim().replace(/^export\s+/, '')
    const first = firstSeen.get(key)
    if (first !== undefined) throw new TenantFlagError('file', `line ${i + 1} sets ${key} again (first set on line ${first})`)
    firstSeen.set(key, i + 1)
    raw[key] = l.slice(eq + 1).trim().replace(/^(['"])(.*)\1$/, '$2')
  })
  return raw
}
