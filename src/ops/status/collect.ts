// The numbers behind the two terminal dashboards, from Prometheus (windows: last 24 h and the
// 24 h before; last hour) or from one scrape of a /metrics endpoint (totals since the process
// started: one scrape has no history, so no trend and no "last hour"). The error rate is the
// gate's (blocked requests of users / requests of users), judged against the thresholds of the
// phase whose mode the app reports.
import { SEVERITIES, type Severity, type TenantFenceConfig } from '../../config/schema.ts'
import { DEFAULT_THRESHOLDS } from '../../config/defaults.ts'
import { CliError } from '../../cli-error.ts'
import { METRIC } from '../../telemetry/metric-names.ts'
import { appScope, COVERAGE_STEP, COVERAGE_STEP_SECONDS, eq, errorRate, increaseSum, requestErrors, selector, userRoutes } from '../../generate/promql.ts'
import { rollbackLines } from '../../generate/rollback.ts'
import { criterionPromQL, windowCounters, windowErrorRate } from '../criteria.ts'
import { getJson, getText, joinUrl } from '../http-errors.ts'
import { bucketQuantile, parseMetricsText, type TextSample } from '../metrics-text.ts'
import type { PrometheusClient } from '../prometheus-client.ts'

export interface ModelViolations {
  model: string
  severity: string
  count: number
  /** the 24 h before; undefined from a single scrape */
  previous?: number
}

/** What the error rate is judged against: the thresholds of the phase the app reports, only those its alerts use. */
export interface RateThresholds {
  /** the phase whose mode the app reports, when the config names one */
  phase?: number
  /** TenantEnforcementErrors of that phase, when the phase runs it */
  errorRate?: number
  /** the rollback trigger, when the phase runs TenantEnforcementRollback */
  rollback?: number
  /** the shell lines that roll back (config.rollback, where config.rollout.flags says the app reads its flags) */
  rollbackCommand?: string[]
}

export interface StatusData {
  source: string
  /** "prometheus": windowed; "metrics": totals since process start */
  kind: 'prometheus' | 'metrics'
  /** unix seconds of the evaluation (Prometheus with --at), else undefined */
  at?: number
  violations: ModelViolations[]
  /** violations per severity (the document's line CRITICAL: n | HIGH: n | MEDIUM: n) */
  bySeverity: Record<Severity, number>
  total: number
  previousTotal?: number
  mode?: string
  policies?: { block: number; log: number; off: number }
  /** blocked queries, requests and jobs */
  blocked: number
  blockedByModel: { model: string; count: number }[]
  /** the endpoints with the most blocked queries ("unknown": outside a request) */
  topEndpoints: { endpoint: string; count: number }[]
  /** requests of users (probe and scrape routes left out) */
  requests?: number
  /** blocked queries of requests */
  blockedRequests: number
  /** blocked requests / requests of users; undefined with no request */
  errorRate?: number
  thresholds: RateThresholds
  bypasses: number
  checkP95Ms?: number
  /** how much history the numbers rest on (Prometheus): hours the app reported, up to 48 */
  historyHours?: number
  /** refused flag values in the window (24 h from Prometheus; since start from a scrape); undefined: no such series */
  flagErrors?: number
  /** instances whose latest flag change was refused (they run on their last good flags) */
  flagsRefusedOn?: string[]
  /**
   * The instances reporting a mode, grouped by mode, most instances first (Prometheus only: one
   * scrape is one instance). Two groups or more: a mixed fleet.
   */
  fleet?: FleetModes
  /** the app's firing alerts (Prometheus /api/v1/alerts, now); undefined when not asked (--at, or a scrape) */
  firingAlerts?: { name: string; severity: string; phase?: string; instance?: string }[]
}

export interface FleetModes {
  /** instances that report a mode */
  instances: number
  /** by mode, most instances first (ties: by mode name); instances sorted */
  byMode: { mode: string; instances: string[] }[]
}

/** The instances' modes (`max by (instance, mode) (tenant_enforcement_mode == 1)`), grouped by mode. */
export function fleetModes(rows: { instance?: string; mode?: string }[]): FleetModes {
  const by = new Map<string, string[]>()
  for (const r of rows) {
    const mode = r.mode ?? '(no mode label)'
    by.set(mode, [...(by.get(mode) ?? []), r.instance || '(no instance label)'])
  }
  const byMode = [...by].map(([mode, instances]) => ({ mode, instances: instances.sort() })).sort((a, b) => b.instances.length - a.instances.length || a.mode.localeCompare(b.mode))
  return { instances: rows.length, byMode }
}

