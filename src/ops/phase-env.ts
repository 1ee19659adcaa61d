// A phase's flags, and the instant rollback, as what to run where the app reads its flags
// (config.rollout.flags: a flag file, a Kubernetes deployment, the environment), or as one
// `kubectl set env` command for a workload named on the command line. Config flag keys are full
// TENANT_ENFORCEMENT_* names (parseConfig refuses others).
import type { TenantFenceConfig } from '../config/schema.ts'
import { protectedModels, stringifyFlags } from '../config/define.ts'
import { parseFlags, type RawFlags } from '../config/flags.ts'
import { renderEnv } from '../config/flag-env.ts'
import { CliError } from '../cli-error.ts'
import { flagFileCommand, kubectlCommand, phaseLines, rollbackFileFlags, rollbackLines } from '../generate/rollback.ts'

export function kubectlTarget(raw: string): string {
  if (!/^(deployment|deploy|statefulset|sts|daemonset|ds)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(raw)) {
    throw new CliError(`--kubectl ${raw}: expected a workload such as deployment/my-app`, 2)
  }
  return raw
}

export interface PhaseEnvOptions {
  kubectl?: string
  /** print a selective phase that blocks no model anyway (with an explicit empty ENFORCE_MODELS) */
  allowEmpty?: boolean
}

export function phaseEnvText(config: TenantFenceConfig, n: number, opts: PhaseEnvOptions = {}): string {
  const phase = config.phases.find((p) => p.phase === n)!
  let flags = stringifyFlags(phase.flags)
  if (phase.mode === 'selective' && blocksNothing(config, flags)) {
    if (!opts.allowEmpty) throw new CliError(blocksNothingMessage(config, n), 1)
    // Said out loud: a flag file with MODE=selective and no ENFORCE_MODELS is refused as cut short.
    flags = { ...flags, TENANT_ENFORCEMENT_ENFORCE_MODELS: '' }
  }
  const head = [`# Phase ${phase.phase}: ${phase.name} (mode ${phase.mode}): ${phase.goal}`]
  if (phase.mode === 'hardened') {
    head.push(
      '# Hardened is a code option, not a flag: tenantEnforcement({ config, hardened: true }).',
      '# A hardened app ignores every TENANT_ENFORCEMENT_* flag; the values below only document the intent.',
    )
  }
  if (flags.TENANT_ENFORCEMENT_ENFORCE_MODELS === '') head.push('# --allow-empty: selective mode that blocks no model (every listed model is only logged)')
  const delivery = config.rollout?.flags
  if (opts.kubectl) {
    const file = delivery?.source === 'file' ? [`# the app reads ${delivery.path}: replace it whole`, flagFileCommand(delivery.path, flags)] : []
    return [...head, ...file, kubectlCommand(opts.kubectl, flags, true)].join('\n') + '\n'
  }
  // No delivery in the config, or env: KEY=value lines (what compose reads from .env).
  if (!delivery || delivery.source === 'env') return head.join('\n') + '\n' + renderEnv(flags)
  return [...head, ...phaseLines(config, flags)].join('\n') + '\n'
}

/** Whether selective flags block no model: ENFORCE_MODELS absent or empty (not `all`). */
function blocksNothing(config: TenantFenceConfig, flags: Record<string, string>): boolean {
  const parsed = parseFlags(flags as RawFlags, protectedModels(config).map((m) => m.name))
  return parsed.enforceModels !== null && parsed.enforceModels.length === 0
}

function blocksNothingMessage(config: TenantFenceConfig, n: number): string {
  const bySeverity = protectedModels(config).map((m) => `${m.name} (${m.severity})`).join(', ')
  return [
    `phase ${n} would block nothing: it blocks the CRITICAL models (TENANT_ENFORCEMENT_ENFORCE_MODELS) and no model is CRITICAL.`,
    `  Models: ${bySeverity || '(none)'}.`,
    `  Set severity: 'CRITICAL' on the models to block first in the config (or phases[${n}].flags.TENANT_ENFORCEMENT_ENFORCE_MODELS),`,
    `  then run \`tenantfence phase env ${n}\` again; to print it anyway (selective that only logs), pass --allow-empty.`,
  ].join('\n')
}

export function rollbackText(config: TenantFenceConfig, kubectl?: string): string {
  const lines = config.rollback.description.replace(/\s+/g, ' ').trim()
  const head = `# Instant rollback: ${lines}\n`
  if (!kubectl) return head + rollbackLines(config).join('\n') + '\n'
  // An explicit workload: that kubectl command; a file user also gets the file form (the kubectl change alone would not reach a watching app).
  const delivery = config.rollout?.flags
  const file = delivery?.source === 'file' ? [`# the app reads ${delivery.path}: replace it whole`, flagFileCommand(delivery.path, rollbackFileFlags(config))] : []
  return head + [...file, kubectlCommand(kubectl, stringifyFlags(config.rollback.flags))].join('\n') + '\n'
}
