// The one typed config of the demo app: what a team has to write. The tenant-owned models and
// their severities, the models reviewed as global, the documented bypass reasons, and how the
// app is named in Prometheus. Everything else (thresholds, the five phases with their flags,
// alerts and success criteria, the rollback) is the rollout document's, from
// src/config/defaults.ts; phase 2 blocks the CRITICAL models below and logs the others.
// The extension, dashboards, alert rules, runbooks, the demo and the phase gate all derive from
// it (`npm run generate` rewrites dashboards/ and alerts/ from this file).
import { defineConfig } from './src/config/index.ts'

export default defineConfig({
  // job: the Prometheus scrape job of the app (prometheus/prometheus.yml), also its Loki `app` label
  app: { name: 'tenantfence demo', job: 'tenantfence-demo', runbookBaseUrl: 'https://runbooks.example.com/tenantfence' },
  // the tenant model: its own rows are protected too (a request reads and writes only its tenant's row)
  tenant: { field: 'tenantId', model: 'Tenant', idField: 'id', severity: 'HIGH' },
  models: {
    User: { severity: 'CRITICAL' },
    RefreshToken: { severity: 'CRITICAL', via: 'user' },
    PasswordResetToken: { severity: 'CRITICAL', via: 'user' },
    MfaBackupCode: { severity: 'CRITICAL', via: 'user' },
    AuditLog: { severity: 'CRITICAL' },
    Role: { severity: 'HIGH' },
    UserRole: { severity: 'HIGH', via: 'user' },
    SecurityAlert: { severity: 'HIGH' },
    RolePermission: { severity: 'MEDIUM', via: 'role' },
  },
  globalModels: ['Permission'],
  // how flags reach the demo: its environment (compose reads .env; `phase env` and `phase rollback`
  // print KEY=value lines, the rollback alert says to set them and restart)
  rollout: { flags: { source: 'env' } },
  bypass: { reasons: ['nightly_cleanup', 'data_migration', 'support_investigation', 'security_incident'] },
  // PostgreSQL row-level security (docs/rls.md): `generate` writes prisma/rls/migration.sql; the
  // extension's rls option sets app.tenant_id (the defaults: setting, bypass by reason, prisma/rls)
  rls: {},
})
