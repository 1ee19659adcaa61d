// Phase 2+ dashboard: what enforcement does. Mode and per-model policy from the gauges, the
// blocked share of requests against the alert thresholds, the check's cost, bypasses.
import * as common from '@grafana/grafana-foundation-sdk/common'
import { DashboardBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import * as stat from '@grafana/grafana-foundation-sdk/stat'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import type { TenantFenceConfig } from '../../config/schema.ts'
import { METRIC } from '../../telemetry/metric-names.ts'
import { checkP95Ms, counterIncrease, counterRate, errorRate, RATE_INTERVAL, selector } from '../promql.ts'
import { percent } from '../alerts/specs.ts'
import { ENFORCEMENT_DASHBOARD as D } from './catalog.ts'
import { describe, lastValue, prometheusVariable, promTarget, thresholds } from './panels.ts'

export function enforcementDashboard(config: TenantFenceConfig, notice: string): Dashboard {
  const t = config.thresholds
  const P = D.panels
  const lines = () => new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Line)
  const policyCount = (policy: string) => `count(max by (model) (${selector(config, METRIC.modelPolicy, { policy })}) == 1)`

  const mode = describe(new stat.PanelBuilder(), P.mode, 'The enforcement mode the app reports (disabled, log_only, selective, enforce, hardened). The phase alerts follow it.', 'none', { w: 6, h: 5 })
    .withTarget(promTarget('A', `max by (mode) (${selector(config, METRIC.mode)}) == 1`, '{{mode}}', 'instant'))
    .reduceOptions(lastValue())
    .textMode(common.BigValueTextMode.Name)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.None)
    .noValue('not reporting')

  const modelPolicies = describe(new stat.PanelBuilder(), P.modelPolicies, 'Tenant-owned models whose queries are blocked (enforced) and those only logged, as the app reports them.', 'short', { w: 6, h: 5 })
    .withTarget(promTarget('A', policyCount('block'), 'enforced', 'instant'))
    .withTarget(promTarget('B', policyCount('log'), 'logged', 'instant'))
    .reduceOptions(lastValue())
    .textMode(common.BigValueTextMode.ValueAndName)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.None)
    .noValue('0')

  const blockedLastHour = describe(new stat.PanelBuilder(), P.blockedLastHour, 'Queries blocked by enforcement (403 TENANT_CONTEXT_REQUIRED) in the last hour.', 'short', { w: 6, h: 5 })
    .withTarget(promTarget('A', counterIncrease(config, METRIC.enforcementErrors, '1h'), 'blocked', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .thresholds(thresholds('green', [[1, 'orange']]))
    .noValue('0')

  const bypassesLastHour = describe(new stat.PanelBuilder(), P.bypassesLastHour, `Uses of withoutTenantEnforcement in the last hour. TenantBypassUsage fires above ${t.bypassPerHour}.`, 'short', { w: 6, h: 5 })
    .withTarget(promTarget('A', counterIncrease(config, METRIC.bypassUsage, '1h'), 'bypasses', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .thresholds(thresholds('green', [[t.bypassPerHour, 'red']]))
    .noValue('0')

  const errorRatePanel = describe(
    new timeseries.PanelBuilder(),
    P.errorRate,
    `Blocked queries divided by HTTP requests. TenantEnforcementErrors warns above ${percent(t.errorRateWarning)}; TenantEnforcementRollback (roll back to log only) fires above ${percent(t.errorRateRollback)}.`,
    'percentunit',
    { w: 12, h: 8 },
  )
    .withTarget(promTarget('A', errorRate(config, RATE_INTERVAL), 'blocked / requests'))
    .thresholds(thresholds('green', [[t.errorRateWarning, 'orange'], [t.errorRateRollback, 'red']]))
    .thresholdsStyle(lines())

  const checkP95 = describe(
    new timeseries.PanelBuilder(),
    P.checkP95,
    `95th percentile of the time the tenant check adds to a query. TenantCheckLatencyHigh above ${t.checkLatencyWarningMs} ms, TenantCheckLatencyCritical above ${t.checkLatencyCriticalMs} ms.`,
    'ms',
    { w: 12, h: 8 },
  )
    .withTarget(promTarget('A', checkP95Ms(config, RATE_INTERVAL), 'p95'))
    .thresholds(thresholds('green', [[t.checkLatencyWarningMs, 'orange'], [t.checkLatencyCriticalMs, 'red']]))
    .thresholdsStyle(lines())

  const errorsByModel = describe(new timeseries.PanelBuilder(), P.errorsByModel, 'Blocked queries per second by model.', 'ops', { w: 12, h: 8 }).withTarget(
    promTarget('A', counterRate(config, METRIC.enforcementErrors, RATE_INTERVAL, ['model']), '{{model}}'),
  )

  const errorsByEndpoint = describe(new timeseries.PanelBuilder(), P.errorsByEndpoint, 'Blocked queries per second by route template: where the missing tenant context comes from.', 'ops', { w: 12, h: 8 }).withTarget(
    promTarget('A', counterRate(config, METRIC.enforcementErrors, RATE_INTERVAL, ['endpoint']), '{{endpoint}}'),
  )

  const bypassesByReason = describe(new timeseries.PanelBuilder(), P.bypassesByReason, 'Bypasses per second by their documented reason ("other" for an undocumented one).', 'ops', { w: 12, h: 8 }).withTarget(
    promTarget('A', counterRate(config, METRIC.bypassUsage, RATE_INTERVAL, ['reason']), '{{reason}}'),
  )

  const flagErrors = describe(new stat.PanelBuilder(), P.flagErrors, 'Runtime flag values the app refused in the last 24 hours (it kept its last good flags). TenantFlagReloadFailed fires on any.', 'short', { w: 12, h: 8 })
    .withTarget(promTarget('A', counterIncrease(config, METRIC.flagErrors, '24h'), 'refused', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .thresholds(thresholds('green', [[1, 'red']]))
    .noValue('0')

  return new DashboardBuilder(D.title)
    .uid(D.uid)
    .description(`Tenant enforcement (phases 2 to 4): mode, per-model policy, blocked share of requests, check cost and bypasses. ${notice}`)
    .tags(['tenantfence', 'generated'])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .readonly()
    .withVariable(prometheusVariable())
    .withPanel(mode)
    .withPanel(modelPolicies)
    .withPanel(blockedLastHour)
    .withPanel(bypassesLastHour)
    .withPanel(errorRatePanel)
    .withPanel(checkP95)
    .withPanel(errorsByModel)
    .withPanel(errorsByEndpoint)
    .withPanel(bypassesByReason)
    .withPanel(flagErrors)
    .build()
}
