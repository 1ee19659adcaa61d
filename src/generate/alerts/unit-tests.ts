// promtool unit tests of a phase's rule file, generated from the same config: for every alert
// the phase lists, series that make it fire; no alert one evaluation before `for` has elapsed,
// the alert with its full labels and annotations once it has; and no alert while the app
// reports another phase's mode.
import { stringify } from 'yaml'
import { TenantConfigError } from '../../config/define.ts'
import { durationSeconds, REPORTED_MODES, type AlertName, type PhaseConfig, type ReportedMode, type TenantFenceConfig } from '../../config/schema.ts'
import { CHECK_DURATION_BUCKETS, METRIC } from '../../telemetry/metric-names.ts'
import { CHECK_QUANTILE } from '../promql.ts'
import { yamlHeader } from '../notice.ts'
import { renderTemplate } from './humanize.ts'
import { phaseRules } from './rules.ts'
import { phaseSlug, rulesFile } from './phases.ts'

/** Evaluation interval and sample interval of the tests, in minutes. */
const STEP_MINUTES = 1
/** The app starts reporting the phase's mode at this minute; the alert's condition holds from then on. */
export const GATE_MINUTE = 30
/** Samples kept after the firing evaluation. */
const TAIL_MINUTES = 5

interface Scenario {
  series: Array<{ series: string; values: string }>
  /** labels the alert keeps from its expression */
  labels: Record<string, string>
  /** the expression's value at minute `at` (for the annotations) */
  valueAt(at: number): number
}

export function durationMinutes(d: string): number {
  return durationSeconds(d) / 60
}

function seriesName(metric: string, labels: Record<string, string>): string {
  return `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`
}

/** `0+k` every minute from minute 0 to `last` (promtool's expanding notation). */
const counter = (perMinute: number, last: number) => `0+${perMinute}x${last}`
/** 0 until the gate minute, 1 from then on. */
const gateValues = (last: number) => `0x${GATE_MINUTE - 1} 1x${last - GATE_MINUTE}`

function scenario(config: TenantFenceConfig, name: AlertName, last: number): Scenario {
  const t = config.thresholds
  const job = config.app.job
  const models = Object.entries(config.models)
  const [criticalModel] = models.find(([, m]) => m.severity === 'CRITICAL') ?? models[0]!
  const [anyModel, anyPolicy] = models[0]!
  const violation = (model: string, severity: string, perMinute: number) => ({
    series: seriesName(METRIC.violations, { job, model, severity, violation: 'missing_tenant_id', decision: 'logged' }),
    values: counter(perMinute, last),
  })
  const errorRateScenario = (threshold: number): Scenario => {
    const requestsPerMinute = 1000
    const ratio = threshold * 2
    return {
      series: [
        { series: seriesName(METRIC.enforcementErrors, { job, model: criticalModel, endpoint: '/api/users/:id' }), values: counter(requestsPerMinute * ratio, last) },
        { series: seriesName(METRIC.httpRequests, { job, method: 'GET', route: '/api/users/:id', status: '200' }), values: counter(requestsPerMinute, last) },
      ],
      labels: {},
      valueAt: () => ratio,
    }
  }
  switch (name) {
    case 'TenantViolationSummary':
      return { series: [violation(anyModel, anyPolicy.severity, 1)], labels: {}, valueAt: (at) => Math.min(at, 1440) }
    case 'TenantViolationSpike': {
      const perMinute = t.violationSpikePerMinute * 2
      return { series: [violation(anyModel, anyPolicy.severity, perMinute)], labels: {}, valueAt: () => perMinute }
    }
    case 'TenantCriticalModelViolation':
      return { series: [violation(criticalModel, 'CRITICAL', 1)], labels: { model: criticalModel }, valueAt: () => 5 }
    case 'TenantEnforcementErrors':
      return errorRateScenario(t.errorRateWarning)
    case 'TenantEnforcementRollback':
      return errorRateScenario(t.errorRateRollback)
    case 'TenantBypassUsage': {
      // enough per minute that the last hour is above the threshold when the gate opens
      const perMinute = Math.floor(t.bypassPerHour / GATE_MINUTE) + 1
      return {
        series: [{ series: seriesName(METRIC.bypassUsage, { job, reason: config.bypass.reasons[0]! }), values: counter(perMinute, last) }],
        labels: {},
        valueAt: (at) => perMinute * Math.min(at, 60),
      }
    }
    case 'TenantCheckLatencyHigh':
    case 'TenantCheckLatencyCritical': {
      const ms = name === 'TenantCheckLatencyCritical' ? t.checkLatencyCriticalMs : t.checkLatencyWarningMs
      const [lo, hi] = latencyBuckets(ms)
      const bucket = (le: string, values: string) => ({ series: seriesName(`${METRIC.checkDuration}_bucket`, { job, le }), values })
      return {
        // every observation lands in (lo, hi], so the p95 interpolates to lo + 0.95 (hi - lo)
        series: [...(lo > 0 ? [bucket(String(lo), `0x${last}`)] : []), bucket(String(hi), counter(10, last)), bucket('+Inf', counter(10, last))],
        labels: {},
        valueAt: () => (lo + (hi - lo) * CHECK_QUANTILE) * 1000,
      }
    }
    case 'TenantFlagReloadFailed':
      return {
        series: [{ series: seriesName(METRIC.flagErrors, { job, flag: 'TENANT_ENFORCEMENT_MODE' }), values: counter(1, last) }],
        labels: {},
        valueAt: (at) => Math.min(at, 15),
      }
  }
}

