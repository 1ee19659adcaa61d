// A phase's flags as KEY=value lines or one `kubectl set env` command. Config flag keys are
// full TENANT_ENFORCEMENT_* names (parseConfig refuses others).
import type { TenantFenceConfig } from '../config/schema.ts'
import { stringifyFlags } from '../config/define.ts'
import { renderEnv } from '../config/flag-env.ts'
import { CliError } from '../cli-error.ts'

export function kubectlTarget(raw: string): string {
  if (!/^(deployment|deploy|statefulset|sts|daemonset|ds)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(raw)) {
    throw new CliError(`--kubectl ${raw}: expected a workload such as deployment/my-app`, 2)
  }
  return raw
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
  return head.join('\n') + '\n' + renderEnv(stringifyFlags(phase.flags), { kubectl, unsetOthers: true })
}

export function rollbackText(config: TenantFenceConfig, kubectl?: string): string {
  const lines = config.rollback.description.replace(/\s+/g, ' ').trim()
  return `# Instant rollback: ${lines}\n` + renderEnv(stringifyFlags(config.rollback.flags), { kubectl })
}
