// A phase's flags as KEY=value lines or one `kubectl set env` command.
import type { TenantFenceConfig } from '../config/schema.ts'
import { stringifyFlags } from '../config/define.ts'
import { FLAG_NAMES } from '../config/flags.ts'
import { CliError } from '../cli-error.ts'

const PREFIX = 'TENANT_ENFORCEMENT_'

/** Quote a shell word only when it needs it. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_.,:/=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

export function normalizeFlags(flags: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(stringifyFlags(flags)).map(([k, v]) => [k.startsWith(PREFIX) ? k : PREFIX + k, v]))
}

export function kubectlTarget(raw: string): string {
  if (!/^(deployment|deploy|statefulset|sts|daemonset|ds)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(raw)) {
    throw new CliError(`--kubectl ${raw}: expected a workload such as deployment/my-app`, 2)
  }
  return raw
}

/**
 * KEY=value lines, or `kubectl set env <target> KEY=value ...`. With `unsetOthers`, the kubectl
 * form also removes the TENANT_ENFORCEMENT_* flags this set does not name (`KEY-`), so the
 * workload ends up with exactly these flags and no list left over from an earlier phase.
 */
export function renderEnv(flags: Record<string, string>, opts: { kubectl?: string; unsetOthers?: boolean } = {}): string {
  const pairs = Object.entries(flags).map(([k, v]) => `${k}=${shellWord(v)}`)
  if (!opts.kubectl) return pairs.join('\n') + '\n'
  const unset = opts.unsetOthers ? FLAG_NAMES.filter((f) => !(f in flags)).map((f) => `${f}-`) : []
  return `kubectl set env ${opts.kubectl} ${[...pairs, ...unset].join(' ')}\n`
}

export function phaseEnvText(config: TenantFenceConfig, n: number, kubectl?: string): string {
  const phase = config.phases.find((p) => p.phase === n)!
  const head = [`# Phase ${phase.phase}: ${phase.name} (mode ${phase.mode}): ${phase.goal}`]
  if (phase.mode === 'hardened') {
    head.push(
      '# Hardened is a code option, not a flag: tenantEnforcement({ config, hardened: true }).',
      '# A hardened app ignores every TENANT_ENFORCEMENT_* flag; the values below only document the intent.',
    )
  }
  return head.join('\n') + '\n' + renderEnv(normalizeFlags(phase.flags), { kubectl, unsetOthers: true })
}

export function rollbackText(config: TenantFenceConfig, kubectl?: string): string {
  const lines = config.rollback.description.replace(/\s+/g, ' ').trim()
  return `# Instant rollback: ${lines}\n` + renderEnv(normalizeFlags(config.rollback.flags), { kubectl })
}