/**
 * The pair of adjacent histogram buckets whose interpolated p95 lies above `ms`. A threshold at
 * or above what the buckets can express would make an alert that never fires: refuse it.
 */
export function latencyBuckets(ms: number): [number, number] {
  const bounds = [0, ...CHECK_DURATION_BUCKETS]
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = bounds[i]!
    const hi = bounds[i + 1]!
    if ((lo + (hi - lo) * CHECK_QUANTILE) * 1000 > ms) return [lo, hi]
  }
  const top = CHECK_DURATION_BUCKETS[CHECK_DURATION_BUCKETS.length - 1]! * 1000
  throw new TenantConfigError(`thresholds.checkLatency*Ms = ${ms} ms can never fire: the p95 cannot exceed the largest bucket of ${METRIC.checkDuration} (${top} ms)`)
}

/** The mode the "silent elsewhere" case reports: the next phase's, else the previous one's, else any other. */
function otherMode(config: TenantFenceConfig, phase: PhaseConfig): ReportedMode {
  const n = phase.phase
  const candidates = [config.phases[n + 1]?.mode, config.phases[n - 1]?.mode, ...config.phases.map((p) => p.mode), ...REPORTED_MODES]
  return candidates.find((m): m is ReportedMode => m !== undefined && m !== phase.mode)!
}

export function phaseUnitTests(config: TenantFenceConfig, phase: PhaseConfig) {
  const job = config.app.job
  const modeSeries = (mode: string, values: string) => ({ series: seriesName(METRIC.mode, { job, mode }), values })
  const other = otherMode(config, phase)
  return phaseRules(config, phase).flatMap((rule) => {
    const forMinutes = Math.ceil(durationMinutes(rule.for) / STEP_MINUTES) * STEP_MINUTES
    const firingAt = GATE_MINUTE + forMinutes
    const last = firingAt + TAIL_MINUTES
    const s = scenario(config, rule.alert as AlertName, last)
    const labels = { ...s.labels, ...rule.labels }
    const value = s.valueAt(firingAt)
    const annotations = Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, renderTemplate(v, value, labels)]))
    return [
      {
        name: `${rule.alert} fires ${rule.for} after the app reports ${phase.mode}`,
        interval: `${STEP_MINUTES}m`,
        input_series: [...s.series, modeSeries(phase.mode, gateValues(last)), modeSeries(other, `0x${last}`)],
        alert_rule_test: [
          { eval_time: `${firingAt - STEP_MINUTES}m`, alertname: rule.alert, exp_alerts: [] },
          { eval_time: `${firingAt}m`, alertname: rule.alert, exp_alerts: [{ exp_labels: labels, exp_annotations: annotations }] },
        ],
      },
      {
        name: `${rule.alert} of phase ${phase.phase} stays silent while the app reports ${other}`,
        interval: `${STEP_MINUTES}m`,
        input_series: [...s.series, modeSeries(phase.mode, `0x${last}`), modeSeries(other, gateValues(last))],
        alert_rule_test: [{ eval_time: `${firingAt}m`, alertname: rule.alert, exp_alerts: [] }],
      },
    ]
  })
}

export function renderUnitTestFile(config: TenantFenceConfig, phase: PhaseConfig, configName: string): string {
  const doc = {
    rule_files: [`../${rulesFile(phase)}`],
    evaluation_interval: `${STEP_MINUTES}m`,
    tests: phaseUnitTests(config, phase),
  }
  const what = `promtool unit tests of ${rulesFile(phase)} (run: promtool test rules alerts/tests/${phaseSlug(phase)}.test.yml).`
  return yamlHeader(configName, what) + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })
}
