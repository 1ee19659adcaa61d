// Small builders every dashboard goes through, so each panel gets an explicit id, a title, a
// description, a unit, the datasource variable and explicit refIds; and the variables, links
// and annotations both dashboards share.
import * as common from '@grafana/grafana-foundation-sdk/common'
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common'
import {
  AnnotationQueryBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DynamicConfigValue,
  type Threshold,
} from '@grafana/grafana-foundation-sdk/dashboard'
import * as loki from '@grafana/grafana-foundation-sdk/loki'
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus'
import { appLabel, protectedModels } from '../../config/define.ts'
import type { AlertName, TenantFenceConfig, Thresholds } from '../../config/schema.ts'
import { METRIC } from '../../telemetry/metric-names.ts'
import { LOKI_DS, LOKI_DS_UID, LOKI_DS_VARIABLE, PROMETHEUS_DS, PROMETHEUS_DS_UID, PROMETHEUS_DS_VARIABLE } from '../datasources.ts'
import { ruleFiles, runbookFile } from '../alerts/phases.ts'
import { runbookPageUrl } from '../alerts/rules.ts'
import { DASHBOARD_SCOPE, selector } from '../promql.ts'
import type { DashboardRef, PanelRef } from './catalog.ts'

export const prometheusVariable = () =>
  new DatasourceVariableBuilder(PROMETHEUS_DS_VARIABLE)
    .label('Prometheus')
    .type('prometheus')
    .current({ selected: true, text: PROMETHEUS_DS_UID, value: PROMETHEUS_DS_UID })

export const lokiVariable = () =>
  new DatasourceVariableBuilder(LOKI_DS_VARIABLE)
    .label('Loki')
    .type('loki')
    .current({ selected: true, text: LOKI_DS_UID, value: LOKI_DS_UID })

/** Every value, or the ones picked: `label=~"$var"` with All meaning `.*`. */
const ALL = { selected: true, text: 'All', value: '$__all' }

/** The app's job (the config's by default, else all) and its instances, from the mode gauge every app exports. */
export function jobVariables(config: TenantFenceConfig) {
  const job = config.app.job
  const jobQuery = `label_values(${METRIC.mode}, job)`
  const instanceQuery = `label_values(${METRIC.mode}{job=~"$job"}, instance)`
  return [
    new QueryVariableBuilder('job')
      .label('Job')
      .description('The Prometheus job of the app (config.app.job).')
      .datasource(PROMETHEUS_DS)
      .query(jobQuery)
      .definition(jobQuery)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.*')
      .current(job ? { selected: true, text: job, value: job } : ALL),
    new QueryVariableBuilder('instance')
      .label('Instance')
      .description('Instances of the job that report a tenant enforcement mode.')
      .datasource(PROMETHEUS_DS)
      .query(instanceQuery)
      .definition(instanceQuery)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.*')
      .current(ALL),
  ]
}

/** The Loki stream of the app's lines: its `app` label, and the `env` picked. */
export const lokiStream = (config: TenantFenceConfig) => `{app=${JSON.stringify(appLabel(config))}, env=~"$env"}`

export function envVariable(config: TenantFenceConfig) {
  const query = `label_values({app=${JSON.stringify(appLabel(config))}}, env)`
  return new QueryVariableBuilder('env')
    .label('Env')
    .description('The `env` label of the app\'s log lines in Loki (production, staging, ...).')
    .datasource(LOKI_DS)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current(ALL)
}

/** A Prometheus target; refIds go A, B, C… in the order a panel lists them. */
export function promTarget(refId: string, expr: string, legend: string, kind: 'range' | 'instant' = 'range') {
  const q = new prometheus.DataqueryBuilder().refId(refId).datasource(PROMETHEUS_DS).expr(expr).legendFormat(legend)
  return kind === 'instant' ? q.instant() : q.range()
}

export function lokiTarget(refId: string, expr: string, kind: 'range' | 'instant', legend?: string) {
  const q = new loki.DataqueryBuilder().refId(refId).datasource(LOKI_DS).expr(expr).queryType(kind)
  if (legend) q.legendFormat(legend)
  return kind === 'instant' ? q.instant(true) : q.range(true)
}

/** Threshold steps: the base colour, then each [value, colour] from the config. */
export function thresholds(base: string, steps: Array<[number, string]>) {
  const all: Threshold[] = [{ value: null, color: base }, ...steps.map(([value, color]) => ({ value, color }))]
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(all)
}

/** The distinct values of one threshold over the phases that run `alert`, ascending (one line each on a panel). */
export function levels(config: TenantFenceConfig, alert: AlertName, pick: (t: Thresholds) => number): number[] {
  const values = config.phases.filter((p) => p.alerts.includes(alert)).map((p) => pick(p.thresholds))
  return [...new Set(values.length ? values : [pick(config.thresholds)])].sort((a, b) => a - b)
}

