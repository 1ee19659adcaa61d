// The TENANT_ENFORCEMENT_* flags: names, parsing, precedence. Pure: no process.env here
// (see flag-source.ts for where the raw values come from and when they are re-parsed).
import { MODES, type Mode } from './schema.ts'
import { describeInvalid } from './suggest.ts'

export const FLAG_NAMES = [
  'TENANT_ENFORCEMENT_ENABLED',
  'TENANT_ENFORCEMENT_MODE',
  'TENANT_ENFORCEMENT_MODELS',
  'TENANT_ENFORCEMENT_ENFORCE_MODELS',
  'TENANT_ENFORCEMENT_LOG_MODELS',
  'TENANT_ENFORCEMENT_ALLOW_BYPASS',
  'TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON',
  'TENANT_ENFORCEMENT_LOG_SAMPLE_RATE',
] as const
export type FlagName = (typeof FLAG_NAMES)[number]
export type RawFlags = Partial<Record<FlagName, string | undefined>>

/** What a query on a model gets: left alone, inspected and logged, or inspected and blocked. */
export type ModelAction = 'off' | 'log' | 'block'

export interface Flags {
  enabled: boolean
  mode: Mode
  /** log_only: models watched. null = all. */
  models: readonly string[] | null
  /** selective: models blocked / logged. null = all. */
  enforceModels: readonly string[] | null
  logModels: readonly string[] | null
  allowBypass: boolean
  bypassRequiresReason: boolean
  logSampleRate: number
}

export class TenantFlagError extends Error {
  readonly code = 'TENANT_FLAG_INVALID'
  constructor(
    readonly flag: FlagName | string,
    message: string,
  ) {
    super(message)
    this.name = 'TenantFlagError'
  }
}

/**
 * The `flag` label of tenant_flag_errors_total (and the `flag` field of TENANT_FLAG_INVALID): a known
 * flag name, `service` (a flag service whose evaluation threw), else `file` (a flag file that does not
 * parse, names an unknown key or cannot be read).
 * Never a key or path someone wrote: labels stay bounded and carry nothing of a file's contents.
 */
export function flagLabel(flag: string | undefined): FlagName | 'file' | 'service' {
  if (flag === FLAG_SERVICE) return FLAG_SERVICE
  return (FLAG_NAMES as readonly string[]).includes(flag as string) ? (flag as FlagName) : 'file'
}

/** The `flag` of a refusal that is the flag service's as a whole (an evaluation that threw): not a file. */
export const FLAG_SERVICE = 'service'

const TRUE = ['true', '1', 'yes', 'on']
const FALSE = ['false', '0', 'no', 'off']

function parseBool(name: FlagName, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw.trim() === '') return fallback
  const v = raw.trim().toLowerCase()
  if (TRUE.includes(v)) return true
  if (FALSE.includes(v)) return false
  throw new TenantFlagError(name, `${name}=${raw}: ${describeInvalid(name, raw, ['true', 'false'])}`)
}

function parseList(name: FlagName, raw: string | undefined, knownModels: readonly string[], fallback: readonly string[] | null): readonly string[] | null {
  if (raw === undefined || raw.trim() === '') return fallback
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean)
  if (items.length === 1 && items[0]!.toLowerCase() === 'all') return null
  for (const item of items) {
    if (item.toLowerCase() === 'all') throw new TenantFlagError(name, `${name}=${raw}: "all" must stand alone`)
    if (!knownModels.includes(item)) {
      throw new TenantFlagError(name, `${name}=${raw}: ${describeInvalid(name, item, [...knownModels, 'all'])}`)
    }
  }
  return Object.freeze([...new Set(items)])
}

