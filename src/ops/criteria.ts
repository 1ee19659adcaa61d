// Phase success criteria, defined once: what each kind measures (which counters, which label
// matchers, divided by what), how it is judged ("<" strict, "at most"), rounded and printed.
// Two evaluators read the same definition: PromQL for the phase gate and `status` (Prometheus),
// and counter deltas for the demo (a registry's snapshots, no Prometheus). Conventions:
// - Counts are whole numbers: increase() extrapolates (47.98 for 48 events), so counts are
//   rounded before they are judged and printed. Rates (per hour, per day) are not.
// - errorRate is blocked requests of users over requests of users (promql.ts: probes and
//   scrapes are not users, blocked jobs are not requests). With no request in the window it is
//   undefined: the gate reports NO DATA, which does not pass. A gate that passes on no traffic
//   would let a rollout advance on no evidence.
// - checkP95Ms with no checked query in the window is NO DATA for the same reason.
// - Evidence (DESIGN.md, "Thresholds, rates and gates"): a criterion is judged on the time the
//   app spent in the phase's mode, counted back from the evaluation time (the mode gauge, in
//   5-minute steps: promql.ts modeCoverage), and measured over that time only, never over a
//   window the data does not cover. Covering less than the criterion's window, a value that
//   already fails FAILS (99 CRITICAL violations in 40 minutes fail "none in 24 h"; 60 an hour
//   over 2 hours fails "fewer than 10 an hour"); one that would pass is NO DATA.
// - A counter that the app does not export reads nothing, never 0 (NO DATA). The app creates
//   every series of its protected models at start-up, so an exported counter with no series
//   matching the criterion's labels (no CRITICAL model) is a true 0.
// - Counts include each series' first event (promql.ts counterIncrease).
import { durationSeconds, type Criterion, type CriterionKind, type TenantFenceConfig } from '../config/schema.ts'
import { appScope, CHECK_QUANTILE, checkQuantileMs, decision, eq, errorRate, increaseSum, matches, promDuration, requestErrors, windowSeconds, selector, userRoutes, type Matcher } from '../generate/promql.ts'
import { METRIC } from '../telemetry/metric-names.ts'
import { bucketQuantile } from './metrics-text.ts'

export { durationSeconds }

export type Verdict = 'PASS' | 'FAIL' | 'NO DATA'

interface CounterQuery {
  metric: string
  matchers: Matcher[]
}

/** What a criterion measures. */
export type Measurement =
  /** the increase of the counters over the window; a rate when divided by hours or days */
  | { type: 'increase'; counter: CounterQuery; divideBy: number }
  | { type: 'errorRate' }
  | { type: 'quantileMs'; q: number }

export interface CriterionInfo {
  /** the unit the value prints in: "violations/h", "bypasses/day", "ms" */
  unit: string
  /** counts print and are judged as whole numbers */
  count: boolean
}

export const CRITERION_INFO: Record<CriterionKind, CriterionInfo> = {
  violationsPerHour: { unit: 'violations/h', count: false },
  criticalViolations: { unit: 'violations', count: true },
  violations: { unit: 'violations', count: true },
  errorRate: { unit: '%', count: false },
  enforcementErrors: { unit: 'blocked queries', count: true },
  bypassesPerDay: { unit: 'bypasses/day', count: false },
  checkP95Ms: { unit: 'ms', count: false },
  flagErrors: { unit: 'flag errors', count: true },
}

type CriterionLike = Pick<Criterion, 'kind' | 'window'> & Partial<Pick<Criterion, 'severity' | 'decision'>>

function violationMatchers(c: CriterionLike): Matcher[] {
  return [...(c.severity ? [eq('severity', c.severity)] : []), ...(c.decision ? [decision(c.decision)] : [])]
}