/** Common fields of every panel builder of the SDK. */
interface PanelLike<T> {
  id(id: number): T
  title(title: string): T
  description(description: string): T
  unit(unit: string): T
  height(h: number): T
  span(w: number): T
  datasource(ds: DataSourceRef): T
}

/** Apply the catalog's id and title plus description, unit, size and datasource (Prometheus unless told). */
export function describe<T extends PanelLike<T>>(panel: T, ref: PanelRef, description: string, unit: string, size: { w: number; h: number }, ds: DataSourceRef = PROMETHEUS_DS): T {
  return panel.id(ref.id).title(ref.title).description(description).unit(unit).span(size.w).height(size.h).datasource(ds)
}

export const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false)

/** A legend as a table of last and max, so a series can be named mid-incident. */
export const tableLegend = () =>
  new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).calcs(['lastNotNull', 'max']).sortBy('Max').sortDesc(true)

/** What a stat shows when its query returns nothing: the app is not scraped (never a green 0). */
export const NOT_REPORTING = 'no data: app not reporting'

/** Only while the app reports a mode: a dead scrape shows as no data, not as the last window's count. */
export function whileReporting(expr: string): string {
  return `(${expr}) and on() (count(${selector(DASHBOARD_SCOPE, METRIC.mode)} == 1) > 0)`
}

/** `count(...)` that reads 0 while the app reports (count of nothing is nothing in PromQL). */
export function countOrZero(expr: string): string {
  return `count(${expr}) or on() (count(${selector(DASHBOARD_SCOPE, METRIC.mode)} == 1) * 0)`
}

/** A fixed colour for the series a matcher picks. */
export const colour = (color: string): DynamicConfigValue[] => [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }]

/** A regular expression of the display names that start with a CRITICAL model (for red overrides). */
export function criticalModelsRegex(config: TenantFenceConfig): string | undefined {
  const names = protectedModels(config).filter((m) => m.severity === 'CRITICAL').map((m) => m.name)
  return names.length ? `^(${names.join('|')})( .*)?$` : undefined
}

/** Links from a dashboard: the other dashboard (keeping time and variables) and the runbooks. */
export function dashboardLinks(config: TenantFenceConfig, other: DashboardRef<string>, runbookPhases: readonly number[]) {
  const links = [new DashboardLinkBuilder(other.title).type(DashboardLinkType.Link).url(`/d/${other.uid}`).icon('dashboard').keepTime(true).includeVars(true).tooltip(`Open ${other.title}`)]
  if (config.app.runbookBaseUrl) {
    for (const file of ruleFiles(config).filter((f) => (f.phase ? runbookPhases.includes(f.phase.phase) : true))) {
      const title = file.phase ? `Runbook: phase ${file.phase.phase}, ${file.phase.name}` : 'Runbook: metrics missing'
      links.push(new DashboardLinkBuilder(title).type(DashboardLinkType.Link).url(runbookPageUrl(config, file)).icon('doc').targetBlank(true).tooltip(`alerts/${runbookFile(file)}`))
    }
  }
  return links
}

/**
 * The SDK (0.0.21) puts every link and annotation toggle in the controls menu
 * (`placement: "inControlsMenu"`); without a placement Grafana shows them on the dashboard itself,
 * where an on-call engineer looks for the runbook.
 */
export function showLinksOnDashboard(dashboard: Dashboard): Dashboard {
  for (const l of dashboard.links ?? []) delete l.placement
  for (const a of dashboard.annotations?.list ?? []) delete a.placement
  return dashboard
}

/** Annotations: the app's tenantfence alerts while they fire, and each change of its mode. */
export function annotations() {
  const mode = (offset?: string) => `max by (job, mode) (${selector(DASHBOARD_SCOPE, METRIC.mode)}${offset ? ` offset ${offset}` : ''}) == 1`
  return [
    new AnnotationQueryBuilder()
      .name('tenantfence alerts')
      .datasource(PROMETHEUS_DS)
      .enable(true)
      .iconColor('red')
      .expr(`ALERTS{alertstate="firing", alertname=~"Tenant.+", job=~"$job"}`)
      .step('1m')
      .titleFormat('{{alertname}}')
      .textFormat('{{severity}}, phase {{phase}}')
      .tagKeys('alertname,severity,phase'),
    new AnnotationQueryBuilder()
      .name('Mode changes')
      .datasource(PROMETHEUS_DS)
      .enable(true)
      .iconColor('blue')
      // the mode that is 1 now and was not 1 a minute ago
      .expr(`(${mode()}) unless (${mode('1m')})`)
      .step('1m')
      .titleFormat('mode → {{mode}}')
      .textFormat('{{job}}')
      .tagKeys('mode'),
  ]
}
