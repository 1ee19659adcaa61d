// What every part of the benchmark shares: the demo config, the flags of each mode (set in
// process.env, the default flag source, so its env reads per query are part of what is
// measured), a pino logger writing to /dev/null, and a way to get tenantfence's query hook
// without a database (for the nanosecond-level measurements).
import { pino, type Logger } from 'pino'
import config from '../tenantfence.config.ts'
import { phaseFlags } from '../src/config/define.ts'
import { FLAG_NAMES } from '../src/config/flags.ts'
import type { DataModel } from '../src/enforcement/datamodel.ts'
import { tenantEnforcement, type TenantEnforcementHandle, type TenantEnforcementOptions } from '../src/enforcement/extension.ts'

export { config }

export type FlagSet = Record<string, string>

/** The env flags of a phase of the config (all 8 keys set where the phase sets them). */
export function flagsOf(phase: number, overrides: FlagSet = {}): FlagSet {
  return { ...phaseFlags(config, phase), ...overrides }
}

export const FLAGS = {
  disabled: flagsOf(0),
  log_only: flagsOf(1, { TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: '1' }),
  log_only_sampled: flagsOf(1, { TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: '0.01' }),
  enforce: flagsOf(3),
} as const

/** Put exactly these flags in process.env (the others removed). */
export function setEnvFlags(flags: FlagSet): void {
  for (const name of FLAG_NAMES) {
    const v = flags[name]
    if (v === undefined) delete process.env[name]
    else if (process.env[name] !== v) process.env[name] = v
  }
}

export interface NullLogger {
  logger: Logger
  /** lines written so far */
  lines(): number
}

/**
 * pino writing to /dev/null through its own synchronous destination (what pino does for stdout
 * by default), so serialisation and the write call are measured but the terminal stays quiet.
 */
export function nullLogger(): NullLogger {
  const dest = pino.destination({ dest: '/dev/null', sync: true })
  let lines = 0
  const write = dest.write.bind(dest)
  dest.write = (chunk: string) => {
    lines++
    return write(chunk)
  }
  return { logger: pino({ base: { app: config.app.job } }, dest), lines: () => lines }
}

export type QueryHook = (params: { model?: string; operation: string; args: unknown; query: (args: unknown) => Promise<unknown>; __internalParams?: unknown }) => Promise<unknown>

/**
 * tenantfence's $allOperations hook, taken out of the extension by handing it a stand-in client:
 * the exact function Prisma calls per query, minus Prisma.
 */
export function extractHook(datamodel: DataModel, options: Omit<TenantEnforcementOptions, 'config' | 'datamodel'> = {}): { hook: QueryHook; handle: TenantEnforcementHandle } {
  const extension = tenantEnforcement({ config, datamodel, audit: false, ...options })
  let hook: QueryHook | undefined
  const standIn = {
    _runtimeDataModel: datamodel,
    $extends(ext: { query: { $allOperations: QueryHook } }) {
      hook = ext.query.$allOperations
      return standIn
    },
  }
  ;(extension as unknown as (client: unknown) => unknown)(standIn)
  if (!hook) throw new Error('bench: the extension registered no $allOperations hook')
  return { hook, handle: extension }
}
