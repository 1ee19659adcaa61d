// The one typed config of the demo app. Models, severities, phases and thresholds are written
// here once; the extension, dashboards, alert rules, runbooks, the demo and the phase gate
// all derive from it (`npm run generate` rewrites dashboards/ and alerts/ from this file).
import { defineConfig, type Severity } from './src/config/index.ts'

const models = {
  User: { severity: 'CRITICAL' },
  RefreshToken: { severity: 'CRITICAL', via: 'user' },
  PasswordResetToken: { severity: 'CRITICAL', via: 'user' },
  MfaBackupCode: { severity: 'CRITICAL', via: 'user' },
  AuditLog: { severity: 'CRITICAL' },
  Role: { severity: 'HIGH' },
  UserRole: { severity: 'HIGH', via: 'user' },
  SecurityAlert: { severity: 'HIGH' },
  RolePermission: { severity: 'MEDIUM', via: 'role' },
} as const satisfies Record<string, { severity: Severity; via?: string }>

/** The tenant model: its own rows are protected too (a request reads and writes only its tenant's row). */
const tenant = { field: 'tenantId', model: 'Tenant', idField: 'id', severity: 'HIGH' } as const

/** Comma list of the models of these severities, for the selective phase's flags. */
const modelsOf = (...severities: Severity[]) =>
  Object.entries({ ...models, [tenant.model]: tenant })
    .filter(([, m]) => severities.includes(m.severity))
    .map(([name]) => name)
    .join(',')

