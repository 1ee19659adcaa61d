// Datasource uids and dashboard variable names shared by the dashboards and by the Grafana
// provisioning of the compose stack: provision the datasources with these uids and the
// dashboards' variables select them by default.
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common'

/** uid of the Prometheus datasource the provisioning creates. */
export const PROMETHEUS_DS_UID = 'prometheus'
/** uid of the Loki datasource the provisioning creates. */
export const LOKI_DS_UID = 'loki'

/** Dashboard template variable that picks the Prometheus datasource. */
export const PROMETHEUS_DS_VARIABLE = 'datasource'
/** Dashboard template variable that picks the Loki datasource. */
export const LOKI_DS_VARIABLE = 'loki_datasource'

/** What every Prometheus panel and target points at: the variable, never a fixed uid. */
export const PROMETHEUS_DS: DataSourceRef = { type: 'prometheus', uid: `\${${PROMETHEUS_DS_VARIABLE}}` }
/** What every Loki panel and target points at. */
export const LOKI_DS: DataSourceRef = { type: 'loki', uid: `\${${LOKI_DS_VARIABLE}}` }
