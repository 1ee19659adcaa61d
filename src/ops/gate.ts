// The phase gate: evaluate a phase's success criteria against Prometheus.
import type { PhaseConfig, TenantFenceConfig } from '../config/schema.ts'
import { CliError } from '../cli-error.ts'
import { closest } from '../config/suggest.ts'
import { durationSeconds } from '../config/schema.ts'
import { appScope, COVERAGE_STEP_SECONDS, modeCoverage, selector } from '../generate/promql.ts'
import { METRIC } from '../telemetry/metric-names.ts'
import { criterionPromQL, criterionResult, formatLimit, formatValue, measuredWindow, type CriterionResult as Judged, type Evidence } from './criteria.ts'
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

/** "job tenantfence-demo" or "every job" (a config without app.job). */
const jobName = (config: TenantFenceConfig) => (config.app.job ? `job ${config.app.job}` : 'any job')

/** Why there is no time in the phase's mode now: no series of the job, or the modes it reports instead. */
async function missingEvidence(config: TenantFenceConfig, phase: PhaseConfig, prom: PrometheusClient): Promise<string> {
  const modes = (await prom.query(`count by (mode) (${selector(appScope(config), METRIC.mode)} == 1)`)).map((s) => s.metric.mode ?? '?').sort()
  if (modes.length === 0) return `no series of ${jobName(config)} reports a mode now (${METRIC.mode}): not scraped, or config.app.job names another job`
  return `${jobName(config)} reports mode ${modes.join(' and ')} now, not ${phase.mode}: phase ${phase.phase} is judged on time spent in ${phase.mode}`
}

/** The time (seconds, up to `window`) the app has reported the phase's mode, back from the evaluation time. */
export async function phaseEvidence(config: TenantFenceConfig, phase: PhaseConfig, window: string, prom: PrometheusClient): Promise<Evidence> {
  const since = await prom.scalar(modeCoverage(appScope(config), phase.mode, window))
  const covered = since === undefined ? durationSeconds(window) : Math.max(0, Math.floor(since) - COVERAGE_STEP_SECONDS)
  return covered > 0 ? { covered } : { covered: 0, missing: await missingEvidence(config, phase, prom) }
}

export async function evaluateGate(config: TenantFenceConfig, phase: PhaseConfig, prom: PrometheusClient): Promise<GateResult> {
  const results: CriterionResult[] = []
  for (const criterion of phase.successCriteria) {
    const evidence = await phaseEvidence(config, phase, criterion.window, prom)
    const promql = criterionPromQL(criterion, config, measuredWindow(criterion, evidence))
    const measured = evidence.covered > 0 ? await prom.scalar(promql) : undefined
    results.push({ ...criterionResult(criterion, measured, evidence), promql })
  }
  const passed = results.every((r) => r.verdict === 'PASS')
  return { phase, at: prom.at, results, passed, next: config.phases.find((p) => p.phase === phase.phase + 1) }
}

export function renderGate(g: GateResult, opts: { verbose?: boolean } = {}): string {
  const out: string[] = []
  const when = g.at === undefined ? 'now' : new Date(g.at * 1000).toISOString()
  out.push(`Phase ${g.phase.phase}: ${g.phase.name} (mode ${g.phase.mode}): success criteria at ${when}`)
  if (g.results.length === 0) out.push('  (this phase lists no success criteria)')
  const over = (r: CriterionResult) => (r.measuredOver === r.criterion.window || r.value === undefined ? `over ${r.criterion.window}` : `over ${r.measuredOver} of ${r.criterion.window}`)
  const rows = g.results.map((r) => [r.verdict, r.criterion.description, `${formatValue(r.criterion.kind, r.value)}`, formatLimit(r.criterion), over(r)])
  const widths = [7, ...[1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length)))]
  g.results.forEach((r, i) => {
    const row = rows[i]!
    out.push(`  ${row[0]!.padEnd(widths[0]!)} ${row[1]!.padEnd(widths[1]!)}  ${row[2]!.padStart(widths[2]!)}  ${row[3]!.padEnd(widths[3]!)}  ${row[4]}`)
    if (opts.verbose) out.push(`          ${r.promql}`)
    if (r.note) out.push(`          ${r.verdict === 'NO DATA' ? 'no data' : 'partial data'}: ${r.note}${r.verdict === 'NO DATA' ? '; the gate needs evidence' : ''}`)
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
