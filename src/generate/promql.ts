// PromQL the dashboards, the alert rules, the phase gate and `status` share, so a panel shows
// exactly what an alert or a gate measures. A scope picks the app's series: the config's job
// (when it names one) for rules and gates, the dashboard's job/instance variables for panels.
import type { ReportedMode, TenantFenceConfig } from '../config/schema.ts'
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

/** Matchers of the violations a phase leaves to fix (logged) or stops (blocked). */
export const decision = (d: 'logged' | 'blocked') => eq('decision', d)

/** Logged violations per minute, averaged over `window`. */
export function loggedViolationsPerMinute(scope: Scope, window: string, by: readonly string[] = [], extra: readonly Matcher[] = []): string {
  return `${counterSum(scope, 'rate', METRIC.violations, window, by, [decision('logged'), ...extra])} * 60`
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
 */
export function errorRate(config: { app: { probeRoutes: readonly string[] } }, scope: Scope, fn: 'rate' | 'increase', window: string, by: readonly string[] = []): string {
  const blocked = counterSum(scope, fn, METRIC.enforcementErrors, window, by, [requestErrors])
  const zero = by.length ? `${counterSum(scope, fn, METRIC.enforcementErrors, window, by, [jobErrors])} * 0` : 'vector(0)'
  const requests = counterSum(scope, fn, METRIC.httpRequests, window, by, userRoutes(config))
  return `(${blocked} or ${zero}) / (${requests} > 0)`
}

/** A percentile of the check's cost in milliseconds (the histogram is in seconds). */
export function checkQuantileMs(scope: Scope, window: string, q: number = CHECK_QUANTILE, by: readonly string[] = []): string {
  return `histogram_quantile(${q}, ${sumBy([...by, 'le'])}(rate(${selector(scope, `${METRIC.checkDuration}_bucket`)}[${window}]))) * 1000`
}

/**
 * True, per job, while the app reports `mode`. Alert rules of every phase can be loaded into
 * one Prometheus at once because each is joined with its phase's gate; the join is on `job`
 * so that one Prometheus may watch several apps, each in its own phase.
 */
export function modeGate(scope: Scope, mode: ReportedMode): string {
  return `(max by (job) (${selector(scope, METRIC.mode, [eq('mode', mode)])}) == 1)`
}