const TOP_ENDPOINTS = 5
const sevRank = (s: string) => {
  const i = SEVERITIES.indexOf(s as Severity)
  return i < 0 ? SEVERITIES.length : i
}
const byCount = (a: ModelViolations, b: ModelViolations) => b.count - a.count || sevRank(a.severity) - sevRank(b.severity) || a.model.localeCompare(b.model)
const round = (v: number) => Math.round(v * 1e6) / 1e6
/** increase() extrapolates: counts are shown as whole numbers */
const whole = (v: number) => Math.round(v)

function countPolicies(rows: { policy: string }[]) {
  const p = { block: 0, log: 0, off: 0 }
  for (const r of rows) if (r.policy in p) p[r.policy as keyof typeof p]++
  return p
}

function severityTotals(violations: ModelViolations[]): Record<Severity, number> {
  const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>
  for (const v of violations) if (v.severity in out) out[v.severity as Severity] += v.count
  return out
}

function ranked<T extends { count: number }>(rows: T[], key: (r: T) => string, limit = Infinity): T[] {
  return rows.filter((r) => r.count > 0).sort((a, b) => b.count - a.count || key(a).localeCompare(key(b))).slice(0, limit)
}

/**
 * The thresholds of the phase whose mode the app reports, only those of the alerts it runs (log
 * only has no error-rate alert); without a config or a known phase, the document's.
 */
export function rateThresholds(config: TenantFenceConfig | undefined, mode: string | undefined): RateThresholds {
  if (!config) return { errorRate: DEFAULT_THRESHOLDS.errorRate, rollback: DEFAULT_THRESHOLDS.errorRateRollback }
  const phase = config.phases.find((p) => p.mode === mode)
  const command = { rollbackCommand: rollbackLines(config, phase) }
  if (!phase) return { errorRate: config.thresholds.errorRate, rollback: config.thresholds.errorRateRollback, ...command }
  const t = phase.thresholds
  return {
    phase: phase.phase,
    ...(phase.alerts.includes('TenantEnforcementErrors') ? { errorRate: t.errorRate } : {}),
    ...(phase.alerts.includes('TenantEnforcementRollback') ? { rollback: t.errorRateRollback } : {}),
    ...command,
  }
}

/** Hours (up to 48) the app has reported a mode, back from the evaluation time, in coverage steps. */
async function historyHours(prom: PrometheusClient, config: TenantFenceConfig): Promise<number> {
  const mode = selector(appScope(config), METRIC.mode)
  const since = await prom.scalar(`time() - max_over_time(timestamp(vector(1) unless (count(${mode} == 1) > 0))[48h:${COVERAGE_STEP}])`)
  return since === undefined ? 48 : Math.max(0, Math.floor((since - COVERAGE_STEP_SECONDS) / 3600))
}

interface AlertsResponse {
  status?: string
  data?: { alerts?: { labels?: Record<string, string>; state?: string }[] }
}

/** The app's firing tenantfence alerts, now (Prometheus evaluates alerts at its own time only). */
export async function firingAlerts(prom: PrometheusClient, config: TenantFenceConfig): Promise<NonNullable<StatusData['firingAlerts']>> {
  const body = (await getJson(joinUrl(prom.base, '/api/v1/alerts'), 'Prometheus')) as AlertsResponse
  const job = config.app.job
  return (body?.data?.alerts ?? [])
    .filter((a) => a.state === 'firing' && /^Tenant/.test(a.labels?.alertname ?? '') && (!job || a.labels?.job === undefined || a.labels.job === job))
    .map((a) => ({ name: a.labels!.alertname!, severity: a.labels?.severity ?? '?', ...(a.labels?.phase ? { phase: a.labels.phase } : {}), ...(a.labels?.instance ? { instance: a.labels.instance } : {}) }))
    .sort((a, b) => a.name.localeCompare(b.name))
}

