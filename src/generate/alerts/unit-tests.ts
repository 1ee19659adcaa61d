// promtool unit tests of a rule file, generated from the same config, with the config's own job,
// models, severities, bypass reasons and probe routes. For every alert of a phase: series that
// make it fire; no alert one evaluation before `for` has elapsed, the alert with its full labels
// and annotations once it has; no alert while the app reports another phase's mode; where it
// has one, the case that must not fire (a blocked CRITICAL query, probe traffic, a job with no
// HTTP traffic, ...). For the silence file: an app that reports no mode, and one that does; a
// fleet whose instances agree, disagree for less than `for`, and disagree for `for`.
import { stringify } from 'yaml'
import { protectedModels, TenantConfigError } from '../../config/define.ts'
import { durationSeconds, REPORTED_MODES, type AlertName, type PhaseConfig, type ReportedMode, type TenantFenceConfig } from '../../config/schema.ts'
import { CHECK_DURATION_BUCKETS, METRIC } from '../../telemetry/metric-names.ts'
import { CHECK_QUANTILE, NO_REQUEST_ENDPOINT } from '../promql.ts'
import { SUMMARY_OPEN } from './specs.ts'
import { yamlHeader } from '../notice.ts'
import { renderTemplate } from './humanize.ts'
import { fileRules, type PrometheusRule } from './rules.ts'
import { rulesFile, testFile, type RuleFile } from './phases.ts'

/** Evaluation interval and sample interval of the tests, in minutes. */
const STEP_MINUTES = 1
/** The app starts reporting the phase's mode at this minute; the alert's condition holds from then on. */
export const GATE_MINUTE = 30
/** Samples kept after the firing evaluation. */
const TAIL_MINUTES = 5

type Series = { series: string; values: string }

interface Scenario {
  series: Series[]
  /** labels the alert keeps from its expression (besides job) */
  labels: Record<string, string>
  /** the expression's value at minute `at` (for the annotations) */
  valueAt(at: number): number
  /** cases that must not fire although they look alike (the bugs this alert once had) */
  silent?: { name: string; series: Series[] }[]
  /** the alert fires, then resolves at the minute given (what ends it) */
  resolves?: { name: string; series: Series[]; at: (firingAt: number) => number }
  /** a counter alert (`> 0`): the scenario's input with the counter's per-minute values replaced, for the first-event cases */
  counter?: (values: string) => Series[]
}

export function durationMinutes(d: string): number {
  return durationSeconds(d) / 60
}

function seriesName(metric: string, labels: Record<string, string>): string {
  return `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`
}

/** `0+k` every minute from minute 0 to `last` (promtool's expanding notation): a counter that exists from start-up. */
const counter = (perMinute: number, last: number) => `0+${perMinute}x${last}`
/** A counter at 0 from start-up that is incremented once, by `by`, at the gate minute. */
const oneEvent = (last: number, by = 1) => `0x${GATE_MINUTE - 1} ${by}x${last - GATE_MINUTE}`
/** 0 until the gate minute, 1 from then on. */
const gateValues = (last: number) => `0x${GATE_MINUTE - 1} 1x${last - GATE_MINUTE}`
/** 1 until the gate minute, 0 from then on (what the phase before reported). */
const beforeGate = (last: number) => `1x${GATE_MINUTE - 1} 0x${last - GATE_MINUTE}`

/** Explicit values for minutes 0..last ("_": no sample): clearer than the expanding notation where counters jump. */
const perMinute = (last: number, f: (minute: number) => number | '_') => Array.from({ length: last + 1 }, (_, m) => String(f(m))).join(' ')

/** The minute of day (UTC) the daily summary opens: promtool's time starts at 00:00 UTC. */
const summaryMinute = (t: { violationSummaryAt: string }) => {
  const [h, m] = t.violationSummaryAt.split(':').map(Number) as [number, number]
  return h * 60 + m
}

/** The job label of the test series: the config's, or any name when the rules take every job. */
export const testJob = (config: TenantFenceConfig) => config.app.job ?? 'app'

/** A route template of the app's users for a model (`Invoice` → `/invoices/:id`), never a probe route. */
function userRoute(model: string): string {
  return `/${model.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}s/:id`
}

