// The instant rollback (config.rollback) and a phase's flags as what an on-call engineer runs
// where the app reads its flags (config.rollout.flags): rewrite the flag file it watches, set the
// env of its Kubernetes deployment, or set its environment and restart it. One renderer for the
// alerts, the runbooks, `status`, `phase rollback` and `phase env`, so they never disagree and
// never guess a deployment name: without rollout.flags they print every form with placeholders
// and say what to set.
import type { FlagDelivery, PhaseConfig, TenantFenceConfig } from '../config/schema.ts'
import { stringifyFlags } from '../config/define.ts'
import { renderEnv, shellWord } from '../config/flag-env.ts'

type EnvFlags = Record<string, string>

/** What to set in the config to get exact commands (named in every generic rollback). */
export const SET_ROLLOUT_FLAGS =
  "rollout.flags in the config says where the app reads its flags ({ source: 'file', path } | { source: 'kubernetes', deployment, namespace } | { source: 'env' } | { source: 'service', name })"

/**
 * The rollback as a complete set of flags, for a flag file (a file replaces every flag: one
 * holding only MODE=log_only would also turn bypass off): rollback.flags over the flags of the
 * phase rolled back from, or, when that is not known, of the phase whose mode the rollback sets.
 */
export function rollbackFileFlags(config: TenantFenceConfig, from?: PhaseConfig): EnvFlags {
  const target = String(config.rollback.flags.TENANT_ENFORCEMENT_MODE ?? '')
  const base = from ?? config.phases.find((p) => p.mode === target)
  return { ...stringifyFlags(base?.flags ?? {}), ...stringifyFlags(config.rollback.flags) }
}

/** Replace the flag file in one step: write a temporary file beside it, then rename it (the app never reads half a file). */
export function flagFileCommand(path: string, flags: EnvFlags): string {
  const lines = Object.entries(flags).map(([k, v]) => shellWord(`${k}=${v}`))
  const tmp = shellWord(`${path}.tmp`)
  return `printf '%s\\n' ${lines.join(' ')} > ${tmp} && mv ${tmp} ${shellWord(path)}`
}

/** `kubectl -n NS set env deployment/NAME [-c C] KEY=value …` (with unsetOthers, `KEY-` for the flags not named). */
export function kubectlCommand(
  target: { deployment: string; namespace?: string; container?: string } | string,
  flags: EnvFlags,
  unsetOthers = false,
): string {
  const t = typeof target === 'string' ? { workload: target } : { workload: `deployment/${target.deployment}`, ...target }
  const ns = 'namespace' in t && t.namespace ? `-n ${t.namespace} ` : ''
  const container = 'container' in t && t.container ? ` -c ${t.container}` : ''
  return renderEnv(flags, { kubectl: `${t.workload}${container}`, unsetOthers }).trimEnd().replace(/^kubectl /, `kubectl ${ns}`)
}

/** A flag service's keys and values: its own key of each flag (rollout.flags.keys), else the flag's name. An empty list reads as "" (set, empty). */
function serviceFlags(delivery: Extract<FlagDelivery, { source: 'service' }>, flags: EnvFlags): Array<[string, string]> {
  return Object.entries(flags).map(([k, v]) => [delivery.keys?.[k] ?? k, v === '' ? '""' : v])
}

const PLACEHOLDER_FILE = '<flag file>'
const PLACEHOLDER_K8S = { deployment: '<deployment>', namespace: '<namespace>' }

/**
 * Shell lines (comments start with #) that put these flags in force where the app reads them.
 * `file` is the complete set a flag file gets; `overlay` the keys a kubectl or env change sets.
 */
function applyLines(delivery: FlagDelivery | undefined, file: EnvFlags, overlay: EnvFlags, unsetOthers: boolean): string[] {
  switch (delivery?.source) {
    case 'file':
      return [`# the app watches ${delivery.path}: the next query after the rename reads these flags, no restart`, flagFileCommand(delivery.path, file)]
    case 'kubernetes':
      return [`# kubectl set env restarts the deployment's pods with these flags`, kubectlCommand(delivery, overlay, unsetOthers)]
    case 'env':
      return ["# set these in the app's environment and restart it (a running process cannot see a changed environment)", ...renderEnv(overlay).trimEnd().split('\n')]
    case 'service':
      return [
        `# set these flags in ${delivery.name}: the app follows the flag service's change, no restart`,
        ...serviceFlags(delivery, overlay).map(([k, v]) => `#   ${k} = ${v}`),
        ...(unsetOthers ? ['#   and delete every other TENANT_ENFORCEMENT_* flag there (an unset flag is its default)'] : []),
      ]
    case undefined:
      return [
        `# ${SET_ROLLOUT_FLAGS}: until it does, the forms with placeholders.`,
        '# a flag file the app watches (tenantEnforcement flags: { file }): replace it whole',
        `#   ${flagFileCommand(PLACEHOLDER_FILE, file)}`,
        '# a Kubernetes deployment (restarts its pods):',
        `#   ${kubectlCommand(PLACEHOLDER_K8S, overlay, unsetOthers)}`,
        "# the app's environment (then restart it):",
        ...renderEnv(overlay).trimEnd().split('\n'),
      ]
  }
}

/** The rollback's shell lines (no title), for runbooks, `status` and `phase rollback`. */
export function rollbackLines(config: TenantFenceConfig, from?: PhaseConfig): string[] {
  return applyLines(config.rollout?.flags, rollbackFileFlags(config, from), stringifyFlags(config.rollback.flags), false)
}

/** A phase's flags as shell lines for where the app reads them (`phase env`). */
export function phaseLines(config: TenantFenceConfig, flags: EnvFlags): string[] {
  return applyLines(config.rollout?.flags, flags, flags, true)
}

/**
 * The rollback in one sentence for an alert annotation or a runbook step, e.g. "run `kubectl -n
 * shop set env deployment/api TENANT_ENFORCEMENT_MODE=log_only`".
 */
export function rollbackCommand(config: TenantFenceConfig, from?: PhaseConfig): string {
  const delivery = config.rollout?.flags
  const overlay = stringifyFlags(config.rollback.flags)
  const pairs = renderEnv(overlay).trimEnd().split('\n').join(' ')
  switch (delivery?.source) {
    case 'file':
      return `run \`${flagFileCommand(delivery.path, rollbackFileFlags(config, from))}\``
    case 'kubernetes':
      return `run \`${kubectlCommand(delivery, overlay)}\``
    case 'env':
      return `set ${pairs} in the app's environment and restart it`
    case 'service':
      return `set ${serviceFlags(delivery, overlay).map(([k, v]) => `${k} = ${v}`).join(', ')} in ${delivery.name} (the app follows the change, no restart)`
    case undefined:
      return [
        `set ${pairs} where the app reads its flags (a watched flag file: rewrite it whole, then mv it into place;`,
        `Kubernetes: \`${kubectlCommand(PLACEHOLDER_K8S, overlay)}\`; else its environment, then restart); ${SET_ROLLOUT_FLAGS}`,
      ].join(' ')
  }
}
