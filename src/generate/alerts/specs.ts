// What each alert measures and says, written once per alert name. A phase's rule file picks
// the specs its config lists; the unit tests and runbooks read the same specs.
import type { AlertName, PhaseConfig, TenantFenceConfig } from '../../config/schema.ts'
import { METRIC } from '../../telemetry/metric-names.ts'
import { ENFORCEMENT_DASHBOARD as ENF, VIOLATIONS_DASHBOARD as VIO, type DashboardRef, type PanelRef } from '../dashboards/catalog.ts'
import { checkP95Ms, counterIncrease, errorRate, violationsIncrease, violationsPerMinute } from '../promql.ts'
import { rollbackCommand } from '../rollback.ts'

export type AlertSeverity = 'critical' | 'warning' | 'info'

/** Fixed windows of the alert expressions (dashboards use $__rate_interval instead). */
export const WINDOW = {
  summary: '24h',
  spike: '5m',
  criticalModel: '5m',
  errorRate: '5m',
  bypass: '1h',
  latency: '5m',
  flagErrors: '15m',
} as const

export interface AlertSpec {
  name: AlertName
  severity: AlertSeverity
  /** the condition, without the phase's mode gate */
  expr: string
  for: string
  summary: string
  /** Prometheus template: {{ $value }} and {{ $labels.* }} are filled in when it fires */
  description: string
  /** runbook: what it means, in a sentence or two */
  meaning: string
  /** runbook: what to do, first step first */
  actions: string[]
  /** runbook: the panels that show it */
  panels: Array<[DashboardRef<string>, PanelRef]>
  /** whether the runbook and description lead with the rollback */
  rollback: boolean
}