function scenario(config: TenantFenceConfig, phase: PhaseConfig, name: AlertName, last: number): Scenario {
  const t = phase.thresholds
  const job = testJob(config)
  const models = protectedModels(config)
  const critical = models.find((m) => m.severity === 'CRITICAL') ?? models[0]!
  const other = models.find((m) => m.severity !== 'CRITICAL') ?? models[0]!
  const violation = (model: { name: string; severity: string }, decision: 'logged' | 'blocked', values: string) => ({
    series: seriesName(METRIC.violations, { job, model: model.name, severity: model.severity, violation: 'missing_tenant_id', decision }),
    values,
  })
  const errors = (model: string, endpoint: string, values: string) => ({ series: seriesName(METRIC.enforcementErrors, { job, model, endpoint }), values })
  const requests = (route: string, values: string) => ({ series: seriesName(METRIC.httpRequests, { job, method: 'GET', route, status: '200' }), values })
  const errorRateScenario = (threshold: number): Scenario => {
    const perMinute = 1000
    const ratio = threshold * 2
    const route = userRoute(critical.name)
    const probes = config.app.probeRoutes
    return {
      series: [
        errors(critical.name, route, counter(perMinute * ratio, last)),
        errors(critical.name, NO_REQUEST_ENDPOINT, `0x${last}`),
        requests(route, counter(perMinute, last)),
        // probes and scrapes, a hundred times the users' traffic: counted, the ratio would stay far below the threshold
        ...probes.map((p) => requests(p, counter((perMinute * 100) / probes.length, last))),
      ],
      labels: {},
      valueAt: () => ratio,
      silent: [
        {
          // jobs are not requests; and with no request counted (no traffic, no request metrics) the ratio is no data, never +Inf
          name: 'blocked queries with no HTTP request counted (a job; an app without request metrics)',
          series: [errors(critical.name, NO_REQUEST_ENDPOINT, counter(10, last)), errors(critical.name, route, counter(10, last)), requests(route, `0x${last}`)],
        },
      ],
    }
  }
  switch (name) {
    case 'TenantViolationSummary': {
      // once a day: it fires at its time of day plus its `for` (scenarioFiringAt), then resolves
      return {
        series: [violation(other, 'logged', counter(1, last))],
        labels: {},
        valueAt: (at) => Math.min(at, 1440),
        resolves: { name: 'the end of its daily window (one notification a day)', series: [violation(other, 'logged', counter(1, last))], at: (firingAt) => firingAt + durationMinutes(SUMMARY_OPEN) },
        counter: (values) => [violation(other, 'logged', values)],
      }
    }
    case 'TenantViolationSpike': {
      const perMinute = t.violationSpikePerMinute * 2
      return {
        series: [violation(other, 'logged', counter(perMinute, last))],
        labels: {},
        valueAt: () => perMinute,
        silent: [{ name: 'blocked violations, however many, are not a spike of violations left to fix', series: [violation(critical, 'blocked', counter(perMinute * 10, last)), violation(other, 'logged', `0x${last}`)] }],
      }
    }
    case 'TenantCriticalModelViolation': {
      const policy = (p: string, values: string) => ({ series: seriesName(METRIC.modelPolicy, { job, model: critical.name, severity: critical.severity, policy: p }), values })
      return {
        // one logged violation on a series that exists from start-up at 0, on a model the app logs
        series: [violation(critical, 'logged', oneEvent(last)), policy('log', `1x${last}`), policy('block', `0x${last}`)],
        counter: (values) => [violation(critical, 'logged', values), policy('log', `1x${last}`), policy('block', `0x${last}`)],
        labels: { model: critical.name },
        valueAt: () => 1, // increase() does not extrapolate below a counter's 0: one event reads 1
        silent: [
          { name: 'blocked CRITICAL queries (the phase working as designed)', series: [violation(critical, 'blocked', counter(10, last)), violation(critical, 'logged', `0x${last}`), policy('block', `1x${last}`)] },
          {
            name: 'CRITICAL queries logged before the switch to this phase (the model is blocked now)',
            series: [violation(critical, 'logged', `0+10x${GATE_MINUTE - 1} ${10 * GATE_MINUTE}x${last - GATE_MINUTE}`), policy('log', beforeGate(last)), policy('block', gateValues(last))],
          },
        ],
      }
    }
    case 'TenantEnforcementErrors':
      return errorRateScenario(t.errorRate)
    case 'TenantEnforcementRollback':
      return errorRateScenario(t.errorRateRollback)
    case 'TenantJobQueriesBlocked':
      return {
        series: [errors(critical.name, NO_REQUEST_ENDPOINT, oneEvent(last))],
        counter: (values) => [errors(critical.name, NO_REQUEST_ENDPOINT, values)],
        labels: { model: critical.name },
        valueAt: () => 1,
        silent: [{ name: 'blocked queries of requests (they count in the error rate)', series: [errors(critical.name, userRoute(critical.name), counter(10, last)), errors(critical.name, NO_REQUEST_ENDPOINT, `0x${last}`)] }],
      }
    case 'TenantBypassUsage': {
      // enough per minute that the last hour is above the threshold when the gate opens
      const perMinute = Math.floor(t.bypassPerHour / GATE_MINUTE) + 1
      return {
        series: [{ series: seriesName(METRIC.bypassUsage, { job, reason: config.bypass.reasons[0] ?? 'other' }), values: counter(perMinute, last) }],
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
    case 'TenantFlagReloadFailed': {
      // gauges of unix seconds: flags applied at start-up (minute 1), a change refused at the gate minute
      const reload = (outcome: string, values: string) => ({ series: seriesName(METRIC.flagReloads, { job, instance: 'app-1:3000', outcome }), values })
      const refused = reload('refused', perMinute(last, (m) => (m < GATE_MINUTE ? '_' : GATE_MINUTE * 60)))
      return {
        series: [reload('applied', `60x${last}`), refused],
        labels: {},
        valueAt: () => 1,
        silent: [{ name: 'flags applied at start-up and later, never refused', series: [reload('applied', perMinute(last, (m) => (m < GATE_MINUTE ? 60 : GATE_MINUTE * 60)))] }],
        // a later change applied ends it at once (the old rule held for 15 minutes)
        resolves: {
          name: 'a later flag change that is applied',
          series: [reload('applied', perMinute(last, (m) => (m <= GATE_MINUTE ? 60 : (GATE_MINUTE + 1) * 60))), refused],
          at: (firingAt) => firingAt + 1,
        },
      }
    }
  }
}

/** The minute a phase test expects the alert at: the gate minute plus its `for`, or its daily window's. */
function scenarioFiringAt(phase: PhaseConfig, name: AlertName, forMinutes: number): number {
  return name === 'TenantViolationSummary' ? summaryMinute(phase.thresholds) + forMinutes : GATE_MINUTE + forMinutes
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

const expected = (rule: PrometheusRule, labels: Record<string, string>, value: number) => ({
  exp_labels: labels,
  exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, renderTemplate(v, value, labels)])),
})

