// PromQL the dashboards, the alert rules, the phase gate and `status` share, so a panel shows
// exactly what an alert or a gate measures. A scope picks the app's series: the config's job
// (when it names one) for rules and gates, the dashboard's job/instance variables for panels.
import { durationSeconds, type ReportedMode, type TenantFenceConfig } from '../config/schema.ts'
import { METRIC } from '../telemetry/metric-names.ts'
import { NO_REQUEST_ENDPOINT } from '../telemetry/metrics.ts'

/** The range Grafana substitutes per panel; alerts use fixed windows instead. */
export const RATE_INTERVAL = '$__rate_interval'

/** The percentiles of the check the dashboards draw; alerts and gates use the first. */
export const CHECK_QUANTILE = 0.95
export const CHECK_QUANTILES = [0.95, 0.99] as const

export { NO_REQUEST_ENDPOINT }

export interface Matcher {
  label: string
  op: '=' | '!=' | '=~' | '!~'
  value: string
}

export const eq = (label: string, value: string): Matcher => ({ label, op: '=', value })
export const ne = (label: string, value: string): Matcher => ({ label, op: '!=', value })

/** Regular-expression metacharacters escaped, so a route such as /metrics matches only itself. */
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** `label!~"a|b"`: none of these exact values. */
export const notIn = (label: string, values: readonly string[]): Matcher => ({ label, op: '!~', value: values.map(escapeRegex).join('|') })

/** Does a label value satisfy a matcher (Prometheus's anchored regular expressions)? */
export function matches(m: Matcher, value: string | undefined): boolean {
  const v = value ?? ''
  switch (m.op) {
    case '=':
      return v === m.value
    case '!=':
      return v !== m.value
    case '=~':
      return new RegExp(`^(?:${m.value})$`).test(v)
    case '!~':
      return !new RegExp(`^(?:${m.value})$`).test(v)
  }
}

export interface Scope {
  readonly matchers: readonly Matcher[]
}

/** The app's series in rules, gates and status: its job when the config names one, else every job. */
export function appScope(config: TenantFenceConfig): Scope {
  return { matchers: config.app.job ? [eq('job', config.app.job)] : [] }
}

/** The dashboards' variables (multi-value, so regular-expression matchers). */
export const DASHBOARD_SCOPE: Scope = { matchers: [{ label: 'job', op: '=~', value: '$job' }, { label: 'instance', op: '=~', value: '$instance' }] }

export function selector(scope: Scope, metric: string, extra: readonly Matcher[] = []): string {
  const all = [...scope.matchers, ...extra]
  return all.length ? `${metric}{${all.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(', ')}}` : metric
}

export function sumBy(by: readonly string[]): string {
  return by.length ? `sum by (${by.join(', ')}) ` : 'sum'
}

/** `sum by (…) (fn(metric{…}[window]))` of a counter. */
export function counterSum(scope: Scope, fn: 'rate' | 'increase', metric: string, window: string, by: readonly string[] = [], extra: readonly Matcher[] = [], offset?: string): string {
  return `${sumBy(by)}(${fn}(${selector(scope, metric, extra)}[${window}]${offset ? ` offset ${offset}` : ''}))`
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }

/** A Prometheus duration in seconds, compound ones too (1h30m, 1d1s). */
export function windowSeconds(window: string): number {
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(window)) return durationSeconds(window) // throws, naming it
  return [...window.matchAll(/(\d+)(ms|s|m|h|d|w)/g)].reduce((a, m) => a + Number(m[1]) * UNIT_SECONDS[m[2]!]!, 0)
}

/** Whole seconds as a Prometheus duration: 86400 → 1d, 2400 → 40m, 86401 → 1d1s, 0 → 0s. */
export function promDuration(seconds: number): string {
  let s = Math.max(0, Math.floor(seconds))
  let out = ''
  for (const [unit, n] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= n) out += `${Math.floor(s / n)}${unit}`
    s %= n
  }
  return out || '0s'
}

/** How far back a counter series must have existed to count as "existing before" a window (at least this). */
export const BORN_LOOKBACK = '1h'

/**
 * The increase of each series of a counter over `window`, first event included: a series born in
 * the window (no sample in the `BORN_LOOKBACK` (or `window`, if longer) before it, up to a second
 * before its start: range selectors include both ends) counts its whole value,
 * since the process started it at 0 just before (its first sample may already be above 0: an
 * event before the first scrape, which increase() cannot see); a series that existed before
 * counts its increase(), which handles restarts (back to 0) as resets, never as events. A
 * scrape that fails briefly at the window's start does not make an old series look newborn.
 */
export function counterIncrease(scope: Scope, metric: string, window: string, extra: readonly Matcher[] = [], offset?: string): string {
  const sel = selector(scope, metric, extra)
  const off = offset ? ` offset ${offset}` : ''
  const lookback = windowSeconds(window) >= windowSeconds(BORN_LOOKBACK) ? window : BORN_LOOKBACK
  const start = windowSeconds(window) + (offset ? windowSeconds(offset) : 0) + 1
  const before = `last_over_time(${sel}[${lookback}] offset ${promDuration(start)})`
  return `(increase(${sel}[${window}]${off}) and ${before}) or (${sel}${off} unless ${before})`
}