export function measurement(c: CriterionLike): Measurement {
  const hours = windowSeconds(c.window) / 3600
  const count = (metric: string, matchers: Matcher[] = [], divideBy = 1): Measurement => ({ type: 'increase', counter: { metric, matchers }, divideBy })
  switch (c.kind) {
    case 'violationsPerHour':
      return count(METRIC.violations, violationMatchers(c), hours)
    case 'criticalViolations':
      return count(METRIC.violations, [eq('severity', 'CRITICAL'), ...(c.decision ? [decision(c.decision)] : [])])
    case 'violations':
      return count(METRIC.violations, violationMatchers(c))
    case 'errorRate':
      return { type: 'errorRate' }
    case 'enforcementErrors':
      return count(METRIC.enforcementErrors)
    case 'bypassesPerDay':
      return count(METRIC.bypassUsage, [], hours / 24)
    case 'checkP95Ms':
      return { type: 'quantileMs', q: CHECK_QUANTILE }
    case 'flagErrors':
      return count(METRIC.flagErrors)
  }
}

const fmt = (x: number) => String(Number(x.toFixed(6)))

/**
 * The PromQL instant query whose value is the criterion's measured value, for this app's job,
 * over `window` (default the criterion's; the gate passes the time the app spent in the phase's
 * mode when that is shorter: rates then divide by that time).
 */
export function criterionPromQL(c: CriterionLike, config: TenantFenceConfig, window: string = c.window): string {
  const scope = appScope(config)
  const m = measurement({ ...c, window })
  switch (m.type) {
    case 'increase': {
      // no series of the counter at all: nothing (NO DATA); series, none matching: 0
      const exported = `on() (count(${selector(scope, m.counter.metric)}) * 0)`
      const sum = `(${increaseSum(scope, m.counter.metric, window, [], m.counter.matchers)} or ${exported})`
      return m.divideBy === 1 ? sum : `${sum} / ${fmt(m.divideBy)}`
    }
    case 'errorRate':
      return errorRate(config, scope, 'increase', window)
    case 'quantileMs':
      return checkQuantileMs(scope, window, m.q)
  }
}

/** Counter deltas over a window (the demo's registry snapshots): what Prometheus's increase() reads. */
export interface WindowCounters {
  /** the sum of the deltas of the series of `metric` matching every matcher; undefined when `metric` has no series */
  sum(metric: string, matchers: readonly Matcher[]): number | undefined
  /** the cumulative buckets of a histogram (seconds), summed over series */
  buckets(metric: string): { le: number; count: number }[]
}

/** A WindowCounters over samples (name, labels, delta). */
export function windowCounters(samples: ReadonlyArray<{ name: string; labels: Record<string, string>; value: number }>): WindowCounters {
  return {
    sum: (metric, matchers) => {
      const series = samples.filter((s) => s.name === metric)
      return series.length ? series.filter((s) => matchers.every((m) => matches(m, s.labels[m.label]))).reduce((a, s) => a + s.value, 0) : undefined
    },
    buckets: (metric) => {
      const byLe = new Map<number, number>()
      for (const s of samples) {
        if (s.name !== `${metric}_bucket`) continue
        const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le)
        byLe.set(le, (byLe.get(le) ?? 0) + s.value)
      }
      return [...byLe].map(([le, count]) => ({ le, count }))
    },
  }
}

/** Blocked requests of users / requests of users over a window; undefined with no request. */
export function windowErrorRate(config: { app: { probeRoutes: readonly string[] } }, w: WindowCounters): number | undefined {
  const requests = w.sum(METRIC.httpRequests, userRoutes(config)) ?? 0
  return requests > 0 ? (w.sum(METRIC.enforcementErrors, [requestErrors]) ?? 0) / requests : undefined
}

/** The criterion's measured value from counter deltas, as `tenantfence phase check` reads it from Prometheus. */
export function measureWindow(c: CriterionLike, config: TenantFenceConfig, w: WindowCounters): number | undefined {
  const m = measurement(c)
  switch (m.type) {
    case 'increase': {
      const n = w.sum(m.counter.metric, m.counter.matchers)
      return n === undefined ? undefined : n / m.divideBy
    }
    case 'errorRate':
      return windowErrorRate(config, w)
    case 'quantileMs': {
      const q = bucketQuantile(m.q, w.buckets(METRIC.checkDuration))
      return q === undefined ? undefined : q * 1000
    }
  }
}

/** The value as judged and printed: counts rounded to whole numbers, NaN as no data. */
export function settle(c: Pick<Criterion, 'kind'>, value: number | undefined): number | undefined {
  if (value === undefined || Number.isNaN(value)) return undefined
  return CRITERION_INFO[c.kind].count && Number.isFinite(value) ? Math.round(value) : value
}