function phaseTests(config: TenantFenceConfig, phase: PhaseConfig, rules: PrometheusRule[]) {
  const job = testJob(config)
  const modeSeries = (mode: string, values: string) => ({ series: seriesName(METRIC.mode, { job, mode }), values })
  const other = otherMode(config, phase)
  return rules.flatMap((rule) => {
    const forMinutes = Math.ceil(durationMinutes(rule.for) / STEP_MINUTES) * STEP_MINUTES
    const firingAt = scenarioFiringAt(phase, rule.alert as AlertName, forMinutes)
    const last = firingAt + TAIL_MINUTES + (rule.alert === 'TenantViolationSummary' ? durationMinutes(SUMMARY_OPEN) : 0)
    const s = scenario(config, phase, rule.alert as AlertName, last)
    const labels = { ...s.labels, job, ...rule.labels }
    const gateOpen = [modeSeries(phase.mode, gateValues(last)), modeSeries(other, `0x${last}`)]
    const tests: object[] = [
      {
        name: `${rule.alert} fires ${rule.for} after the app reports ${phase.mode}`,
        interval: `${STEP_MINUTES}m`,
        input_series: [...s.series, ...gateOpen],
        alert_rule_test: [
          { eval_time: `${firingAt - STEP_MINUTES}m`, alertname: rule.alert, exp_alerts: [] },
          { eval_time: `${firingAt}m`, alertname: rule.alert, exp_alerts: [expected(rule, labels, s.valueAt(firingAt))] },
        ],
      },
      {
        name: `${rule.alert} of phase ${phase.phase} stays silent while the app reports ${other}`,
        interval: `${STEP_MINUTES}m`,
        input_series: [...s.series, modeSeries(phase.mode, `0x${last}`), modeSeries(other, gateValues(last))],
        alert_rule_test: [{ eval_time: `${firingAt}m`, alertname: rule.alert, exp_alerts: [] }],
      },
    ]
    if (s.resolves) {
      const r = s.resolves
      tests.push({
        name: `${rule.alert} resolves at ${r.name}`,
        interval: `${STEP_MINUTES}m`,
        input_series: [...r.series, ...gateOpen],
        alert_rule_test: [
          { eval_time: `${firingAt}m`, alertname: rule.alert, exp_alerts: [expected(rule, labels, s.valueAt(firingAt))] },
          { eval_time: `${r.at(firingAt)}m`, alertname: rule.alert, exp_alerts: [] },
        ],
      })
    }
    if (s.counter) {
      // The first event counts: a series whose first sample is already 1 (an event before the first scrape)
      const born = s.counter(perMinute(last, (m) => (m < GATE_MINUTE ? '_' : 1)))
      // A restart of a series that existed: 3 → 0 is a reset, not an event; the 1 after it is one event
      const restartAt = GATE_MINUTE + 2
      const eventAt = GATE_MINUTE + 5
      const restarted = s.counter(perMinute(last + 5, (m) => (m < restartAt ? 3 : m < eventAt ? 0 : 1)))
      const restartFires = Math.max(firingAt, eventAt + forMinutes)
      tests.push(
        {
          name: `${rule.alert} fires on a series born at 1 (its first event came before the first scrape)`,
          interval: `${STEP_MINUTES}m`,
          input_series: [...born, ...gateOpen],
          alert_rule_test: [
            { eval_time: `${firingAt - STEP_MINUTES}m`, alertname: rule.alert, exp_alerts: [] },
            { eval_time: `${firingAt}m`, alertname: rule.alert, exp_alerts: [expected(rule, labels, 1)] },
          ],
        },
        {
          name: `${rule.alert} reads a restart (3, back to 0, then 1) as one event, not as four and not as none`,
          interval: `${STEP_MINUTES}m`,
          input_series: [...restarted, modeSeries(phase.mode, gateValues(last + 5)), modeSeries(other, `0x${last + 5}`)],
          alert_rule_test: [
            { eval_time: `${restartFires - STEP_MINUTES}m`, alertname: rule.alert, exp_alerts: [] },
            { eval_time: `${restartFires}m`, alertname: rule.alert, exp_alerts: [expected(rule, labels, 1)] },
          ],
        },
      )
    }
    for (const silent of s.silent ?? []) {
      tests.push({
        name: `${rule.alert} stays silent on ${silent.name}`,
        interval: `${STEP_MINUTES}m`,
        input_series: [...silent.series, ...gateOpen],
        alert_rule_test: [{ eval_time: `${firingAt}m`, alertname: rule.alert, exp_alerts: [] }, { eval_time: `${last}m`, alertname: rule.alert, exp_alerts: [] }],
      })
    }
    return tests
  })
}

