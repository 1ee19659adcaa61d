// Phase success criteria as PromQL: one instant query per criterion kind, evaluated at the end
// of the criterion's window. Reused by the phase gate, the demo and anything that wants to say
// "does this criterion hold". Conventions:
// - Counters that have never been incremented may have no series at all (prom-client exports
//   labelled counters only once a label set is used): `or vector(0)` makes an absent counter
//   read 0, so "no violation series" is "no violation".
// - errorRate's denominator is HTTP requests. With no request in the window the ratio is
//   undefined: the query returns nothing (or NaN) and the gate reports NO DATA, which does not
//   pass. A gate that passes on no traffic would let a rollout advance on no evidence.
// - checkP95Ms with no checked query in the window is NO DATA for the same reason.
// - Every selector carries the app's job (config.app.job), like the alert rules and dashboards:
//   one Prometheus may scrape many apps. The PromQL pieces come from generate/promql.ts, so a
//   gate measures exactly what the dashboard panel and the alert show.
import { durationSeconds, type CriterionKind, type Criterion, type TenantFenceConfig } from '../config/schema.ts'
import { checkP95Ms, counterIncrease, selector } from '../generate/promql.ts'
import { METRIC } from '../telemetry/metric-names.ts'

export { durationSeconds }

const fmt = (x: number) => String(Number(x.toFixed(6)))

export interface CriterionInfo {
  /** how the measured value reads: "violations/h", "%", "ms" */
  unit: string
  /** true when an absent series means 0 (counters); false when it means no data */
  absentIsZero: boolean
}

export const CRITERION_INFO: Record<CriterionKind, CriterionInfo> = {
  violationsPerHour: { unit: 'violations/h', absentIsZero: true },
  criticalViolations: { unit: 'violations', absentIsZero: true },
  violations: { unit: 'violations', absentIsZero: true },
  errorRate: { unit: 'ratio', absentIsZero: false },
  enforcementErrors: { unit: 'blocked queries', absentIsZero: true },
  bypassesPerDay: { unit: 'bypasses/day', absentIsZero: true },
  checkP95Ms: { unit: 'ms', absentIsZero: false },
  flagErrors: { unit: 'flag errors', absentIsZero: true },
}

/** The PromQL instant query whose value is the criterion's measured value, for this app's job. */
export function criterionPromQL(c: Pick<Criterion, 'kind' | 'window' | 'severity'>, config: TenantFenceConfig): string {
  const w = c.window
  const hours = durationSeconds(w) / 3600
  // A counter with no series yet reads 0 (see above).
  const counter = (metric: string, matchers: Record<string, string> = {}) => `(sum(increase(${selector(config, metric, matchers)}[${w}])) or vector(0))`
  switch (c.kind) {
    case 'violationsPerHour':
      return `${counter(METRIC.violations)} / ${fmt(hours)}`
    case 'criticalViolations':
      return counter(METRIC.violations, { severity: 'CRITICAL' })
    case 'violations':
      return counter(METRIC.violations, c.severity ? { severity: c.severity } : {})
    case 'errorRate':
      return `${counter(METRIC.enforcementErrors)} / ${counterIncrease(config, METRIC.httpRequests, w)}`
    case 'enforcementErrors':
      return counter(METRIC.enforcementErrors)
    case 'bypassesPerDay':
      return `${counter(METRIC.bypassUsage)} / ${fmt(hours / 24)}`
    case 'checkP95Ms':
      return checkP95Ms(config, w)
    case 'flagErrors':
      return counter(METRIC.flagErrors)
  }
}

export type Verdict = 'PASS' | 'FAIL' | 'NO DATA'

/** A criterion holds when the measured value is at most its max; no data never holds. */
export function judge(c: Pick<Criterion, 'kind' | 'max'>, value: number | undefined): Verdict {
  if (value === undefined || Number.isNaN(value)) return CRITERION_INFO[c.kind].absentIsZero ? (c.max >= 0 ? 'PASS' : 'FAIL') : 'NO DATA'
  return value <= c.max ? 'PASS' : 'FAIL'
}

/** A measured value or threshold as people read it (errorRate as a percentage). */
export function formatValue(kind: CriterionKind, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return 'no data'
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf'
  if (kind === 'errorRate') return `${Number((value * 100).toPrecision(4))} %`
  const unit = CRITERION_INFO[kind].unit
  const rounded = Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)))
  return `${rounded} ${unit}`
}