export default defineConfig({
  app: { name: 'tenantfence demo', job: 'tenantfence-demo', runbookBaseUrl: 'https://runbooks.example.com/tenantfence' },
  tenant,
  models,
  globalModels: ['Permission'],
  rawQueries: { policy: 'violation', severity: 'HIGH' },
  bypass: { reasons: ['nightly_cleanup', 'data_migration', 'support_investigation', 'security_incident'] },
  // PostgreSQL row-level security (docs/rls.md): `generate` writes prisma/rls/migration.sql, the extension's rls option sets app.tenant_id
  rls: { setting: 'app.tenant_id', bypassSetting: 'tenantfence.bypass_reason', bypass: 'reason_setting', dir: 'prisma/rls' },
  thresholds: {
    violationSpikePerMinute: 10,
    violationSpikeFor: '5m',
    violationSummaryFor: '15m',
    errorRateWarning: 0.001,
    errorRateFor: '5m',
    errorRateRollback: 0.01,
    errorRateRollbackFor: '2m',
    bypassPerHour: 10,
    bypassFor: '5m',
    checkLatencyWarningMs: 5,
    checkLatencyCriticalMs: 10,
    checkLatencyFor: '10m',
    criticalViolationFor: '0s',
  },
  phases: [
    {
      phase: 0,
      name: 'Deploy disabled',
      mode: 'disabled',
      goal: 'Ship the extension with enforcement off and prove it changes nothing.',
      duration: '1-2 days',
      flags: { TENANT_ENFORCEMENT_ENABLED: false, TENANT_ENFORCEMENT_MODE: 'disabled' },
      alerts: ['TenantFlagReloadFailed'],
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
      flags: {
        TENANT_ENFORCEMENT_ENABLED: true,
        TENANT_ENFORCEMENT_MODE: 'log_only',
        TENANT_ENFORCEMENT_MODELS: 'all',
        TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: 1,
        TENANT_ENFORCEMENT_ALLOW_BYPASS: true,
        TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON: true,
      },
      alerts: ['TenantViolationSummary', 'TenantViolationSpike', 'TenantBypassUsage', 'TenantCheckLatencyHigh', 'TenantCheckLatencyCritical', 'TenantFlagReloadFailed'],
      successCriteria: [
        { kind: 'criticalViolations', max: 0, window: '24h', description: 'No violation on a CRITICAL model for 24 h (they are blocked next)' },
        { kind: 'violationsPerHour', max: 10, window: '24h', description: 'Fewer than 10 violations an hour (all models)' },
        { kind: 'enforcementErrors', max: 0, window: '24h', description: 'Nothing was blocked while logging only' },
        { kind: 'checkP95Ms', max: 0.5, window: '24h', description: 'The check costs under 0.5 ms at p95' },
      ],
    },
    {
      phase: 2,
      name: 'Selective enforcement',
      mode: 'selective',
      goal: 'Block the CRITICAL models, keep logging the others.',
      duration: '1 week',
      flags: {
        TENANT_ENFORCEMENT_ENABLED: true,
        TENANT_ENFORCEMENT_MODE: 'selective',
        TENANT_ENFORCEMENT_ENFORCE_MODELS: modelsOf('CRITICAL'),
        TENANT_ENFORCEMENT_LOG_MODELS: modelsOf('HIGH', 'MEDIUM', 'LOW'),
        TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: 1,
        TENANT_ENFORCEMENT_ALLOW_BYPASS: true,
        TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON: true,
      },
      alerts: ['TenantViolationSpike', 'TenantCriticalModelViolation', 'TenantEnforcementErrors', 'TenantEnforcementRollback', 'TenantBypassUsage', 'TenantCheckLatencyHigh', 'TenantCheckLatencyCritical', 'TenantFlagReloadFailed'],
      successCriteria: [
        { kind: 'errorRate', max: 0.001, window: '24h', description: 'Blocked queries under 0.1 % of requests' },
        { kind: 'violations', max: 0, window: '24h', description: 'No violation left on the logged models (they are blocked next)' },
        { kind: 'bypassesPerDay', max: 10, window: '24h', description: 'At most 10 bypasses a day' },
        { kind: 'checkP95Ms', max: 0.5, window: '24h', description: 'The check costs under 0.5 ms at p95' },
      ],
    },
    {
      phase: 3,
      name: 'Full enforcement',
      mode: 'enforce',
      goal: 'Block every unscoped query on every tenant-owned model.',
      duration: '2 weeks',
      flags: {
        TENANT_ENFORCEMENT_ENABLED: true,
        TENANT_ENFORCEMENT_MODE: 'enforce',
        TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: 1,
        TENANT_ENFORCEMENT_ALLOW_BYPASS: true,
        TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON: true,
      },
      alerts: ['TenantEnforcementErrors', 'TenantEnforcementRollback', 'TenantBypassUsage', 'TenantCheckLatencyHigh', 'TenantCheckLatencyCritical', 'TenantFlagReloadFailed'],
      successCriteria: [
        { kind: 'errorRate', max: 0.001, window: '7d', description: 'Blocked queries under 0.1 % of requests for a week' },
        { kind: 'bypassesPerDay', max: 5, window: '7d', description: 'At most 5 bypasses a day' },
        { kind: 'checkP95Ms', max: 0.5, window: '7d', description: 'The check costs under 0.5 ms at p95' },
      ],
    },
    {
      phase: 4,
      name: 'Hardened',
      mode: 'hardened',
      goal: 'Enforcement in code (hardened: true): flags ignored, bypass only for documented reasons and audited.',
      duration: 'permanent',
      flags: {
        TENANT_ENFORCEMENT_ENABLED: true,
        TENANT_ENFORCEMENT_MODE: 'enforce',
        TENANT_ENFORCEMENT_ALLOW_BYPASS: true,
        TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON: true,
      },
      alerts: ['TenantEnforcementErrors', 'TenantEnforcementRollback', 'TenantBypassUsage', 'TenantCheckLatencyHigh', 'TenantCheckLatencyCritical'],
      successCriteria: [
        { kind: 'errorRate', max: 0.001, window: '7d', description: 'Blocked queries under 0.1 % of requests' },
        { kind: 'bypassesPerDay', max: 5, window: '7d', description: 'At most 5 audited bypasses a day' },
      ],
    },
  ],
  rollback: {
    flags: { TENANT_ENFORCEMENT_MODE: 'log_only' },
    description: 'Return to log only: nothing is blocked, every violation is still logged and counted. Takes effect on the next query (flag file) or within a minute (kubectl set env restarts the pods).',
  },
})
