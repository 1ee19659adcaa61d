// defineConfig: validate the typed config once, with messages that name the bad value.
import { z } from 'zod'
import { configFieldsSchema, configSchema, phasePatchSchema, type Severity, type TenantFenceConfig, type TenantFenceConfigInput } from './schema.ts'
import { FLAG_NAMES, parseFlags, TenantFlagError, type RawFlags } from './flags.ts'
import { closest, describeInvalid } from './suggest.ts'
import { DEFAULT_THRESHOLDS } from './defaults.ts'
import { RENAMED_KEYS } from './renamed-keys.ts'

export class TenantConfigError extends Error {
  readonly code = 'TENANT_CONFIG_INVALID'
  constructor(message: string) {
    super(message)
    this.name = 'TenantConfigError'
  }
}

/** A phase's flags as env strings, keyed by their full TENANT_ENFORCEMENT_* names. */
export function phaseFlags(config: TenantFenceConfig, phase: number): Record<string, string> {
  const p = config.phases[phase]
  if (!p) throw new TenantConfigError(`phase ${phase} does not exist; phases are 0..${config.phases.length - 1}`)
  return stringifyFlags(p.flags)
}

export function stringifyFlags(flags: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, String(v)]))
}

/**
 * The models tenantfence checks and reports on, with their severity: the tenant-owned models of
 * the config, then the tenant model itself (its rows are the tenant's own). Flag lists, metric
 * labels and the policy gauges name exactly these.
 */
export function protectedModels(config: TenantFenceConfig): ReadonlyArray<{ readonly name: string; readonly severity: Severity }> {
  const list = Object.entries(config.models).map(([name, m]) => ({ name, severity: m.severity }))
  if (config.levels) for (const l of config.levels) list.push({ name: l.model, severity: l.severity })
  else if (config.tenant.model) list.push({ name: config.tenant.model, severity: config.tenant.severity })
  return list
}

/**
 * The app's label in logs and Loki (`app`): its Prometheus job when the config names one (so
 * dashboards and `tenantfence report --loki` find its lines under the same name), else its name.
 */
export function appLabel(config: TenantFenceConfig): string {
  return config.app.job ?? config.app.name
}

export function parseConfig(input: unknown): TenantFenceConfig {
  const result = configSchema.safeParse(input)
  if (!result.success) throw new TenantConfigError(`tenantfence config is invalid:\n${formatIssues(result.error, input)}`)
  const config = result.data
  const models = protectedModels(config).map((m) => m.name)
  const problems: string[] = []
  const checkFlags = (where: string, flags: Record<string, string | number | boolean>) => {
    for (const key of Object.keys(flags)) {
      if (!(FLAG_NAMES as readonly string[]).includes(key)) problems.push(`${where}: ${describeInvalid('flag', key, FLAG_NAMES)}`)
    }
    try {
      parseFlags(stringifyFlags(flags) as RawFlags, models)
    } catch (err) {
      if (err instanceof TenantFlagError) problems.push(`${where}: ${err.message}`)
      else throw err
    }
  }
  config.phases.forEach((p) => checkFlags(`phases[${p.phase}].flags`, p.flags))
  checkFlags('rollback.flags', config.rollback.flags)
  const delivery = config.rollout?.flags
  if (delivery?.source === 'service') {
    for (const key of Object.keys(delivery.keys ?? {})) {
      if (!(FLAG_NAMES as readonly string[]).includes(key)) problems.push(`rollout.flags.keys: ${describeInvalid('flag', key, FLAG_NAMES)}`)
    }
  }
  if (problems.length) throw new TenantConfigError(`tenantfence config is invalid:\n${problems.map((p) => `  ✖ ${p}`).join('\n')}`)
  return Object.freeze(config) as TenantFenceConfig
}

/** One line per problem: where, what was given, what is valid (with a "did you mean"). */
function formatIssues(error: z.ZodError, input: unknown): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)'
      const given = issue.path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined), input)
      if (issue.code === 'invalid_value' && typeof given === 'string') {
        return `  ✖ ${where}: ${describeInvalid(where, given, issue.values.map(String))}`
      }
      if (issue.code === 'unrecognized_keys') {
        const valid = knownKeys(issue.path)
        const named = issue.keys.map((k) => {
          if (RENAMED_KEYS[k] && !valid?.includes(k)) return `"${k}" (${RENAMED_KEYS[k]})`
          const near = valid && closest(k, valid)
          return `"${k}"${near ? ` (did you mean "${near}"?)` : ''}`
        })
        return `  ✖ ${where}: unknown key(s) ${named.join(', ')}${valid ? `. Valid: ${valid.join(', ')}` : ''}`
      }
      const shown = given === undefined ? '' : ` (got ${JSON.stringify(given)?.slice(0, 80)})`
      return `  ✖ ${where}: ${issue.message}${shown}`
    })
    .join('\n')
}

/** The keys an object of the config may have, by where it is (for "did you mean" on a typo). */
function knownKeys(path: readonly PropertyKey[]): readonly string[] | undefined {
  const last = [...path].reverse().find((p) => typeof p === 'string')
  const inPhase = path.length === 2 && path[0] === 'phases'
  if (path.length === 0) return Object.keys(configFieldsSchema.shape)
  if (inPhase) return Object.keys(phasePatchSchema.shape)
  if (last === 'thresholds') return Object.keys(DEFAULT_THRESHOLDS)
  if (last === 'app' || last === 'tenant' || last === 'rawQueries' || last === 'bypass' || last === 'rollback' || last === 'rollout') {
    const field = configFieldsSchema.shape[last]
    const inner = field.unwrap() as unknown as { shape?: Record<string, unknown> }
    return inner.shape ? Object.keys(inner.shape) : undefined
  }
  return undefined
}

const validated = new WeakSet<object>()

/** The typed config of an app, validated once. Use as the default export of tenantfence.config.ts. */
export function defineConfig(input: TenantFenceConfigInput): TenantFenceConfig {
  const config = parseConfig(input)
  validated.add(config)
  return config
}

/** Accept a config that went through defineConfig, or validate a plain object now. */
export function ensureConfig(config: TenantFenceConfig | TenantFenceConfigInput): TenantFenceConfig {
  return validated.has(config as object) ? (config as TenantFenceConfig) : defineConfig(config as TenantFenceConfigInput)
}
