// The numbers behind the two terminal dashboards, from Prometheus (windows: last 24 h and the
// 24 h before; last hour) or from one scrape of a /metrics endpoint (totals since the process
// started: one scrape has no history, so no trend and no "last hour").
import { SEVERITIES, type Severity } from '../../config/schema.ts'
import { CliError } from '../../cli-error.ts'
import { METRIC } from '../../telemetry/metric-names.ts'
import type { TenantFenceConfig } from '../../config/schema.ts'
import { counterIncrease, selector, violationsIncrease } from '../../generate/promql.ts'
import { criterionPromQL } from '../criteria.ts'
import { getText } from '../http-errors.ts'
import { bucketQuantile, parseMetricsText, type TextSample } from '../metrics-text.ts'
import type { PrometheusClient } from '../prometheus-client.ts'

export interface ModelViolations {
  model: string
  severity: string
  count: number
  /** the 24 h before; undefined from a single scrape */
  previous?: number
}

export interface StatusData {
  source: string
  /** "prometheus": windowed; "metrics": totals since process start */
  kind: 'prometheus' | 'metrics'
  /** unix seconds of the evaluation (Prometheus with --at), else undefined */
  at?: number
  violations: ModelViolations[]
  total: number
  previousTotal?: number
  mode?: string
  policies?: { block: number; log: number; off: number }
  blocked: number
  requests?: number
  /** blocked / requests; undefined with no request */
  errorRate?: number
  bypasses: number
  checkP95Ms?: number
}

const sevRank = (s: string) => {
  const i = SEVERITIES.indexOf(s as Severity)
  return i < 0 ? SEVERITIES.length : i
}
const byCount = (a: ModelViolations, b: ModelViolations) => b.count - a.count || sevRank(a.severity) - sevRank(b.severity) || a.model.localeCompare(b.model)
const round = (v: number) => Math.round(v * 1e6) / 1e6

function countPolicies(rows: { policy: string }[]) {
  const p = { block: 0, log: 0, off: 0 }
  for (const r of rows) if (r.policy in p) p[r.policy as keyof typeof p]++
  return p
}

export async function collectFromPrometheus(prom: PrometheusClient, source: string, config: TenantFenceConfig): Promise<StatusData> {
  // Every selector carries the app's job, as the dashboards and alerts do (generate/promql.ts).
  const byModel = violationsIncrease(config, '24h', ['model', 'severity'])
  const [now, previous] = await Promise.all([prom.query(byModel), prom.query(violationsIncrease(config, '24h', ['model', 'severity'], {}, '24h'))])
  const prevBy = new Map(previous.map((s) => [`${s.metric.model}|${s.metric.severity}`, round(s.value)]))
  const violations = now
    .map((s) => ({ model: s.metric.model ?? '(none)', severity: s.metric.severity ?? '?', count: round(s.value), previous: prevBy.get(`${s.metric.model}|${s.metric.severity}`) ?? 0 }))
    .filter((m) => m.count > 0 || m.previous > 0)
    .sort(byCount)
  const [mode, policy, blocked, requests, bypasses, p95] = await Promise.all([
    prom.query(`max by (mode) (${selector(config, METRIC.mode)})`),
    prom.query(`max by (model, policy) (${selector(config, METRIC.modelPolicy)})`),
    prom.scalar(`${counterIncrease(config, METRIC.enforcementErrors, '1h')} or vector(0)`),
    prom.scalar(counterIncrease(config, METRIC.httpRequests, '1h')),
    prom.scalar(`${counterIncrease(config, METRIC.bypassUsage, '1h')} or vector(0)`),
    prom.scalar(criterionPromQL({ kind: 'checkP95Ms', window: '1h' }, config)),
  ])
  const req = requests === undefined ? undefined : round(requests)
  return {
    source,
    kind: 'prometheus',
    at: prom.at,
    violations,
    total: round(violations.reduce((a, m) => a + m.count, 0)),
    previousTotal: round(previous.reduce((a, s) => a + s.value, 0)),
    mode: mode.find((s) => s.value === 1)?.metric.mode,
    policies: policy.length ? countPolicies(policy.filter((s) => s.value === 1).map((s) => ({ policy: s.metric.policy ?? '' }))) : undefined,
    blocked: round(blocked ?? 0),
    requests: req,
    errorRate: req ? round((blocked ?? 0) / req) : undefined,
    bypasses: round(bypasses ?? 0),
    checkP95Ms: p95 === undefined || Number.isNaN(p95) ? undefined : round(p95),
  }
}

export function collectFromSamples(samples: TextSample[], source: string): StatusData {
  const sum = (name: string) => samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0)
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
  const blocked = sum(METRIC.enforcementErrors)
  const requests = samples.some((s) => s.name === METRIC.httpRequests) ? sum(METRIC.httpRequests) : undefined
  const buckets = new Map<number, number>()
  for (const s of samples) {
    if (s.name !== `${METRIC.checkDuration}_bucket`) continue
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le)
    buckets.set(le, (buckets.get(le) ?? 0) + s.value)
  }
  const p95 = bucketQuantile(0.95, [...buckets].map(([le, count]) => ({ le, count })))
  return {
    source,
    kind: 'metrics',
    violations,
    total: violations.reduce((a, m) => a + m.count, 0),
    mode: samples.find((s) => s.name === METRIC.mode && s.value === 1)?.labels.mode,
    policies: policy.length ? countPolicies(policy.map((s) => ({ policy: s.labels.policy ?? '' }))) : undefined,
    blocked,
    requests,
    errorRate: requests ? round(blocked / requests) : undefined,
    bypasses: sum(METRIC.bypassUsage),
    checkP95Ms: p95 === undefined ? undefined : round(p95 * 1000),
  }
}

export async function collectFromMetrics(url: URL): Promise<StatusData> {
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
  return collectFromSamples(samples, url.href)
}
