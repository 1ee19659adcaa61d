// Small builders every dashboard panel goes through, so each one gets an explicit id, a
// title, a description, a unit, the datasource variable and explicit refIds.
import * as common from '@grafana/grafana-foundation-sdk/common'
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common'
import { DatasourceVariableBuilder, ThresholdsConfigBuilder, ThresholdsMode, type Threshold } from '@grafana/grafana-foundation-sdk/dashboard'
import * as loki from '@grafana/grafana-foundation-sdk/loki'
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus'
import { LOKI_DS, LOKI_DS_UID, LOKI_DS_VARIABLE, PROMETHEUS_DS, PROMETHEUS_DS_UID, PROMETHEUS_DS_VARIABLE } from '../datasources.ts'
import type { PanelRef } from './catalog.ts'

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