/** 0.001 → "0.1%" */
export function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(6))}%`
}

export function alertSpec(config: TenantFenceConfig, phase: PhaseConfig, name: AlertName): AlertSpec {
  const t = config.thresholds
  const report = 'it lists the day\'s violations by model, endpoint and call site'
  const rollback = phase.mode === 'hardened' ? `hardened mode ignores the flags: redeploy with \`hardened: false\`, then run \`${rollbackCommand(config)}\`` : `run \`${rollbackCommand(config)}\``
  switch (name) {
    case 'TenantViolationSummary':
      return {
        name,
        severity: 'info',
        expr: `${violationsIncrease(config, WINDOW.summary)} > 0`,
        for: t.violationSummaryFor,
        summary: 'Unscoped tenant queries were logged in the last 24 hours.',
        description: `{{ $value | humanize }} tenant violations in the last 24 hours while in phase ${phase.phase} (${phase.mode}). Each one is a query that could read or write another tenant's rows.`,
        meaning: 'Queries on tenant-owned models ran without a filter that pins one tenant. Nothing was blocked; each one must be fixed before its model is enforced.',
        actions: [`Run \`tenantfence report\`: ${report}.`, 'Fix each call site (add the tenant filter or wrap a reviewed system job in `withoutTenantEnforcement` with a documented reason).'],
        panels: [[VIO, VIO.panels.total], [VIO, VIO.panels.byModel], [VIO, VIO.panels.topEndpoints]],
        rollback: false,
      }
    case 'TenantViolationSpike':
      return {
        name,
        severity: 'warning',
        expr: `${violationsPerMinute(config, WINDOW.spike)} > ${t.violationSpikePerMinute}`,
        for: t.violationSpikeFor,
        summary: 'Tenant violations are arriving faster than usual.',
        description: `{{ $value | humanize }} tenant violations per minute over the last 5 minutes, above the threshold of ${t.violationSpikePerMinute} a minute (phase ${phase.phase}, ${phase.mode}).`,
        meaning: 'A new code path (often a fresh deploy or a new background job) is issuing unscoped queries at a high rate.',
        actions: ['Find the model and endpoint that jumped on the panels above; compare the start time with the latest deploy.', `Run \`tenantfence report\`: ${report}.`],
        panels: [[VIO, VIO.panels.overTime], [VIO, VIO.panels.topEndpoints], [VIO, VIO.panels.recentLines]],
        rollback: false,
      }
    case 'TenantCriticalModelViolation':
      return {
        name,
        severity: 'critical',
        expr: `${violationsIncrease(config, WINDOW.criticalModel, ['model'], { severity: 'CRITICAL' })} > 0`,
        for: t.criticalViolationFor,
        summary: 'A query on a CRITICAL tenant-owned model was not scoped to one tenant.',
        description: `{{ $labels.model }} (CRITICAL) had {{ $value | humanize }} unscoped queries in the last 5 minutes (phase ${phase.phase}, ${phase.mode}).`,
        meaning: 'A model holding credentials, sessions or audit data was queried without a tenant filter. When the phase blocks it the request failed; when it only logs, another tenant\'s rows may have been read.',
        actions: ['Open the recent violation lines for the model and read the stack trace.', `Run \`tenantfence report\`: ${report}.`, 'If legitimate traffic is being blocked and the error rate climbs, roll back (see TenantEnforcementRollback).'],
        panels: [[VIO, VIO.panels.byModel], [VIO, VIO.panels.recentLines], [ENF, ENF.panels.errorsByModel]],
        rollback: false,
      }
    case 'TenantEnforcementErrors':
      return {
        name,
        severity: 'warning',
        expr: `${errorRate(config, WINDOW.errorRate)} > ${t.errorRateWarning}`,
        for: t.errorRateFor,
        summary: 'Tenant enforcement is blocking more requests than expected.',
        description: `{{ $value | humanizePercentage }} of requests hit a blocked query over the last 5 minutes, above the warning level of ${percent(t.errorRateWarning)} (rollback at ${percent(t.errorRateRollback)}).`,
        meaning: 'Queries the phase enforces are being blocked (403 TENANT_CONTEXT_REQUIRED). Either a code path lost its tenant context or an attack is being stopped.',
        actions: ['Find the model and endpoint on the panels above.', `Run \`tenantfence report\`: ${report}.`, `If it keeps rising towards ${percent(t.errorRateRollback)}, roll back: ${rollback}.`],
        panels: [[ENF, ENF.panels.errorRate], [ENF, ENF.panels.errorsByModel], [ENF, ENF.panels.errorsByEndpoint]],
        rollback: false,
      }
    case 'TenantEnforcementRollback':
      return {
        name,
        severity: 'critical',
        expr: `${errorRate(config, WINDOW.errorRate)} > ${t.errorRateRollback}`,
        for: t.errorRateRollbackFor,
        summary: 'Tenant enforcement blocks so many requests that the rollout must be rolled back.',
        description: `{{ $value | humanizePercentage }} of requests hit a blocked query over the last 5 minutes, above the rollback trigger of ${percent(t.errorRateRollback)}. Roll back to log only now: ${rollback}.`,
        meaning: `The rollback trigger of the rollout. ${config.rollback.description}`,
        actions: [`Roll back now: ${rollback}.`, 'Confirm the current mode panel shows the rollback mode and the error rate falls.', 'Then find the blocked model and endpoint, fix them, and re-enter the phase.'],
        panels: [[ENF, ENF.panels.mode], [ENF, ENF.panels.errorRate], [ENF, ENF.panels.errorsByEndpoint]],
        rollback: true,
      }
    case 'TenantBypassUsage':
      return {
        name,
        severity: 'warning',
        expr: `${counterIncrease(config, METRIC.bypassUsage, WINDOW.bypass)} > ${t.bypassPerHour}`,
        for: t.bypassFor,
        summary: 'Tenant enforcement is being bypassed more often than expected.',
        description: `{{ $value | humanize }} bypasses of tenant enforcement in the last hour, above ${t.bypassPerHour} (phase ${phase.phase}, ${phase.mode}).`,
        meaning: 'Code ran queries through `withoutTenantEnforcement`. Each use is counted and logged with its reason and stack; a rise means a bypass leaked into a request path.',
        actions: ['See which reason grew on the panels above.', 'Search the logs for `TENANT_BYPASS` lines to find the call site, and check the reason is one of the documented ones.'],
        panels: [[ENF, ENF.panels.bypassesLastHour], [ENF, ENF.panels.bypassesByReason]],
        rollback: false,
      }
    case 'TenantCheckLatencyHigh':
    case 'TenantCheckLatencyCritical': {
      const critical = name === 'TenantCheckLatencyCritical'
      const ms = critical ? t.checkLatencyCriticalMs : t.checkLatencyWarningMs
      return {
        name,
        severity: critical ? 'critical' : 'warning',
        expr: `${checkP95Ms(config, WINDOW.latency)} > ${ms}`,
        for: t.checkLatencyFor,
        summary: critical ? 'The tenant check is slowing every query down.' : 'The tenant check costs more than expected.',
        description: `The p95 cost of the tenant check is {{ $value | humanize }} ms over the last 5 minutes, above ${ms} ms (phase ${phase.phase}, ${phase.mode}).`,
        meaning: 'Inspecting each query (walking `where`, `data`, `include`) takes longer than budgeted; usually very large query arguments or deep nested includes.',
        actions: ['Check whether the latency rose with a deploy or with traffic.', critical ? `If requests time out, roll back: ${rollback}; log only still inspects, so also consider lowering TENANT_ENFORCEMENT_LOG_SAMPLE_RATE.` : 'Profile the slowest queries (large `in` lists, deep includes).'],
        panels: [[ENF, ENF.panels.checkP95]],
        rollback: critical,
      }
    }
    case 'TenantFlagReloadFailed':
      return {
        name,
        severity: 'warning',
        expr: `${counterIncrease(config, METRIC.flagErrors, WINDOW.flagErrors)} > 0`,
        for: '0s',
        summary: 'A runtime change of the tenant enforcement flags was refused.',
        description: `{{ $value | humanize }} flag values were refused in the last 15 minutes; the app keeps running with its last good flags, so a rollback or phase change may not have taken effect.`,
        meaning: 'A TENANT_ENFORCEMENT_* value (env or flag file) did not validate. The app kept the last good flags and logged the error, naming the bad value and the valid ones.',
        actions: ['Read the app log for the flag error: it names the flag and the valid values.', 'Fix the value; check the current mode panel shows the intended mode.'],
        panels: [[ENF, ENF.panels.flagErrors], [ENF, ENF.panels.mode]],
        rollback: false,
      }
  }
}
