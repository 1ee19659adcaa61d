// Phase 1 dashboard: what log-only mode found. Counts and trends from Prometheus, logged and
// blocked apart; endpoints and the lines themselves from Loki (the counter has no endpoint
// label; the log line does).
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge'
import * as common from '@grafana/grafana-foundation-sdk/common'
import { DashboardBuilder, DashboardCursorSync, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import * as logs from '@grafana/grafana-foundation-sdk/logs'
import * as stat from '@grafana/grafana-foundation-sdk/stat'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import type { TenantFenceConfig } from '../../config/schema.ts'
import { METRIC, VIOLATION_MESSAGE } from '../../telemetry/metric-names.ts'
import { counterSum, DASHBOARD_SCOPE, decision, loggedViolationsPerHour, PER_HOUR, RATE_INTERVAL, type Matcher } from '../promql.ts'
import { LOKI_DS } from '../datasources.ts'
import { ENFORCEMENT_DASHBOARD, VIOLATIONS_DASHBOARD as D } from './catalog.ts'
import {
  annotations,
  colour,
  criticalModelsRegex,
  dashboardLinks,
  describe,
  envVariable,
  jobVariables,
  lastValue,
  levels,
  lokiStream,
  lokiTarget,
  lokiVariable,
  NOT_REPORTING,
  showLinksOnDashboard,
  prometheusVariable,
  promTarget,
  tableLegend,
  thresholds,
  whileReporting,
} from './panels.ts'

/** The fields of a violation line the panels show; the JSON parser extracts only these. */
const LINE_FIELDS = ['msg', 'severity', 'model', 'action', 'violation', 'decision', 'endpoint'] as const

/**
 * LogQL of the app's violation lines (pino JSON, shipped by pino-loki with labels app and env),
 * extracting `fields` only (every field of a line would become a label of the result).
 */
export function violationLinesQuery(config: TenantFenceConfig, fields: readonly string[] = LINE_FIELDS): string {
  const extract = [...new Set(['msg', ...fields])].map((f) => `${f}="${f}"`).join(', ')
  return `${lokiStream(config)} |= ${JSON.stringify(VIOLATION_MESSAGE)} | json ${extract} | msg=${JSON.stringify(VIOLATION_MESSAGE)}`
}

export function violationsDashboard(config: TenantFenceConfig, notice: string): Dashboard {
  const P = D.panels
  const S = DASHBOARD_SCOPE
  const perHour = 'suffix: /h'
  const critical = criticalModelsRegex(config)
  const last24h = (by: string[], extra: Matcher[] = []) => counterSum(S, 'increase', METRIC.violations, '24h', by, extra)

  const total = describe(new stat.PanelBuilder(), P.total, 'Violations counted in the last 24 hours, all models: logged (left to fix) and blocked (stopped by enforcement) apart. TenantViolationSummary fires on any.', 'short', { w: 6, h: 5 })
    .withTarget(promTarget('A', whileReporting(last24h([], [decision('logged')])), 'logged', 'instant'))
    .withTarget(promTarget('B', whileReporting(last24h([], [decision('blocked')])), 'blocked', 'instant'))
    .reduceOptions(lastValue())
    .textMode(common.BigValueTextMode.ValueAndName)
    .graphMode(common.BigValueGraphMode.None)
    .noValue(NOT_REPORTING)
    .thresholds(thresholds('green', [[1, 'orange']]))

  const bySeverity = describe(new stat.PanelBuilder(), P.bySeverity, 'Violations in the last 24 hours by the severity of the model (CRITICAL models are blocked first), as the document\'s daily line: CRITICAL | HIGH | MEDIUM.', 'short', { w: 8, h: 5 })
    .withTarget(promTarget('A', whileReporting(last24h(['severity'])), '{{severity}}', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .noValue(NOT_REPORTING)
    .textMode(common.BigValueTextMode.ValueAndName)
    .thresholds(thresholds('green', [[1, 'orange']]))
    .overrideByName('CRITICAL', colour('red'))

  const trend = describe(
    new stat.PanelBuilder(),
    P.trend,
    'Violations in the last 24 hours minus those of the 24 hours before: above zero means more unscoped queries than yesterday.',
    'short',
    { w: 10, h: 5 },
  )
    .withTarget(promTarget('A', whileReporting(`${last24h([])} - (${counterSum(S, 'increase', METRIC.violations, '24h', [], [], '1d')} or vector(0))`), 'change', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .noValue(NOT_REPORTING)
    .thresholds(thresholds('green', [[1, 'red']]))

  const byModel = describe(new bargauge.PanelBuilder(), P.byModel, 'Violations in the last 24 hours per tenant-owned model, logged and blocked apart. CRITICAL models in red.', 'short', { w: 12, h: 9 })
    .withTarget(promTarget('A', whileReporting(`${last24h(['model', 'decision'])} > 0`), '{{model}} {{decision}}', 'instant'))
    .reduceOptions(lastValue())
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .noValue('none (or app not reporting)')
    .thresholds(thresholds('green', [[1, 'orange']]))
  if (critical) byModel.overrideByRegexp(critical, colour('red'))

  // per hour, like every rate of both dashboards (blocked queries, bypasses) and the gate's violations/h
  const spike = levels(config, 'TenantViolationSpike', (x) => x.violationSpikePerMinute * 60)
  const overTime = describe(
    new timeseries.PanelBuilder(),
    P.overTime,
    `Violations per hour by model, logged and blocked apart, and all logged ones. The line is TenantViolationSpike's threshold (${spike.join(' / ')} logged an hour, i.e. ${spike.map((v) => v / 60).join(' / ')} a minute over 5 minutes). CRITICAL models in red.`,
    perHour,
    { w: 12, h: 9 },
  )
    .withTarget(promTarget('A', `${counterSum(S, 'rate', METRIC.violations, RATE_INTERVAL, ['model'], [decision('logged')])} * ${PER_HOUR}`, '{{model}} logged'))
    .withTarget(promTarget('B', `${counterSum(S, 'rate', METRIC.violations, RATE_INTERVAL, ['model'], [decision('blocked')])} * ${PER_HOUR}`, '{{model}} blocked'))
    .withTarget(promTarget('C', loggedViolationsPerHour(S, RATE_INTERVAL), 'all logged'))
    .legend(tableLegend())
    .thresholds(thresholds('green', spike.map((v) => [v, 'red'] as [number, string])))
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Line))
  if (critical) overTime.overrideByRegexp(critical, colour('red'))

  const topEndpoints = describe(
    new bargauge.PanelBuilder(),
    P.topEndpoints,
    'The 10 route templates with the most violation lines in Loki over the last 24 hours ("unknown": outside a request). The metric has no endpoint label; the log line does.',
    'short',
    { w: 24, h: 8 },
    LOKI_DS,
  )
    .withTarget(lokiTarget('A', `topk(10, sum by (endpoint) (count_over_time(${violationLinesQuery(config, ['endpoint'])} [24h])))`, 'instant', '{{endpoint}}'))
    .reduceOptions(lastValue())
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .thresholds(thresholds('green', [[1, 'orange']]))

  const recentLines = describe(
    new logs.PanelBuilder(),
    P.recentLines,
    'The latest TENANT_VIOLATION lines: severity, model, action, violation, decision and endpoint as fields; the line holds user, tenant, sanitized query arguments and the call site.',
    'none',
    { w: 24, h: 12 },
    LOKI_DS,
  )
    .withTarget(lokiTarget('A', violationLinesQuery(config), 'range'))
    .showTime(true)
    .wrapLogMessage(true)
    .prettifyLogMessage(false)
    .enableLogDetails(true)
    .sortOrder(common.LogsSortOrder.Descending)

  const builder = new DashboardBuilder(D.title)
    .uid(D.uid)
    .description(`Tenant violations found while logging only (phase 1): counts, trend, models, endpoints and the lines. ${notice}`)
    .tags(['tenantfence', 'generated'])
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .withVariable(prometheusVariable())
    .withVariable(lokiVariable())
  for (const v of jobVariables(config)) builder.withVariable(v)
  builder.withVariable(envVariable(config))
  for (const l of dashboardLinks(config, ENFORCEMENT_DASHBOARD, [1])) builder.link(l)
  for (const a of annotations()) builder.annotation(a)
  return showLinksOnDashboard(builder.withPanel(total).withPanel(bySeverity).withPanel(trend).withPanel(byModel).withPanel(overTime).withPanel(topEndpoints).withPanel(recentLines).build())
}