/** Parse raw flag values. Throws TenantFlagError naming the bad value and the valid ones. */
export function parseFlags(raw: RawFlags, knownModels: readonly string[]): Flags {
  for (const key of Object.keys(raw)) {
    if (!(FLAG_NAMES as readonly string[]).includes(key)) {
      throw new TenantFlagError(key, describeInvalid('flag', key, FLAG_NAMES))
    }
  }
  const modeRaw = raw.TENANT_ENFORCEMENT_MODE?.trim()
  let mode: Mode = 'disabled'
  if (modeRaw) {
    if (!(MODES as readonly string[]).includes(modeRaw)) {
      throw new TenantFlagError('TENANT_ENFORCEMENT_MODE', `TENANT_ENFORCEMENT_MODE=${modeRaw}: ${describeInvalid('TENANT_ENFORCEMENT_MODE', modeRaw, MODES)}`)
    }
    mode = modeRaw as Mode
  }
  const rateRaw = raw.TENANT_ENFORCEMENT_LOG_SAMPLE_RATE?.trim()
  let logSampleRate = 1
  if (rateRaw) {
    logSampleRate = Number(rateRaw)
    if (!Number.isFinite(logSampleRate) || logSampleRate < 0 || logSampleRate > 1) {
      throw new TenantFlagError('TENANT_ENFORCEMENT_LOG_SAMPLE_RATE', `TENANT_ENFORCEMENT_LOG_SAMPLE_RATE=${rateRaw}: must be a number from 0 to 1 (1 logs every violation, 0.01 one in a hundred)`)
    }
  }
  return Object.freeze({
    // ENABLED defaults to true so that MODE alone switches enforcement on; MODE defaults to
    // disabled, so an app with no flags at all is a no-op (phase 0).
    enabled: parseBool('TENANT_ENFORCEMENT_ENABLED', raw.TENANT_ENFORCEMENT_ENABLED, true),
    mode,
    models: parseList('TENANT_ENFORCEMENT_MODELS', raw.TENANT_ENFORCEMENT_MODELS, knownModels, null),
    enforceModels: parseList('TENANT_ENFORCEMENT_ENFORCE_MODELS', raw.TENANT_ENFORCEMENT_ENFORCE_MODELS, knownModels, []),
    logModels: parseList('TENANT_ENFORCEMENT_LOG_MODELS', raw.TENANT_ENFORCEMENT_LOG_MODELS, knownModels, []),
    allowBypass: parseBool('TENANT_ENFORCEMENT_ALLOW_BYPASS', raw.TENANT_ENFORCEMENT_ALLOW_BYPASS, false),
    bypassRequiresReason: parseBool('TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON', raw.TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON, true),
    logSampleRate,
  })
}

/** The effective mode: ENABLED=false means disabled whatever MODE says. */
export function effectiveMode(flags: Flags): Mode {
  return flags.enabled ? flags.mode : 'disabled'
}

const contains = (list: readonly string[] | null, model: string) => list === null || list.includes(model)

/**
 * Precedence of the rollout document: ENABLED=false or MODE=disabled: off; log_only: log the
 * watched MODELS, never block; selective: block ENFORCE_MODELS, log LOG_MODELS, leave the
 * rest; enforce: block every model, lists ignored.
 */
export function actionFor(flags: Flags, model: string): ModelAction {
  switch (effectiveMode(flags)) {
    case 'disabled':
      return 'off'
    case 'log_only':
      return contains(flags.models, model) ? 'log' : 'off'
    case 'selective':
      if (contains(flags.enforceModels, model)) return 'block'
      return contains(flags.logModels, model) ? 'log' : 'off'
    case 'enforce':
      return 'block'
  }
}

/** Per-model actions, computed once per flag change so the hot path is one lookup. */
export function actionTable(flags: Flags, models: readonly string[]): ReadonlyMap<string, ModelAction> {
  return new Map(models.map((m) => [m, actionFor(flags, m)]))
}

export function readEnvFlags(env: NodeJS.ProcessEnv = process.env): RawFlags {
  const raw: RawFlags = {}
  for (const name of FLAG_NAMES) if (env[name] !== undefined) raw[name] = env[name]
  return raw
}