function silenceTests(config: TenantFenceConfig, rules: PrometheusRule[]) {
  const job = testJob(config)
  const up = (instance: string, values: string) => ({ series: seriesName('up', { job, instance }), values })
  const mode = (instance: string, values: string) => ({ series: seriesName(METRIC.mode, { job, instance, mode: config.phases[1]?.mode ?? 'log_only' }), values })
  return rules.flatMap((rule) => {
    const forMinutes = Math.ceil(durationMinutes(rule.for) / STEP_MINUTES) * STEP_MINUTES
    const last = forMinutes + TAIL_MINUTES
    if (rule.alert === 'TenantMetricsMissing') {
      return [
        {
          name: `${rule.alert} fires ${rule.for} after the app stops reporting a mode (its only instance down)`,
          interval: `${STEP_MINUTES}m`,
          input_series: [up('app-1:3000', `0x${last}`)],
          alert_rule_test: [
            { eval_time: `${forMinutes - STEP_MINUTES}m`, alertname: rule.alert, exp_alerts: [] },
            { eval_time: `${forMinutes}m`, alertname: rule.alert, exp_alerts: [expected(rule, { ...rule.labels }, 1)] },
          ],
        },
        {
          name: `${rule.alert} stays silent while one instance reports a mode`,
          interval: `${STEP_MINUTES}m`,
          input_series: [up('app-1:3000', `1x${last}`), mode('app-1:3000', `1x${last}`), up('app-2:3000', `0x${last}`)],
          alert_rule_test: [{ eval_time: `${last}m`, alertname: rule.alert, exp_alerts: [] }],
        },
      ]
    }
    if (rule.alert === 'TenantFleetModeMismatch') return fleetTests(config, rule, forMinutes, last)
    // TenantInstanceNotReporting: one instance reports, one is down, one is up without tenantfence's metrics
    const labels = (instance: string) => ({ instance, job, ...rule.labels })
    return [
      {
        name: `${rule.alert} fires ${rule.for} after an instance is down or scraped without tenantfence's metrics`,
        interval: `${STEP_MINUTES}m`,
        input_series: [up('app-1:3000', `1x${last}`), mode('app-1:3000', `1x${last}`), up('app-2:3000', `0x${last}`), up('app-3:3000', `1x${last}`)],
        alert_rule_test: [
          { eval_time: `${forMinutes - STEP_MINUTES}m`, alertname: rule.alert, exp_alerts: [] },
          { eval_time: `${forMinutes}m`, alertname: rule.alert, exp_alerts: [expected(rule, labels('app-2:3000'), 0), expected(rule, labels('app-3:3000'), 1)] },
        ],
      },
    ]
  })
}

