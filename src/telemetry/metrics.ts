// prom-client metrics in a Registry the caller owns (or a fresh one): nothing is registered
// into prom-client's global registry behind the user's back.
//
// Every series an alert or a gate reads exists from start-up, at 0 (preCreateSeries): prom-client
// exports a labelled counter only after its first increment, so a series would start at 1 and
// increase() would read 0 for the first event after each restart (the first flag error, the
// first CRITICAL violation after a deploy). The label sets are bounded and known up front.
import { Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client'
import { protectedModels } from '../config/define.ts'
import { SINGLE_LEVEL } from '../config/levels.ts'
import { FLAG_NAMES, type ModelAction } from '../config/flags.ts'
import { DECISIONS, REPORTED_MODES, type ReportedMode, type Severity, type TenantFenceConfig } from '../config/schema.ts'
import { FastCounter } from './fast-counter.ts'
import { CHECK_DURATION_BUCKETS, METRIC, VIOLATION_KINDS } from './metric-names.ts'

/** The `flag` label of refused flags: a flag name, or `file` for a flag file that did not parse (never a path or a line). */
export const FLAG_ERROR_LABELS = [...FLAG_NAMES, 'file'] as const
/** The `endpoint` of queries outside any request (jobs, scripts). */
export const NO_REQUEST_ENDPOINT = 'unknown'
/** The pseudo-model of raw SQL. */
export const RAW_MODEL = '$raw'
/** Telemetry sinks that can fail (tenant_telemetry_errors_total). */
export const TELEMETRY_SINKS = ['metrics', 'log'] as const

export interface EnforcementMetrics {
  readonly registry: Registry
  readonly violations: FastCounter<'model' | 'severity' | 'violation' | 'decision' | 'level'>
  readonly enforcementErrors: FastCounter<'model' | 'endpoint'>
  readonly bypassUsage: Counter<'reason'>
  readonly bypassDenied: Counter<'reason'>
  readonly checkDuration: CheckDurationHistogram
  readonly mode: Gauge<'mode'>
  readonly modelPolicy: Gauge<'model' | 'severity' | 'policy' | 'level'>
  readonly flagErrors: FastCounter<'flag'>
  /** when flags were last applied and last refused: a refusal newer than the last change applied is flags not in force */
  readonly flagReloads: Gauge<'outcome'>
  readonly inspectionErrors: Counter<'model'>
  readonly telemetryErrors: Counter<'sink'>
}

const cache = new WeakMap<Registry, EnforcementMetrics>()

/** The enforcement metrics of a registry; two clients sharing a registry share the metrics. */
export function enforcementMetrics(registry: Registry = new Registry()): EnforcementMetrics {
  const existing = cache.get(registry)
  if (existing) return existing
  const registers = [registry]
  const metrics: EnforcementMetrics = {
    registry,
    // The two counters of the violation path: FastCounter renders what prom-client's Counter would, for a twentieth of the cost.
    violations: new FastCounter(METRIC.violations, 'Tenant isolation violations seen, by model, severity, kind, whether the query was logged or blocked, and the level of tenancy that found it.', ['model', 'severity', 'violation', 'decision', 'level'], registry),
    enforcementErrors: new FastCounter(METRIC.enforcementErrors, 'Queries blocked with TENANT_CONTEXT_REQUIRED, by model and route template.', ['model', 'endpoint'], registry),
    bypassUsage: new Counter({ name: METRIC.bypassUsage, help: 'Granted tenant enforcement bypasses (withoutTenantEnforcement), by documented reason ("other" when not documented).', labelNames: ['reason'], registers }),
    bypassDenied: new Counter({ name: METRIC.bypassDenied, help: 'Refused bypass attempts (ALLOW_BYPASS off, reason missing or not documented).', labelNames: ['reason'], registers }),
    checkDuration: new CheckDurationHistogram(registry),
    mode: new Gauge({ name: METRIC.mode, help: 'Tenant enforcement mode in force: 1 for the current mode, 0 for the others.', labelNames: ['mode'], registers }),
    modelPolicy: new Gauge({ name: METRIC.modelPolicy, help: 'Per-model policy in force: 1 for the current policy (off, log, block) of each tenant-owned model, with its level of tenancy.', labelNames: ['model', 'severity', 'policy', 'level'], registers }),
    // bounded: a flag file's errors name the file's path or a bad line; they count as "file"
    flagErrors: new FastCounter(METRIC.flagErrors, 'Runtime flag values refused; the last good flags stayed in force.', ['flag'], registry, { flag: { values: new Set(FLAG_ERROR_LABELS), other: 'file' } }),
    flagReloads: new Gauge({ name: METRIC.flagReloads, help: 'Unix time of the last flag change applied (start-up included) and of the last one refused.', labelNames: ['outcome'], registers }),
    inspectionErrors: new Counter({ name: METRIC.inspectionErrors, help: 'Internal errors of the tenant check (allowed in log_only, blocked in enforce).', labelNames: ['model'], registers }),
    telemetryErrors: new Counter({ name: METRIC.telemetryErrors, help: 'Telemetry failures (log write, metric label); a query never fails for them.', labelNames: ['sink'], registers }),
  }
  cache.set(registry, metrics)
  return metrics
}

/**
 * Create, at 0, every series an alert or a gate reads (called once when the extension is
 * created; harmless when called again): violations for the config's protected models with
 * their severity × every violation kind × logged/blocked (and raw SQL's `$raw` × raw_query),
 * blocked queries per model outside a request (endpoint "unknown": route templates are known
 * only when a request hits them), bypasses granted and denied per documented reason plus
 * "other" and "none", refused flags per flag name plus "file", inspection errors per model,
 * telemetry errors per sink. `levelsOf`: the `level` label(s) of a model's violations (one level:
 * 'tenant'; two levels: its level, both for the lower level's model, none until the schema is known).
 */
export function preCreateSeries(metrics: EnforcementMetrics, config: TenantFenceConfig, levelsOf: (model: string) => readonly string[] = ONE_LEVEL): void {
  const models = protectedModels(config)
  for (const { name, severity } of models) {
    for (const level of levelsOf(name)) for (const violation of VIOLATION_KINDS) for (const decision of DECISIONS) metrics.violations.inc({ model: name, severity, violation, decision, level }, 0)
    metrics.enforcementErrors.inc({ model: name, endpoint: NO_REQUEST_ENDPOINT }, 0)
    metrics.inspectionErrors.inc({ model: name }, 0)
  }
  if (config.rawQueries.policy === 'violation') {
    for (const level of levelsOf(RAW_MODEL)) for (const decision of DECISIONS) metrics.violations.inc({ model: RAW_MODEL, severity: config.rawQueries.severity, violation: 'raw_query', decision, level }, 0)
    metrics.enforcementErrors.inc({ model: RAW_MODEL, endpoint: NO_REQUEST_ENDPOINT }, 0)
  }
  for (const reason of [...config.bypass.reasons, 'other', 'none']) {
    metrics.bypassUsage.inc({ reason }, 0)
    metrics.bypassDenied.inc({ reason }, 0)
  }
  for (const flag of FLAG_ERROR_LABELS) metrics.flagErrors.inc({ flag }, 0)
  for (const sink of TELEMETRY_SINKS) metrics.telemetryErrors.inc({ sink }, 0)
}

const POLICIES: readonly ModelAction[] = ['off', 'log', 'block']
/** The `level` label of a one-level config's series. */
const ONE_LEVEL = (): readonly string[] => [SINGLE_LEVEL]

/** Publish the mode and each model's policy (called when flags change, not per query). */
export function publishPolicy(metrics: EnforcementMetrics, mode: ReportedMode, actions: ReadonlyMap<string, ModelAction>, severities: ReadonlyMap<string, Severity>, levelOf: (model: string) => string | undefined = () => SINGLE_LEVEL): void {
  for (const m of REPORTED_MODES) metrics.mode.set({ mode: m }, m === mode ? 1 : 0)
  metrics.flagReloads.set({ outcome: 'applied' }, Date.now() / 1000)
  for (const [model, action] of actions) {
    const severity = severities.get(model) ?? 'LOW'
    // Two levels: a model's level is known once a client's schema is (published again then).
    const level = levelOf(model)
    if (level === undefined) continue
    for (const policy of POLICIES) metrics.modelPolicy.set({ model, severity, policy, level }, policy === action ? 1 : 0)
  }
}

/**
 * The check's duration histogram, observed on every checked query. prom-client's Histogram
 * costs about 1.3 µs an observation inside a real query (label hashing, an object per call);
 * this one is a bucket scan and two additions (~20 ns) and renders the same exposition
 * (`_bucket{le}`, `_sum`, `_count`) when the registry is scraped.
 */
export class CheckDurationHistogram {
  readonly name = METRIC.checkDuration
  readonly help = 'Cost of the tenant check (inspect + decide) per query, in seconds. Its _count is the number of queries checked.'
  readonly type = 'histogram' as const
  readonly aggregator = 'sum' as const
  private readonly bounds = CHECK_DURATION_BUCKETS
  private readonly counts = new Float64Array(CHECK_DURATION_BUCKETS.length + 1)
  private sum = 0
  private count = 0

  constructor(registry: Registry) {
    registry.registerMetric(this as never)
  }

  observe(seconds: number): void {
    const b = this.bounds
    let i = 0
    while (i < b.length && seconds > b[i]!) i++
    this.counts[i]!++
    this.sum += seconds
    this.count++
  }

  get(): Omit<MetricObjectWithValues<MetricValueWithName<string>>, 'collect'> {
    const values: MetricValueWithName<string>[] = []
    let cumulative = 0
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!
      values.push({ metricName: `${this.name}_bucket`, labels: { le: this.bounds[i]! }, value: cumulative })
    }
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: this.count })
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum })
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count })
    return { name: this.name, help: this.help, type: this.type as never, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
  }
}
