// tenantfence phase env|rollback|check: the flags of each phase and the gate between phases.
import { parseCommand, type OptionSpec } from '../cli-args.ts'
import { CliError } from '../cli-error.ts'
import { closest } from '../config/suggest.ts'
import { loadConfig } from '../config/load.ts'
import { parseAt } from './dates.ts'
import { evaluateGate, findPhase, renderGate } from './gate.ts'
import { baseUrl } from './http-errors.ts'
import { kubectlTarget, phaseEnvText, rollbackText } from './phase-env.ts'
import { PrometheusClient } from './prometheus-client.ts'
import { databaseGate } from './rls-check.ts'

export const summary = "phase flags (env), the instant rollback, and the phase gate (check)"

const ENV_HELP = `tenantfence phase env <n> [--kubectl deployment/NAME] [--allow-empty] [--config FILE]

Phase n's TENANT_ENFORCEMENT_* flags, as what to run where the app reads them (config
rollout.flags): the atomic rewrite of its flag file, a kubectl set env command for its
deployment (that also unsets the flags the phase does not name), or KEY=value lines for its
environment (also without rollout.flags: the lines are what compose reads from .env).

  --kubectl W      one kubectl set env command for this workload (deployment/NAME), whatever the config says
  --allow-empty    phase 2 when no model is CRITICAL: print it anyway, with an explicit empty
                   TENANT_ENFORCEMENT_ENFORCE_MODELS (selective that blocks nothing); without it the
                   command refuses (exit 1) and names the severities to set
  --config FILE    the config (default: tenantfence.config.* in this directory)`

const ROLLBACK_HELP = `tenantfence phase rollback [--kubectl deployment/NAME] [--config FILE]

The instant rollback (config.rollback, log only by default) as what to run where the app reads
its flags (config.rollout.flags): a flag file is rewritten whole (rollback flags over the log-only
phase's, written to a temporary file then renamed), a Kubernetes deployment gets kubectl set env,
an environment gets KEY=value lines. Without rollout.flags: every form, with placeholders.

  --kubectl W      a kubectl set env command for this workload (printed after the flag-file form for file users)
  --config FILE    the config (default: tenantfence.config.* in this directory)`

const CHECK_HELP = `tenantfence phase check <n> --prometheus URL [--at RFC3339|unix] [--config FILE] [--verbose]
                           [--database URL [--schema FILE]]

Evaluates phase n's success criteria; exit 0 only when all hold, 1 when one does not.

  --prometheus URL   Prometheus base URL (the app's series: job="<config.app.job>")
  --at TIME          evaluate at this time instead of now
  --verbose          print each criterion's PromQL
  --database URL     (phase 4) also check that every tenant-owned table has row-level security
                     enabled and forced with its policies
  --schema FILE      the Prisma schema that gives the table names (default: prisma/schema.prisma)
  --config FILE      the config (default: tenantfence.config.* in this directory)`

export const HELP = `tenantfence phase <env|rollback|check> ...

  phase env <n>        phase n's flags, for where the app reads them
  phase rollback       the instant rollback, for where the app reads its flags
  phase check <n>      evaluate phase n's success criteria (exit 0 when all hold)

Run \`tenantfence phase <env|rollback|check> --help\` for the options of each.`

const VERBS = ['env', 'rollback', 'check'] as const
const text = { type: 'string' } as const
const flag = { type: 'boolean' } as const
const OPTIONS: Record<(typeof VERBS)[number], OptionSpec> = {
  env: { kubectl: text, config: text, 'allow-empty': flag },
  rollback: { kubectl: text, config: text },
  check: { prometheus: text, config: text, at: text, database: text, schema: text, verbose: flag },
}
const HELPS = { env: ENV_HELP, rollback: ROLLBACK_HELP, check: CHECK_HELP }

export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    console.log(HELP)
    return verb ? 0 : 2
  }
  if (!(VERBS as readonly string[]).includes(verb)) {
    const near = closest(verb, VERBS)
    throw new CliError(`unknown phase command "${verb}"${near ? ` (did you mean "phase ${near}"?)` : ''}; use env, rollback or check\n\n${HELP}`, 2)
  }
  const v = verb as (typeof VERBS)[number]
  const { values, positionals } = parseCommand(rest, OPTIONS[v], HELPS[v], v !== 'rollback')
  if (values.help) {
    console.log(HELPS[v])
    return 0
  }
  const str = (k: string) => values[k] as string | undefined
  if (positionals.length > 1) throw new CliError(`unexpected argument "${positionals[1]}"\n\n${HELPS[v]}`, 2)
  const kubectl = str('kubectl') === undefined ? undefined : kubectlTarget(str('kubectl')!)
  switch (v) {
    case 'env': {
      const config = await loadConfig(str('config'))
      const phase = findPhase(config, positionals[0])
      process.stdout.write(phaseEnvText(config, phase.phase, { kubectl, allowEmpty: values['allow-empty'] === true }))
      return 0
    }
    case 'rollback': {
      process.stdout.write(rollbackText(await loadConfig(str('config')), kubectl))
      return 0
    }
    case 'check': {
      const prometheus = str('prometheus')
      const database = str('database')
      if (!prometheus && !database) throw new CliError('phase check needs --prometheus URL (example: --prometheus http://localhost:9090), or --database URL for row-level security', 2)
      const at = str('at') === undefined ? undefined : parseAt(str('at')!)
      const config = await loadConfig(str('config'))
      const phase = findPhase(config, positionals[0])
      let passed = true
      if (prometheus) {
        const result = await evaluateGate(config, phase, new PrometheusClient(baseUrl(prometheus, '--prometheus'), at))
        process.stdout.write(renderGate(result, { verbose: values.verbose === true }))
        passed = result.passed
      }
      if (database) passed = (await databaseGate(config, database, str('schema'))) && passed
      return passed ? 0 : 1
    }
  }
}