export async function collectFromPrometheus(prom: PrometheusClient, source: string, config: TenantFenceConfig): Promise<StatusData> {
  // Every selector carries the app's job (when the config names one), as the alerts do; counts
  // include each series' first event (increaseSum), as the gate's do.
  const S = appScope(config)
  const byModel = (offset?: string) => increaseSum(S, METRIC.violations, '24h', ['model', 'severity'], [], offset)
  const [now, previous, history] = await Promise.all([prom.query(byModel()), prom.query(byModel('24h')), historyHours(prom, config)])
  const prevBy = new Map(previous.map((s) => [`${s.metric.model}|${s.metric.severity}`, whole(s.value)]))
  // Without 48 h of history there is nothing to compare with: no "before" figures at all.
  const compared = history >= 48
  const violations = now
    .map((s) => ({ model: s.metric.model ?? '(none)', severity: s.metric.severity ?? '?', count: whole(s.value), ...(compared ? { previous: prevBy.get(`${s.metric.model}|${s.metric.severity}`) ?? 0 } : {}) }))
    .filter((m) => m.count > 0 || (m.previous ?? 0) > 0)
    .sort(byCount)
  const errors = (by: string[]) => increaseSum(S, METRIC.enforcementErrors, '1h', by)
  // a counter the app does not export reads nothing (no data), never 0
  const orZeroIfExported = (expr: string, metric: string) => `${expr} or on() (count(${selector(S, metric)}) * 0)`
  const at = (outcome: string) => `max by (instance) (${selector(S, METRIC.flagReloads, [eq('outcome', outcome)])})`
  const [mode, instanceModes, policy, blockedModels, blockedEndpoints, requests, blockedRequests, rate, bypasses, p95, flagErrors, refusedOn, alerts] = await Promise.all([
    prom.query(`max by (mode) (${selector(S, METRIC.mode)})`),
    prom.query(`max by (instance, mode) (${selector(S, METRIC.mode)} == 1)`),
    prom.query(`max by (model, policy) (${selector(S, METRIC.modelPolicy)})`),
    prom.query(errors(['model'])),
    prom.query(errors(['endpoint'])),
    prom.scalar(increaseSum(S, METRIC.httpRequests, '1h', [], userRoutes(config))),
    prom.scalar(`${increaseSum(S, METRIC.enforcementErrors, '1h', [], [requestErrors])} or vector(0)`),
    prom.scalar(errorRate(config, S, 'increase', '1h')),
    prom.scalar(orZeroIfExported(increaseSum(S, METRIC.bypassUsage, '1h'), METRIC.bypassUsage)),
    prom.scalar(criterionPromQL({ kind: 'checkP95Ms', window: '1h' }, config)),
    prom.scalar(orZeroIfExported(increaseSum(S, METRIC.flagErrors, '24h'), METRIC.flagErrors)),
    prom.query(`${at('refused')} > ${at('applied')}`),
    prom.at === undefined ? firingAlerts(prom, config) : Promise.resolve(undefined),
  ])
  const fleet = fleetModes(instanceModes.map((s) => ({ instance: s.metric.instance, mode: s.metric.mode })))
  // a mixed fleet is judged by the mode most of its instances report (the others are named)
  const reported = fleet.byMode[0]?.mode ?? mode.find((s) => s.value === 1)?.metric.mode
  const blockedByModel = ranked(blockedModels.map((s) => ({ model: s.metric.model ?? '(none)', count: whole(s.value) })), (r) => r.model)
  return {
    source,
    kind: 'prometheus',
    at: prom.at,
    violations,
    bySeverity: severityTotals(violations),
    total: violations.reduce((a, m) => a + m.count, 0),
    ...(compared ? { previousTotal: previous.reduce((a, s) => a + whole(s.value), 0) } : {}),
    historyHours: history,
    mode: reported,
    policies: policy.length ? countPolicies(policy.filter((s) => s.value === 1).map((s) => ({ policy: s.metric.policy ?? '' }))) : undefined,
    blocked: blockedByModel.reduce((a, r) => a + r.count, 0),
    blockedByModel,
    topEndpoints: ranked(blockedEndpoints.map((s) => ({ endpoint: s.metric.endpoint ?? '(none)', count: whole(s.value) })), (r) => r.endpoint, TOP_ENDPOINTS),
    requests: requests === undefined ? undefined : whole(requests),
    blockedRequests: whole(blockedRequests ?? 0),
    errorRate: rate === undefined || !Number.isFinite(rate) ? undefined : round(rate),
    thresholds: rateThresholds(config, reported),
    bypasses: whole(bypasses ?? 0),
    checkP95Ms: p95 === undefined || Number.isNaN(p95) ? undefined : round(p95),
    ...(flagErrors === undefined ? {} : { flagErrors: whole(flagErrors) }),
    flagsRefusedOn: refusedOn.map((s) => s.metric.instance ?? '(no instance label)').sort(),
    ...(fleet.instances > 0 ? { fleet } : {}),
    ...(alerts ? { firingAlerts: alerts } : {}),
  }
}

