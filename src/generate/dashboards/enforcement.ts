// Phase 2+ dashboard: what enforcement does. Mode and per-model policy from the gauges, the
// blocked share of users' requests against each phase's alert thresholds, the check's cost,
// bypasses in their threshold's unit (per hour), which instances report at all and in which mode.
import * as common from '@grafana/grafana-foundation-sdk/common'
import { DashboardBuilder, DashboardCursorSync, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import * as stat from '@grafana/grafana-foundation-sdk/stat'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import type { TenantFenceConfig } from '../../config/schema.ts'
import { METRIC } from '../../telemetry/metric-names.ts'
import { CHECK_QUANTILES, checkQuantileMs, counterSum, DASHBOARD_SCOPE, eq, errorRate, PER_HOUR, RATE_INTERVAL, selector } from '../promql.ts'
import { percent } from '../alerts/specs.ts'
import { ENFORCEMENT_DASHBOARD as D, VIOLATIONS_DASHBOARD } from './catalog.ts'
import {
  annotations,
  countOrZero,
  dashboardLinks,
  describe,
  jobVariables,
  lastValue,
  levels,
  NOT_REPORTING,
  showLinksOnDashboard,
  prometheusVariable,
  promTarget,
  tableLegend,
  thresholds,
  whileReporting,
} from './panels.ts'

export function enforcementDashboard(config: TenantFenceConfig, notice: string): Dashboard {
  const P = D.panels
  const S = DASHBOARD_SCOPE
  const lines = () => new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Line)
  const policyCount = (policy: string) => countOrZero(`max by (model) (${selector(S, METRIC.modelPolicy, [eq('policy', policy)])}) == 1`)
  const errorLevels = levels(config, 'TenantEnforcementErrors', (t) => t.errorRate)
  const rollbackLevels = levels(config, 'TenantEnforcementRollback', (t) => t.errorRateRollback)
  const bypassLevels = levels(config, 'TenantBypassUsage', (t) => t.bypassPerHour)
  const latencyWarning = levels(config, 'TenantCheckLatencyHigh', (t) => t.checkLatencyWarningMs)
  const latencyCritical = levels(config, 'TenantCheckLatencyCritical', (t) => t.checkLatencyCriticalMs)
  // the phase gate's p95 budget (checkP95Ms criteria, 0.5 ms by default): where the check stops being "fine"
  const budget = [...new Set(config.phases.flatMap((p) => p.successCriteria.filter((c) => c.kind === 'checkP95Ms').map((c) => c.below ?? c.max!)))].sort((a, b) => a - b)
  const list = (values: number[], f: (v: number) => string = String) => values.map(f).join(' / ')

  const mode = describe(new stat.PanelBuilder(), P.mode, 'The enforcement mode the app reports (disabled, log_only, selective, enforce, hardened). The phase alerts follow it.', 'none', { w: 6, h: 5 })
    .withTarget(promTarget('A', `max by (mode) (${selector(S, METRIC.mode)}) == 1`, '{{mode}}', 'instant'))
    .reduceOptions(lastValue())
    .textMode(common.BigValueTextMode.Name)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.None)
    .noValue(NOT_REPORTING)

  const modelPolicies = describe(new stat.PanelBuilder(), P.modelPolicies, 'Tenant-owned models whose queries are blocked (enforced) and those only logged, as the app reports them.', 'short', { w: 6, h: 5 })
    .withTarget(promTarget('A', policyCount('block'), 'enforced', 'instant'))
    .withTarget(promTarget('B', policyCount('log'), 'logged', 'instant'))
    .reduceOptions(lastValue())
    .textMode(common.BigValueTextMode.ValueAndName)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.None)
    .noValue(NOT_REPORTING)

  const blockedLastHour = describe(new stat.PanelBuilder(), P.blockedLastHour, 'Queries blocked by enforcement (403 TENANT_CONTEXT_REQUIRED in requests, failures in jobs) in the last hour.', 'short', { w: 6, h: 5 })
    .withTarget(promTarget('A', whileReporting(counterSum(S, 'increase', METRIC.enforcementErrors, '1h')), 'blocked', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .thresholds(thresholds('green', [[1, 'orange']]))
    .noValue(NOT_REPORTING)

  const bypassesLastHour = describe(new stat.PanelBuilder(), P.bypassesLastHour, `Uses of withoutTenantEnforcement in the last hour. TenantBypassUsage fires above ${list(bypassLevels)} an hour.`, 'short', { w: 6, h: 5 })
    .withTarget(promTarget('A', whileReporting(counterSum(S, 'increase', METRIC.bypassUsage, '1h')), 'bypasses', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .thresholds(thresholds('green', bypassLevels.map((v) => [v, 'red'] as [number, string])))
    .noValue(NOT_REPORTING)

  const errorRatePanel = describe(
    new timeseries.PanelBuilder(),
    P.errorRate,
    `Blocked requests of users divided by users' requests (probe and scrape routes ${config.app.probeRoutes.join(', ') || '(none)'} left out; blocked jobs are not requests). TenantEnforcementErrors fires above ${list(errorLevels, percent)} (per phase); TenantEnforcementRollback (roll back to log only) above ${list(rollbackLevels, percent)}. No line: no request.`,
    'percentunit',
    { w: 12, h: 8 },
  )
    .withTarget(promTarget('A', errorRate(config, S, 'rate', RATE_INTERVAL), 'blocked / requests'))
    .legend(tableLegend())
    .thresholds(thresholds('green', [...errorLevels.map((v) => [v, 'orange'] as [number, string]), ...rollbackLevels.map((v) => [v, 'red'] as [number, string])]))
    .thresholdsStyle(lines())

  const checkP95 = describe(
    new timeseries.PanelBuilder(),
    P.checkP95,
    `95th and 99th percentiles of the time the tenant check adds to a query. Orange from the phase gate's p95 budget (${budget.length ? `${list(budget)} ms: at or above it the gate fails` : 'none in the config'}), red from TenantCheckLatencyHigh's ${list(latencyWarning)} ms (TenantCheckLatencyCritical: ${list(latencyCritical)} ms).`,
    'ms',
    { w: 12, h: 8 },
  )
    .legend(tableLegend())
    .thresholds(thresholds('green', [...budget.map((v) => [v, 'orange'] as [number, string]), ...latencyWarning.map((v) => [v, 'red'] as [number, string])]))
    .thresholdsStyle(lines())
  CHECK_QUANTILES.forEach((q, i) => checkP95.withTarget(promTarget(String.fromCharCode(65 + i), checkQuantileMs(S, RATE_INTERVAL, q), `p${Math.round(q * 100)}`)))

  const errorsByModel = describe(new timeseries.PanelBuilder(), P.errorsByModel, 'Blocked queries per hour by model (per hour, like violations and bypasses).', 'suffix: /h', { w: 12, h: 8 })
    .withTarget(promTarget('A', `${counterSum(S, 'rate', METRIC.enforcementErrors, RATE_INTERVAL, ['model'])} * ${PER_HOUR}`, '{{model}}'))
    .legend(tableLegend())

  const errorsByEndpoint = describe(new timeseries.PanelBuilder(), P.errorsByEndpoint, 'Blocked queries per hour by route template: where the missing tenant context comes from. "unknown" is outside any request (jobs, scripts): TenantJobQueriesBlocked.', 'suffix: /h', { w: 12, h: 8 })
    .withTarget(promTarget('A', `${counterSum(S, 'rate', METRIC.enforcementErrors, RATE_INTERVAL, ['endpoint'])} * ${PER_HOUR}`, '{{endpoint}}'))
    .legend(tableLegend())

  const bypassesByReason = describe(
    new timeseries.PanelBuilder(),
    P.bypassesByReason,
    `Bypasses in the hour up to each point, by documented reason ("other" undocumented, "none" without a reason): the unit of TenantBypassUsage, whose line is at ${list(bypassLevels)} an hour.`,
    'suffix: /h',
    { w: 12, h: 8 },
  )
    .withTarget(promTarget('A', counterSum(S, 'increase', METRIC.bypassUsage, '1h', ['reason']), '{{reason}}'))
    .legend(tableLegend())
    .thresholds(thresholds('green', bypassLevels.map((v) => [v, 'red'] as [number, string])))
    .thresholdsStyle(lines())

  const flagErrors = describe(new stat.PanelBuilder(), P.flagErrors, 'Runtime flag values the app refused in the last 24 hours (it kept its last good flags). TenantFlagReloadFailed fires while an instance\'s latest flag change is a refused one, and resolves when a later change is applied.', 'short', { w: 6, h: 8 })
    .withTarget(promTarget('A', whileReporting(counterSum(S, 'increase', METRIC.flagErrors, '24h')), 'refused', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .thresholds(thresholds('green', [[1, 'red']]))
    .noValue(NOT_REPORTING)

  const instances = describe(new stat.PanelBuilder(), P.instances, 'Instances of the job that report a tenant enforcement mode now. None: every phase alert is blind (TenantMetricsMissing).', 'short', { w: 6, h: 8 })
    .withTarget(promTarget('A', `count(max by (instance) (${selector(S, METRIC.mode)}) == 1)`, 'reporting', 'instant'))
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.None)
    .noValue('none reporting')

  // A flag change reaches the instances one by one: two modes at once for a few seconds (a file
  // poll) to a minute or two (a ConfigMap sync) is a change propagating; longer is an instance the
  // change did not reach (TenantFleetModeMismatch).
  const instancesByMode = describe(
    new timeseries.PanelBuilder(),
    P.instancesByMode,
    `Instances of the job in each enforcement mode, stacked: one colour is a fleet that agrees. Two colours at once are a flag change on its way; for longer than ${config.thresholds.fleetModeMismatchFor} (thresholds.fleetModeMismatchFor) some instances did not get it: TenantFleetModeMismatch fires, and \`tenantfence status\` names them.`,
    'short',
    { w: 12, h: 8 },
  )
    .withTarget(promTarget('A', `count by (mode) (${selector(S, METRIC.mode)} == 1)`, '{{mode}}'))
    .legend(tableLegend())
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
    .fillOpacity(30)
    .decimals(0)

  const builder = new DashboardBuilder(D.title)
    .uid(D.uid)
    .description(`Tenant enforcement (phases 2 to 4): mode, per-model policy, blocked share of users' requests, check cost and bypasses. ${notice}`)
    .tags(['tenantfence', 'generated'])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .withVariable(prometheusVariable())
  for (const v of jobVariables(config)) builder.withVariable(v)
  for (const l of dashboardLinks(config, VIOLATIONS_DASHBOARD, [2, 3, 4])) builder.link(l)
  for (const a of annotations()) builder.annotation(a)
  return showLinksOnDashboard(
    builder
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
      .withPanel(instances)
      .withPanel(instancesByMode)
      .build(),
  )
}
