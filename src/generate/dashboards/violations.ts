// Phase 1 dashboard: what log-only mode found. Counts and trends from Prometheus, endpoints
// and the lines themselves from Loki (the counter has no endpoint label; the log line does).
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge'
import * as common from '@grafana/grafana-foundation-sdk/common'
import { DashboardBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import * as logs from '@grafana/grafana-foundation-sdk/logs'
import * as stat from '@grafana/grafana-foundation-sdk/stat'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import type { TenantFenceConfig } from '../../config/schema.ts'
import { VIOLATION_MESSAGE } from '../../telemetry/metric-names.ts'
import { RATE_INTERVAL, violationsIncrease, violationsPerMinute } from '../promql.ts'
import { LOKI_DS } from '../datasources.ts'
import { VIOLATIONS_DASHBOARD as D } from './catalog.ts'
import { describe, lastValue, lokiTarget, lokiVariable, prometheusVariable, promTarget, thresholds } from './panels.ts'

/** LogQL of the violation lines of the app (pino JSON, shipped by pino-loki with label app = job). */
export function violationLinesQuery(config: TenantFenceConfig): string {
  return `{app=${JSON.stringify(config.app.job)}} |= ${JSON.stringify(VIOLATION_MESSAGE)} | json | msg=${JSON.stringify(VIOLATION_MESSAGE)}`
}

export function violationsDashboard(config: TenantFenceConfig, notice: string): Dashboard {
  const t = config.thresholds
  const P = D.panels
  const perMinute = 'suffix: /min'

  const total = describe(new stat.PanelBuilder(), P.total, 'Violations counted in the last 24 hours, all models. TenantViolationSummary fires on any.', 'short', { w: 6, h: 5 })
    .withTarget(promTarget('A', violationsIncrease(config, '24h'), 'violations', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .noValue('0')
    .thresholds(thresholds('green', [[1, 'orange']]))

  const bySeverity = describe(new stat.PanelBuilder(), P.bySeverity, 'Violations in the last 24 hours by the severity of the model (CRITICAL models are blocked first).', 'short', { w: 8, h: 5 })
    .withTarget(promTarget('A', violationsIncrease(config, '24h', ['severity']), '{{severity}}', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .noValue('0')
    .textMode(common.BigValueTextMode.ValueAndName)
    .thresholds(thresholds('green', [[1, 'orange']]))

  const trend = describe(
    new stat.PanelBuilder(),
    P.trend,
    'Violations in the last 24 hours minus those of the 24 hours before: above zero means more unscoped queries than yesterday.',
    'short',
    { w: 10, h: 5 },
  )
    .withTarget(promTarget('A', `${violationsIncrease(config, '24h')} - (${violationsIncrease(config, '24h', [], {}, '1d')} or vector(0))`, 'change', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .noValue('0')
    .thresholds(thresholds('green', [[1, 'red']]))

  const byModel = describe(new bargauge.PanelBuilder(), P.byModel, 'Violations in the last 24 hours per tenant-owned model.', 'short', { w: 12, h: 9 })
    .withTarget(promTarget('A', violationsIncrease(config, '24h', ['model']), '{{model}}', 'instant'))
    .reduceOptions(lastValue())
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .thresholds(thresholds('green', [[1, 'orange']]))

  const overTime = describe(
    new timeseries.PanelBuilder(),
    P.overTime,
    `Violations per minute by model, and in total. The line is TenantViolationSpike's threshold (${t.violationSpikePerMinute} a minute in total over 5 minutes).`,
    perMinute,
    { w: 12, h: 9 },
  )
    .withTarget(promTarget('A', violationsPerMinute(config, RATE_INTERVAL, ['model']), '{{model}}'))
    .withTarget(promTarget('B', violationsPerMinute(config, RATE_INTERVAL), 'all models'))
    .thresholds(thresholds('green', [[t.violationSpikePerMinute, 'red']]))
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Line))

  const topEndpoints = describe(
    new bargauge.PanelBuilder(),
    P.topEndpoints,
    'The 10 route templates with the most violation lines in Loki over the last 24 hours (the metric has no endpoint label; the log line does).',
    'short',
    { w: 24, h: 8 },
    LOKI_DS,
  )
    .withTarget(lokiTarget('A', `topk(10, sum by (endpoint) (count_over_time(${violationLinesQuery(config)} [24h])))`, 'instant', '{{endpoint}}'))
    .reduceOptions(lastValue())
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .thresholds(thresholds('green', [[1, 'orange']]))

  const recentLines = describe(
    new logs.PanelBuilder(),
    P.recentLines,
    'The latest TENANT_VIOLATION lines: model, action, endpoint, user, tenant, sanitized query arguments and the call site. Expand a line for its fields.',
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

  return new DashboardBuilder(D.title)
    .uid(D.uid)
    .description(`Tenant violations found while logging only (phase 1): counts, trend, models, endpoints and the lines. ${notice}`)
    .tags(['tenantfence', 'generated'])
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .readonly()
    .withVariable(prometheusVariable())
    .withVariable(lokiVariable())
    .withPanel(total)
    .withPanel(bySeverity)
    .withPanel(trend)
    .withPanel(byModel)
    .withPanel(overTime)
    .withPanel(topEndpoints)
    .withPanel(recentLines)
    .build()
}