/** PASS when the value is strictly below `below`, or at most `max`; no data never passes. */
export function judge(c: Pick<Criterion, 'kind' | 'max' | 'below'>, value: number | undefined): Verdict {
  const v = settle(c, value)
  if (v === undefined) return 'NO DATA'
  const ok = c.below !== undefined ? v < c.below : v <= c.max!
  return ok ? 'PASS' : 'FAIL'
}

/** A measured value or threshold as people read it: counts whole, rates per hour or day, errorRate in %. */
export function formatValue(kind: CriterionKind, value: number | undefined): string {
  const v = settle({ kind }, value)
  if (v === undefined) return 'no data'
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf'
  if (kind === 'errorRate') return `${Number((v * 100).toPrecision(4))} %`
  const shown = Number.isInteger(v) ? v.toLocaleString('en-US') : String(Number(v.toPrecision(4)))
  return `${shown} ${CRITERION_INFO[kind].unit}`
}

/** "below 10 violations/h", "at most 0 violations". */
export function formatLimit(c: Pick<Criterion, 'kind' | 'max' | 'below'>): string {
  return c.below !== undefined ? `below ${formatValue(c.kind, c.below)}` : `at most ${formatValue(c.kind, c.max)}`
}

/** What the data covers: the time the app spent in the phase's mode, back from the evaluation time. */
export interface Evidence {
  /** seconds of the criterion's window in which the app reported the phase's mode (0: none) */
  covered: number
  /** why there is no evidence when `covered` is 0 ("job X reports mode log_only, not enforce") */
  missing?: string
}

/** The whole window covered: what a caller that checked nothing else would claim. */
export const fullEvidence = (c: Pick<Criterion, 'window'>): Evidence => ({ covered: durationSeconds(c.window) })

/** The window a criterion is measured over: its own, or the shorter time the evidence covers. */
export function measuredWindow(c: Pick<Criterion, 'window'>, evidence: Evidence): string {
  return evidence.covered >= durationSeconds(c.window) ? c.window : promDuration(evidence.covered)
}

export interface CriterionResult {
  criterion: Criterion
  /** the settled value (counts rounded), undefined with no data */
  value: number | undefined
  verdict: Verdict
  /** "4.2 violations/h (below 10 violations/h over 24h)" */
  text: string
  /** the window the value was measured over (shorter than the criterion's when the data is) */
  measuredOver: string
  /** why the verdict is NO DATA, or why a FAIL stands on part of the window */
  note?: string
}

const NO_VALUE: Record<string, string> = {
  errorRate: 'no HTTP request of users in the window',
  checkP95Ms: 'no checked query in the window',
}

/**
 * The verdict on a measured value and its evidence. With the whole window covered: PASS or
 * FAIL. With part of it: FAIL when the value already fails over that part, else NO DATA (not
 * enough time to pass). With none, or no value: NO DATA, saying what is missing.
 */
export function criterionResult(criterion: Criterion, measured: number | undefined, evidence: Evidence = fullEvidence(criterion)): CriterionResult {
  const window = durationSeconds(criterion.window)
  const over = measuredWindow(criterion, evidence)
  const covered = Math.min(evidence.covered, window)
  const value = covered > 0 ? settle(criterion, measured) : undefined
  let verdict = judge(criterion, value)
  let note: string | undefined
  if (covered <= 0) note = evidence.missing ?? 'no time in the phase\'s mode in the window'
  else if (value === undefined) note = NO_VALUE[criterion.kind] ?? `the app exports no ${measurement(criterion).type === 'increase' ? (measurement(criterion) as { counter: CounterQuery }).counter.metric : 'series'} in the window`
  else if (covered < window) {
    note = `the data covers ${over} of the ${criterion.window} window`
    if (verdict === 'PASS') {
      verdict = 'NO DATA'
      note += `: too short to pass (${criterion.window} needed)`
    } else note += ': fails on that alone'
  }
  const span = covered > 0 && covered < window ? `over ${over} of ${criterion.window}` : `over ${criterion.window}`
  return { criterion, value, verdict, text: `${formatValue(criterion.kind, value)} (${formatLimit(criterion)} ${span})`, measuredOver: over, ...(note ? { note } : {}) }
}
