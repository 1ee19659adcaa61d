// PromQL the dashboards and the alert rules share, so a panel shows exactly what an alert
// measures. Every selector carries the app's job label: one Prometheus may scrape many apps.
import type { ReportedMode, TenantFenceConfig } from '../config/schema.ts'
import { METRIC } from '../telemetry/metric-names.ts'

/** The range Grafana substitutes per panel; alerts use fixed windows instead. */
export const RATE_INTERVAL = '$__rate_interval'

/** The p95 of the check comes from this quantile. */
export const CHECK_QUANTILE = 0.95

export function selector(config: TenantFenceConfig, metric: string, matchers: Record<string, string> = {}): string {
  const all = { job: config.app.job, ...matchers }
  const body = Object.entries(all)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')
  return `${metric}{${body}}`
}

/** Violations counted in `window`, summed by `by` (or in total). */
export function violationsIncrease(config: TenantFenceConfig, window: string, by: string[] = [], matchers: Record<string, string> = {}, offset?: string): string {
  const range = `[${window}]${offset ? ` offset ${offset}` : ''}`
  return `${sumBy(by)}(increase(${selector(config, METRIC.violations, matchers)}${range}))`
}

/** Violations per minute, averaged over `window`. */
export function violationsPerMinute(config: TenantFenceConfig, window: string, by: string[] = []): string {
  return `${sumBy(by)}(rate(${selector(config, METRIC.violations)}[${window}])) * 60`
}

/** Blocked queries as a share of HTTP requests (0.01 = 1 %). */
export function errorRate(config: TenantFenceConfig, window: string): string {
  return `sum(rate(${selector(config, METRIC.enforcementErrors)}[${window}])) / sum(rate(${selector(config, METRIC.httpRequests)}[${window}]))`
}

export function counterIncrease(config: TenantFenceConfig, metric: string, window: string, by: string[] = []): string {
  return `${sumBy(by)}(increase(${selector(config, metric)}[${window}]))`
}

export function counterRate(config: TenantFenceConfig, metric: string, window: string, by: string[] = []): string {
  return `${sumBy(by)}(rate(${selector(config, metric)}[${window}]))`
}

/** p95 cost of the check in milliseconds (the histogram is in seconds). */
export function checkP95Ms(config: TenantFenceConfig, window: string): string {
  return `histogram_quantile(${CHECK_QUANTILE}, sum by (le) (rate(${selector(config, `${METRIC.checkDuration}_bucket`)}[${window}]))) * 1000`
}

/**
 * True (a one-element vector) while the app reports `mode`. Alert rules of every phase can
 * be loaded into one Prometheus at once because each is joined with its phase's gate.
 */
export function modeGate(config: TenantFenceConfig, mode: ReportedMode): string {
  return `(max(${selector(config, METRIC.mode, { mode })}) == 1)`
}

function sumBy(by: string[]): string {
  return by.length ? `sum by (${by.join(', ')}) ` : 'sum'
}