/**
 * A fleet of instances of one job, each reporting one mode of two (the gauge: 1 for its mode, 0
 * for the other): the rollback mode and the phase mode it rolls back from.
 */
function fleetTests(config: TenantFenceConfig, rule: PrometheusRule, forMinutes: number, last: number) {
  const job = testJob(config)
  const from = config.phases[3]?.mode ?? 'enforce'
  const to = otherModeThan(config, from)
  /** the instance's gauges: in `to` while `inTo(minute)`, else in `from` */
  const instance = (name: string, inTo: (minute: number) => boolean) =>
    [from, to].map((m) => ({ series: seriesName(METRIC.mode, { job, instance: name, mode: m }), values: perMinute(last, (minute) => (inTo(minute) === (m === to) ? 1 : 0)) }))
  const labels = { job, ...rule.labels }
  return [
    {
      name: `${rule.alert} stays silent while the instances agree on the mode`,
      interval: `${STEP_MINUTES}m`,
      input_series: [...instance('app-1:3000', () => false), ...instance('app-2:3000', () => false)],
      alert_rule_test: [{ eval_time: `${forMinutes}m`, alertname: rule.alert, exp_alerts: [] }, { eval_time: `${last}m`, alertname: rule.alert, exp_alerts: [] }],
    },
    {
      name: `${rule.alert} stays silent while a change reaches every instance within ${rule.for}`,
      interval: `${STEP_MINUTES}m`,
      // app-1 rolls back at minute 0, app-2 one step before the mismatch has lasted `for`
      input_series: [...instance('app-1:3000', () => true), ...instance('app-2:3000', (m) => m >= forMinutes - STEP_MINUTES)],
      alert_rule_test: [{ eval_time: `${forMinutes}m`, alertname: rule.alert, exp_alerts: [] }, { eval_time: `${last}m`, alertname: rule.alert, exp_alerts: [] }],
    },
    {
      name: `${rule.alert} fires ${rule.for} after the instances of a job start to disagree on the mode`,
      interval: `${STEP_MINUTES}m`,
      input_series: [...instance('app-1:3000', () => true), ...instance('app-2:3000', () => true), ...instance('app-3:3000', () => false)],
      alert_rule_test: [
        { eval_time: `${forMinutes - STEP_MINUTES}m`, alertname: rule.alert, exp_alerts: [] },
        { eval_time: `${forMinutes}m`, alertname: rule.alert, exp_alerts: [expected(rule, labels, 3)] },
      ],
    },
  ]
}

/** A reported mode other than `mode`: the config's rollback mode when it differs, else another phase's. */
function otherModeThan(config: TenantFenceConfig, mode: string): ReportedMode {
  const rollback = config.rollback.flags.TENANT_ENFORCEMENT_MODE
  const candidates = [rollback, ...config.phases.map((p) => p.mode), ...REPORTED_MODES]
  return candidates.find((m): m is ReportedMode => typeof m === 'string' && (REPORTED_MODES as readonly string[]).includes(m) && m !== mode)!
}

export function ruleFileTests(config: TenantFenceConfig, file: RuleFile) {
  const rules = fileRules(config, file)
  return file.phase ? phaseTests(config, file.phase, rules) : silenceTests(config, rules)
}

export function renderUnitTestFile(config: TenantFenceConfig, file: RuleFile, configName: string): string {
  const doc = {
    rule_files: [`../${rulesFile(file)}`],
    evaluation_interval: `${STEP_MINUTES}m`,
    tests: ruleFileTests(config, file),
  }
  const what = `promtool unit tests of ${rulesFile(file)} (run: promtool test rules alerts/${testFile(file)}).`
  return yamlHeader(configName, what) + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })
}
