// tenantfence phase env|rollback|check: the flags of each phase and the gate between phases.
import { CliError, parseArgs } from '../cli-error.ts'
import { loadConfig } from '../config/load.ts'
import { parseAt } from './dates.ts'
import { evaluateGate, findPhase, renderGate } from './gate.ts'
import { baseUrl } from './http-errors.ts'
import { kubectlTarget, phaseEnvText, rollbackText } from './phase-env.ts'
import { PrometheusClient } from './prometheus-client.ts'
import { databaseGate } from './rls-check.ts'

export const summary = "phase flags (env), the instant rollback, and the phase gate (check)"

export const HELP = `tenantfence phase <env|rollback|check> ...

  phase env <n> [--kubectl deployment/NAME] [--config FILE]
      phase n's TENANT_ENFORCEMENT_* flags as KEY=value lines, or one kubectl set env command
  phase rollback [--kubectl deployment/NAME] [--config FILE]
      the instant rollback (config.rollback)
  phase check <n> --prometheus URL [--at RFC3339|unix] [--config FILE] [--verbose]
                  [--database URL [--schema FILE]]
      evaluate phase n's success criteria; exit 0 only when all hold, 1 when one does not;
      with --database (phase 4), also that every tenant-owned table has row-level security
      enabled and forced with its policies (the Prisma schema gives the table names)`

export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv
  if (!verb || verb === '--help' || verb === 'help') {
    console.log(HELP)
    return verb ? 0 : 2
  }
  switch (verb) {
    case 'env': {
      const { values, positionals } = parseArgs(rest, { strings: ['kubectl', 'config'] })
      const kubectl = values.kubectl === undefined ? undefined : kubectlTarget(values.kubectl)
      const config = await loadConfig(values.config)
      const phase = findPhase(config, positionals[0])
      if (positionals.length > 1) throw new CliError(`unexpected argument "${positionals[1]}"`, 2)
      process.stdout.write(phaseEnvText(config, phase.phase, kubectl))
      return 0
    }
    case 'rollback': {
      const { values, positionals } = parseArgs(rest, { strings: ['kubectl', 'config'] })
      if (positionals.length) throw new CliError(`unexpected argument "${positionals[0]}"`, 2)
      const kubectl = values.kubectl === undefined ? undefined : kubectlTarget(values.kubectl)
      process.stdout.write(rollbackText(await loadConfig(values.config), kubectl))
      return 0
    }
    case 'check': {
      const { values, bools, positionals } = parseArgs(rest, { strings: ['prometheus', 'config', 'at', 'database', 'schema'], booleans: ['verbose'] })
      if (!values.prometheus && !values.database) throw new CliError('phase check needs --prometheus URL (example: --prometheus http://localhost:9090), or --database URL for row-level security', 2)
      const at = values.at === undefined ? undefined : parseAt(values.at)
      const config = await loadConfig(values.config)
      const phase = findPhase(config, positionals[0])
      let passed = true
      if (values.prometheus) {
        const result = await evaluateGate(config, phase, new PrometheusClient(baseUrl(values.prometheus, '--prometheus'), at))
        process.stdout.write(renderGate(result, { verbose: bools.verbose }))
        passed = result.passed
      }
      if (values.database) passed = (await databaseGate(config, values.database, values.schema)) && passed
      return passed ? 0 : 1
    }
    default:
      throw new CliError(`unknown phase command "${verb}"; use env, rollback or check\n\n${HELP}`, 2)
  }
}
