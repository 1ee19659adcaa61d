// The rollout document's values: what a config gets for every part it does not write. Plain
// data and one merge rule, no validation (schema.ts validates the merged result), so a minimal
// `defineConfig({ tenant, models, globalModels })` is a complete config.

/** Alert thresholds of every phase (a phase's own `thresholds` go over these). */
export const DEFAULT_THRESHOLDS = {
  violationSummaryFor: '15m',
  // the daily summary goes out once a day at this time (UTC): a notification, not a day-long alert
  violationSummaryAt: '09:00',
  violationSpikePerMinute: 10,
  violationSpikeFor: '5m',
  criticalViolationFor: '0s',
  // the document: TenantEnforcementErrors above 0.1 % of requests in phase 2 (phases 3-4: 0.01 %, below)
  errorRate: 0.001,
  errorRateFor: '5m',
  // the document's rollback trigger: above 1 % of requests
  errorRateRollback: 0.01,
  errorRateRollbackFor: '2m',
  jobErrorsFor: '0s',
  // the document: TenantBypassUsage above 5 an hour
  bypassPerHour: 5,
  bypassFor: '5m',
  checkLatencyWarningMs: 5,
  checkLatencyCriticalMs: 10,
  checkLatencyFor: '10m',
  metricsMissingFor: '5m',
  // A flag change reaches the instances of a job at different moments: the file source polls
  // each second, the kubelet syncs a mounted ConfigMap within its sync period plus its cache TTL
  // (up to ~1-2 min by default), an OpenFeature provider within its own polling or stream delay.
  // Add a scrape interval or two before every instance shows it: 3 minutes stays above all of
  // that, and under the 5 minutes after which a rollback that did not reach a pod must be seen.
  // Flags from the environment change by a rolling restart: raise it to the rollout's duration.
  fleetModeMismatchFor: '3m',
} as const

/** The `severity` label of each alert unless a phase says otherwise. */
export const DEFAULT_SEVERITIES = {
  TenantViolationSummary: 'info',
  TenantViolationSpike: 'warning',
  TenantCriticalModelViolation: 'critical',
  TenantEnforcementErrors: 'warning',
  TenantEnforcementRollback: 'critical',
  TenantJobQueriesBlocked: 'warning',
  TenantBypassUsage: 'warning',
  TenantCheckLatencyHigh: 'warning',
  TenantCheckLatencyCritical: 'critical',
  TenantFlagReloadFailed: 'warning',
} as const

export const DEFAULT_ROLLBACK = {
  flags: { TENANT_ENFORCEMENT_MODE: 'log_only' },
  description:
    'Return to log only: nothing is blocked, every violation is still logged and counted. Takes effect on the next query (flag file) or within a minute (kubectl set env restarts the pods).',
}

/** The performance budget of the document: the check under 0.5 ms at p95. */
const checkBudget = (window: string) => ({ kind: 'checkP95Ms', below: 0.5, window, description: 'The check costs under 0.5 ms at p95' })

type Flags = Record<string, string | number | boolean>

/**
 * The document's five phases for a set of protected models (name, severity): phase 2 blocks the
 * CRITICAL ones and logs the rest, as the document orders it.
 */
