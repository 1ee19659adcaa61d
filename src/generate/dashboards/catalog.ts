// Dashboard uids, file names and panel ids/titles in one place: the dashboards are built
// from it and the runbooks point at the same panels, so a renamed panel cannot leave a
// runbook pointing at nothing. uids are stable so links and provisioning survive regeneration.

export interface PanelRef {
  id: number
  title: string
}

export interface DashboardRef<P extends string> {
  uid: string
  title: string
  /** file name under <out>/dashboards */
  file: string
  panels: Record<P, PanelRef>
}

export const VIOLATIONS_DASHBOARD = {
  uid: 'tenantfence-violations',
  title: 'tenantfence / Tenant violations',
  file: 'tenant-violations.json',
  panels: {
    total: { id: 1, title: 'Violations logged / blocked (last 24 h)' },
    bySeverity: { id: 2, title: 'Violations by severity (last 24 h)' },
    trend: { id: 3, title: 'Violations in the last 24 h against the day before' },
    byModel: { id: 4, title: 'Violations by model (last 24 h)' },
    overTime: { id: 5, title: 'Violations per hour by model, logged and blocked' },
    topEndpoints: { id: 6, title: 'Top violating endpoints (last 24 h)' },
    recentLines: { id: 7, title: 'Recent violation lines' },
  },
} as const satisfies DashboardRef<string>

export const ENFORCEMENT_DASHBOARD = {
  uid: 'tenantfence-enforcement',
  title: 'tenantfence / Tenant enforcement',
  file: 'tenant-enforcement.json',
  panels: {
    mode: { id: 1, title: 'Current mode' },
    modelPolicies: { id: 2, title: 'Models enforced / logged' },
    blockedLastHour: { id: 3, title: 'Blocked queries (last 1 h)' },
    bypassesLastHour: { id: 4, title: 'Bypasses (last 1 h)' },
    errorRate: { id: 5, title: 'Blocked requests as a share of users\' requests' },
    checkP95: { id: 6, title: 'Check cost p95 and p99' },
    errorsByModel: { id: 7, title: 'Blocked queries per hour by model' },
    errorsByEndpoint: { id: 8, title: 'Blocked queries per hour by endpoint ("unknown": outside a request)' },
    bypassesByReason: { id: 9, title: 'Bypasses per hour by reason (rolling 1 h)' },
    flagErrors: { id: 10, title: 'Refused flag values (last 24 h)' },
    instances: { id: 11, title: 'Instances reporting a mode' },
    instancesByMode: { id: 12, title: 'Instances by mode (a mixed fleet shows two)' },
  },
} as const satisfies DashboardRef<string>

/** "dashboard › panel" as a runbook names it, with the Grafana path that opens it. */
export function panelLink(dashboard: DashboardRef<string>, panel: PanelRef): string {
  return `**${dashboard.title}** › **${panel.title}** (\`/d/${dashboard.uid}?viewPanel=panel-${panel.id}\`)`
}