export function collectFromSamples(samples: TextSample[], source: string, config?: TenantFenceConfig): StatusData {
  const models = new Map<string, ModelViolations>()
  for (const s of samples) {
    if (s.name !== METRIC.violations) continue
    const key = `${s.labels.model}|${s.labels.severity}`
    const m = models.get(key) ?? { model: s.labels.model ?? '(none)', severity: s.labels.severity ?? '?', count: 0 }
    m.count += s.value
    models.set(key, m)
  }
  const violations = [...models.values()].filter((m) => m.count > 0).sort(byCount)
  const policy = samples.filter((s) => s.name === METRIC.modelPolicy && s.value === 1)
  const group = (label: string) => {
    const out = new Map<string, number>()
    for (const s of samples) if (s.name === METRIC.enforcementErrors) out.set(s.labels[label] ?? '(none)', (out.get(s.labels[label] ?? '(none)') ?? 0) + s.value)
    return [...out].map(([key, count]) => ({ key, count }))
  }
  const w = windowCounters(samples)
  const routes = { app: { probeRoutes: config?.app.probeRoutes ?? ['/healthz', '/metrics'] } }
  const hasHttp = samples.some((s) => s.name === METRIC.httpRequests)
  const requests = hasHttp ? w.sum(METRIC.httpRequests, userRoutes(routes)) : undefined
  const rate = hasHttp ? windowErrorRate(routes, w) : undefined
  const p95 = bucketQuantile(0.95, w.buckets(METRIC.checkDuration))
  const mode = samples.find((s) => s.name === METRIC.mode && s.value === 1)?.labels.mode
  const blockedByModel = ranked(group('model').map((r) => ({ model: r.key, count: r.count })), (r) => r.model)
  const flagErrors = w.sum(METRIC.flagErrors, [])
  const reload = (outcome: string) => samples.find((s) => s.name === METRIC.flagReloads && s.labels.outcome === outcome)?.value ?? 0
  const [refusedAt, appliedAt] = [reload('refused'), reload('applied')]
  return {
    source,
    kind: 'metrics',
    violations,
    bySeverity: severityTotals(violations),
    total: violations.reduce((a, m) => a + m.count, 0),
    mode,
    policies: policy.length ? countPolicies(policy.map((s) => ({ policy: s.labels.policy ?? '' }))) : undefined,
    blocked: blockedByModel.reduce((a, r) => a + r.count, 0),
    blockedByModel,
    topEndpoints: ranked(group('endpoint').map((r) => ({ endpoint: r.key, count: r.count })), (r) => r.endpoint, TOP_ENDPOINTS),
    requests,
    blockedRequests: w.sum(METRIC.enforcementErrors, [requestErrors]) ?? 0,
    errorRate: rate === undefined ? undefined : round(rate),
    thresholds: rateThresholds(config, mode),
    bypasses: w.sum(METRIC.bypassUsage, []) ?? 0,
    checkP95Ms: p95 === undefined ? undefined : round(p95 * 1000),
    ...(flagErrors === undefined ? {} : { flagErrors }),
    flagsRefusedOn: refusedAt > appliedAt ? ['this instance'] : [],
  }
}

export async function collectFromMetrics(url: URL, config?: TenantFenceConfig): Promise<StatusData> {
  const text = await getText(url, 'the metrics endpoint')
  let samples: TextSample[]
  try {
    samples = parseMetricsText(text)
  } catch (err) {
    throw new CliError(`${url.href} is not Prometheus text exposition: ${(err as Error).message}`)
  }
  if (!samples.some((s) => s.name.startsWith('tenant_'))) {
    throw new CliError(`${url.href} serves no tenant_* metric; is this the app's /metrics with the tenantfence registry?`)
  }
  return collectFromSamples(samples, url.href, config)
}