/** `sum by (…) (…)` of counterIncrease: what alerts and gates count, the first event included. */
export function increaseSum(scope: Scope, metric: string, window: string, by: readonly string[] = [], extra: readonly Matcher[] = [], offset?: string): string {
  return `${sumBy(by)}(${counterIncrease(scope, metric, window, extra, offset)})`
}

/** Matchers of the violations a phase leaves to fix (logged) or stops (blocked). */
export const decision = (d: 'logged' | 'blocked') => eq('decision', d)

/** Events per hour: the one unit of every rate the dashboards draw (violations, blocked queries, bypasses). */
export const PER_HOUR = 3600

/** Logged violations per hour, averaged over `window`. */
export function loggedViolationsPerHour(scope: Scope, window: string, by: readonly string[] = [], extra: readonly Matcher[] = []): string {
  return `${counterSum(scope, 'rate', METRIC.violations, window, by, [decision('logged'), ...extra])} * ${PER_HOUR}`
}

/** Blocked queries of requests (every endpoint but the no-request one). */
export const requestErrors = ne('endpoint', NO_REQUEST_ENDPOINT)
/** Blocked queries outside any request (jobs, scripts). */
export const jobErrors = eq('endpoint', NO_REQUEST_ENDPOINT)
/** Requests of the app's users: every route but the probes' and scrapes'. */
export const userRoutes = (config: { app: { probeRoutes: readonly string[] } }) => (config.app.probeRoutes.length ? [notIn('route', config.app.probeRoutes)] : [])

/**
 * Blocked requests of users as a share of users' requests (0.01 = 1 %), over `window`.
 * - No blocked request yet reads 0, not nothing: in one sum, `vector(0)`; summed by labels
 *   (the alerts, by job), the enforcement error series of jobs (endpoint="unknown"), which exist
 *   from start-up for every model, serve as the zero of each job.
 * - No request at all reads nothing (`> 0` on the denominator): never +Inf, never NaN, so an
 *   app with no HTTP traffic can neither fire the rollback nor pass a gate.
 * - `increase` (alerts, gates, status) counts first events too (counterIncrease); `rate` is for
 *   the dashboards, whose `$__rate_interval` cannot be offset. Over one window both sides'
 *   increases divide to the ratio their rates would.
 */
export function errorRate(config: { app: { probeRoutes: readonly string[] } }, scope: Scope, fn: 'rate' | 'increase', window: string, by: readonly string[] = []): string {
  const sum = (metric: string, extra: readonly Matcher[]) => (fn === 'increase' ? increaseSum(scope, metric, window, by, extra) : counterSum(scope, fn, metric, window, by, extra))
  const blocked = sum(METRIC.enforcementErrors, [requestErrors])
  const zero = by.length ? `${sum(METRIC.enforcementErrors, [jobErrors])} * 0` : 'vector(0)'
  const requests = sum(METRIC.httpRequests, userRoutes(config))
  return `(${blocked} or ${zero}) / (${requests} > 0)`
}

/** A percentile of the check's cost in milliseconds (the histogram is in seconds). */
export function checkQuantileMs(scope: Scope, window: string, q: number = CHECK_QUANTILE, by: readonly string[] = []): string {
  return `histogram_quantile(${q}, ${sumBy([...by, 'le'])}(rate(${selector(scope, `${METRIC.checkDuration}_bucket`)}[${window}]))) * 1000`
}

/**
 * Coverage is measured in steps of Prometheus's default lookback (5 minutes): a step sees the
 * app's mode iff a scrape reached it in the 5 minutes before, so a gap longer than a few scrapes
 * is a gap, and a 24 h window costs 288 points (7 d: 2016).
 */
export const COVERAGE_STEP = '5m'
export const COVERAGE_STEP_SECONDS = 300

/**
 * A value (the number of series) at an instant where the app reports `mode`: some series of the scope
 * report it and none reports another (an instance of a mixed fleet in another mode is not time
 * spent in this phase); nothing otherwise, including when no series reports at all.
 */
export function reportsMode(scope: Scope, mode: ReportedMode): string {
  const m = (op: Matcher) => `count(${selector(scope, METRIC.mode, [op])} == 1)`
  return `(${m(eq('mode', mode))} > 0) unless (${m(ne('mode', mode))} > 0)`
}

/**
 * Seconds from the last step of `window` at which the app did NOT report `mode`, to now
 * (`time()`): nothing when it reported `mode` at every step of the window. The time spent in the
 * mode up to now is this minus one step (the switch happened somewhere in that step).
 */
export function modeCoverage(scope: Scope, mode: ReportedMode, window: string): string {
  return `time() - max_over_time(timestamp(vector(1) unless (${reportsMode(scope, mode)}))[${window}:${COVERAGE_STEP}])`
}

/**
 * True, per job, while the app reports `mode`. Alert rules of every phase can be loaded into
 * one Prometheus at once because each is joined with its phase's gate; the join is on `job`
 * so that one Prometheus may watch several apps, each in its own phase.
 */
export function modeGate(scope: Scope, mode: ReportedMode): string {
  return `(max by (job) (${selector(scope, METRIC.mode, [eq('mode', mode)])}) == 1)`
}
