// The phase gate: evaluate a phase's success criteria against Prometheus.
import type { PhaseConfig, TenantFenceConfig } from '../config/schema.ts'
import { CliError } from '../cli-error.ts'
import { closest } from '../config/suggest.ts'
import { criterionPromQL, criterionResult, formatLimit, formatValue, type CriterionResult as Judged } from './criteria.ts'
import type { PrometheusClient } from './prometheus-client.ts'

export interface CriterionResult extends Judged {
  promql: string
}

export interface GateResult {
  phase: PhaseConfig
  /** unix seconds, or undefined for Prometheus's now */
  at: number | undefined
  results: CriterionResult[]
  passed: boolean
  next: PhaseConfig | undefined
}

/** The phase `n` of the config, or a message naming the valid phases. */
export function findPhase(config: TenantFenceConfig, raw: string | undefined): PhaseConfig {
  const valid = config.phases.map((p) => `${p.phase} (${p.name})`).join(', ')
  if (raw === undefined) throw new CliError(`name a phase: ${valid}`, 2)
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN
  const phase = config.phases.find((p) => p.phase === n)
  if (!phase) throw new CliError(`phase "${raw}" does not exist${phaseHint(config, raw)}; phases are ${valid}`, 2)
  return phase
}

/** " (did you mean phase 2, …?)" for a phase named by its name or mode ("selective", "log-only") instead of its number. */
function phaseHint(config: TenantFenceConfig, raw: string): string {
  const names = config.phases.flatMap((p) => [[p.name, p.phase], [p.mode, p.phase]] as const)
  const near = closest(raw.replace(/[-\s]/g, '_'), names.map(([n]) => n.replace(/[-\s]/g, '_')))
  const hit = names.find(([n]) => n.replace(/[-\s]/g, '_') === near)
  return hit ? ` (did you mean phase ${hit[1]}, ${config.phases[hit[1]]!.name}?)` : ''
}

export async function evaluateGate(config: TenantFenceConfig, phase: PhaseConfig, prom: PrometheusClient): Promise<GateResult> {
  const results: CriterionResult[] = []
  for (const criterion of phase.successCriteria) {
    const promql = criterionPromQL(criterion, config)
    results.push({ ...criterionResult(criterion, await prom.scalar(promql)), promql })
  }
  const passed = results.every((r) => r.verdict === 'PASS')
  return { phase, at: prom.at, results, passed, next: config.phases.find((p) => p.phase === phase.phase + 1) }
}

export function renderGate(g: GateResult, opts: { verbose?: boolean } = {}): string {
  const out: string[] = []
  const when = g.at === undefined ? 'now' : new Date(g.at * 1000).toISOString()
  out.push(`Phase ${g.phase.phase}: ${g.phase.name} (mode ${g.phase.mode}): success criteria at ${when}`)
  if (g.results.length === 0) out.push('  (this phase lists no success criteria)')
  const rows = g.results.map((r) => [r.verdict, r.criterion.description, `${formatValue(r.criterion.kind, r.value)}`, formatLimit(r.criterion), `over ${r.criterion.window}`])
  const widths = [7, ...[1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length)))]
  g.results.forEach((r, i) => {
    const row = rows[i]!
    out.push(`  ${row[0]!.padEnd(widths[0]!)} ${row[1]!.padEnd(widths[1]!)}  ${row[2]!.padStart(widths[2]!)}  ${row[3]!.padEnd(widths[3]!)}  ${row[4]}`)
    if (opts.verbose) out.push(`          ${r.promql}`)
    if (r.verdict === 'NO DATA') out.push(`          no data: ${r.criterion.kind === 'errorRate' ? 'no HTTP request in the window' : 'no checked query in the window'}; the gate needs evidence`)
  })
  out.push('')
  const failed = g.results.filter((r) => r.verdict !== 'PASS').length
  if (g.passed) {
    if (g.next) {
      out.push(`All ${g.results.length} criteria hold. Next: phase ${g.next.phase}, ${g.next.name} (${g.next.goal})`)
      out.push(`  tenantfence phase env ${g.next.phase}`)
    } else out.push(`All ${g.results.length} criteria hold. Phase ${g.phase.phase} is the last phase: stay here.`)
  } else {
    out.push(`${failed} of ${g.results.length} criteria do not hold: stay in phase ${g.phase.phase}.`)
  }
  return out.join('\n') + '\n'
}