export function defaultPhases(models: ReadonlyArray<{ name: string; severity: string }>) {
  const list = (pick: (severity: string) => boolean) =>
    models
      .filter((m) => pick(m.severity))
      .map((m) => m.name)
      .join(',')
  const enforced = list((s) => s === 'CRITICAL')
  const logged = list((s) => s !== 'CRITICAL')
  const bypass = { TENANT_ENFORCEMENT_ALLOW_BYPASS: true, TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON: true }
  // An empty model list is left out (no flag) rather than written as an empty value.
  const selectiveLists: Flags = { ...(enforced ? { TENANT_ENFORCEMENT_ENFORCE_MODELS: enforced } : {}), ...(logged ? { TENANT_ENFORCEMENT_LOG_MODELS: logged } : {}) }
  return [
    {
      phase: 0,
      name: 'Deploy disabled',
      mode: 'disabled',
      goal: 'Ship the extension with enforcement off and prove it changes nothing.',
      duration: '1-2 days',
      flags: { TENANT_ENFORCEMENT_ENABLED: false, TENANT_ENFORCEMENT_MODE: 'disabled' } as Flags,
      alerts: ['TenantFlagReloadFailed'],
      thresholds: {},
      severities: {},
      successCriteria: [
        { kind: 'enforcementErrors', max: 0, window: '24h', description: 'No query was blocked' },
        { kind: 'flagErrors', max: 0, window: '24h', description: 'No runtime flag error' },
      ],
    },
    {
      phase: 1,
      name: 'Log only',
      mode: 'log_only',
      goal: 'Find every unscoped query without blocking any.',
      duration: '1-2 weeks',
      flags: { TENANT_ENFORCEMENT_ENABLED: true, TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_MODELS: 'all', TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: 1, ...bypass } as Flags,
      alerts: ['TenantViolationSummary', 'TenantViolationSpike', 'TenantBypassUsage', 'TenantCheckLatencyHigh', 'TenantCheckLatencyCritical', 'TenantFlagReloadFailed'],
      thresholds: {},
      severities: {},
      successCriteria: [
        { kind: 'criticalViolations', max: 0, window: '24h', description: 'No violation on a CRITICAL model for 24 h (they are blocked next)' },
        { kind: 'violationsPerHour', below: 10, window: '24h', description: 'Fewer than 10 violations an hour' },
        checkBudget('24h'),
      ],
    },
    {
      phase: 2,
      name: 'Selective enforcement',
      mode: 'selective',
      goal: 'Block the CRITICAL models, keep logging the others.',
      duration: '1 week',
      flags: { TENANT_ENFORCEMENT_ENABLED: true, TENANT_ENFORCEMENT_MODE: 'selective', ...selectiveLists, TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: 1, ...bypass } as Flags,
      alerts: [
        'TenantViolationSpike',
        'TenantCriticalModelViolation',
        'TenantEnforcementErrors',
        'TenantEnforcementRollback',
        'TenantJobQueriesBlocked',
        'TenantBypassUsage',
        'TenantCheckLatencyHigh',
        'TenantCheckLatencyCritical',
        'TenantFlagReloadFailed',
      ],
      thresholds: {},
      severities: {},
      successCriteria: [
        { kind: 'errorRate', below: 0.001, window: '24h', description: 'Blocked under 0.1 % of requests' },
        // blocked queries are not violations left to fix: only the logged models' count
        { kind: 'violationsPerHour', decision: 'logged', below: 5, window: '24h', description: 'Fewer than 5 logged violations an hour on the logged models' },
        checkBudget('24h'),
      ],
    },
    {
      phase: 3,
      name: 'Full enforcement',
      mode: 'enforce',
      goal: 'Block every unscoped query on every tenant-owned model.',
      duration: '2 weeks',
      flags: { TENANT_ENFORCEMENT_ENABLED: true, TENANT_ENFORCEMENT_MODE: 'enforce', TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: 1, ...bypass } as Flags,
      alerts: ['TenantEnforcementErrors', 'TenantEnforcementRollback', 'TenantJobQueriesBlocked', 'TenantBypassUsage', 'TenantCheckLatencyHigh', 'TenantCheckLatencyCritical', 'TenantFlagReloadFailed'],
      // the document: TenantEnforcementErrors above 0.01 % of requests, critical
      thresholds: { errorRate: 0.0001 },
      severities: { TenantEnforcementErrors: 'critical' },
      successCriteria: [
        { kind: 'errorRate', below: 0.0001, window: '7d', description: 'Blocked under 0.01 % of requests for a week' },
        { kind: 'bypassesPerDay', below: 5, window: '7d', description: 'Fewer than 5 bypasses a day' },
        checkBudget('7d'),
      ],
    },
    {
      phase: 4,
      name: 'Hardened',
      mode: 'hardened',
      goal: 'Enforcement in code (hardened: true): flags ignored, bypass only for documented reasons and audited.',
      duration: 'permanent',
      flags: { TENANT_ENFORCEMENT_ENABLED: true, TENANT_ENFORCEMENT_MODE: 'enforce', ...bypass } as Flags,
      alerts: ['TenantEnforcementErrors', 'TenantEnforcementRollback', 'TenantJobQueriesBlocked', 'TenantBypassUsage', 'TenantCheckLatencyHigh', 'TenantCheckLatencyCritical'],
      thresholds: { errorRate: 0.0001 },
      severities: { TenantEnforcementErrors: 'critical' },
      successCriteria: [
        { kind: 'errorRate', below: 0.0001, window: '7d', description: 'Blocked under 0.01 % of requests' },
        { kind: 'bypassesPerDay', below: 5, window: '7d', description: 'Fewer than 5 audited bypasses a day' },
      ],
    },
  ]
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Fields of a phase that merge key by key; every other field is replaced when the config gives it. */
const MERGED_FIELDS = new Set(['flags', 'thresholds', 'severities'])

/**
 * One phase of the config over its default: objects merge key by key (a key set to null is
 * removed, a key left undefined keeps the default), lists and plain values replace.
 */
export function mergePhase(base: Record<string, unknown>, patch: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch ?? {})) {
    if (value === undefined) continue
    if (MERGED_FIELDS.has(key) && isPlainObject(value)) {
      const merged: Record<string, unknown> = { ...(isPlainObject(base[key]) ? base[key] : {}) }
      for (const [k, v] of Object.entries(value)) {
        if (v === null) delete merged[k]
        else if (v !== undefined) merged[k] = v
      }
      out[key] = merged
    } else out[key] = value
  }
  return out
}
