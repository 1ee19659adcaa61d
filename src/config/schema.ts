// The one typed config: models, severities, phases, thresholds. Everything else (the
// extension's policy, dashboards, alert rules, runbooks, the demo, the phase gate) derives
// from a value of this type, validated once by `defineConfig`/`parseConfig`.
import { z } from 'zod'

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const
export type Severity = (typeof SEVERITIES)[number]

export const MODES = ['disabled', 'log_only', 'selective', 'enforce'] as const
export type Mode = (typeof MODES)[number]
/** What the app reports as its mode: the four flag modes plus phase 4's code option. */
export const REPORTED_MODES = [...MODES, 'hardened'] as const
export type ReportedMode = (typeof REPORTED_MODES)[number]

/** Alerts the generator knows how to write; each phase lists the ones it runs. */
export const ALERT_NAMES = [
  'TenantViolationSummary',
  'TenantViolationSpike',
  'TenantCriticalModelViolation',
  'TenantEnforcementErrors',
  'TenantEnforcementRollback',
  'TenantBypassUsage',
  'TenantCheckLatencyHigh',
  'TenantCheckLatencyCritical',
  'TenantFlagReloadFailed',
] as const
export type AlertName = (typeof ALERT_NAMES)[number]

/** Success criteria the phase gate can measure; each is a ceiling over a window. */
export const CRITERION_KINDS = [
  'violationsPerHour', // average violations per hour over the window (all models)
  'criticalViolations', // violations on CRITICAL models in the window
  'violations', // violations in the window (optionally of one severity)
  'errorRate', // blocked queries / HTTP requests over the window (a ratio, 0.001 = 0.1 %)
  'enforcementErrors', // blocked queries in the window
  'bypassesPerDay', // bypass uses per day over the window
  'checkP95Ms', // p95 cost of the check in milliseconds over the window
  'flagErrors', // runtime flag reload errors in the window
] as const
export type CriterionKind = (typeof CRITERION_KINDS)[number]

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier (letters, digits, _)')
const DURATION = /^(\d+)(ms|s|m|h|d|w)$/
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }
const duration = z.string().regex(DURATION, 'must be a Prometheus duration such as 5m, 1h, 7d')

/** A Prometheus duration of the config (5m, 24h, 7d) in seconds. */
export function durationSeconds(window: string): number {
  const m = DURATION.exec(window)
  if (!m) throw new Error(`not a Prometheus duration: ${window}`)
  return Number(m[1]) * UNIT_SECONDS[m[2]!]!
}

export const modelPolicySchema = z.strictObject({
  severity: z.enum(SEVERITIES),
  /** Scoped through this relation (e.g. RefreshToken through `user`) instead of an own tenant field. */
  via: identifier.optional(),
  /** The model's own tenant field when it differs from `tenant.field`. */
  field: identifier.optional(),
  description: z.string().optional(),
})

const flagValue = z.union([z.string(), z.number(), z.boolean()])

/** A PostgreSQL custom setting: two identifiers joined by a dot (the prefix keeps it apart from PostgreSQL's own). */
const settingName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'must be a custom setting name with a prefix, such as app.tenant_id')
export const RLS_BYPASS_MODES = ['reason_setting', 'bypassrls_role'] as const

/** PostgreSQL row-level security, the second line (docs/rls.md): the policies `generate` writes and what the extension sets. */
export const rlsSchema = z.strictObject({
  /** Carries the request's tenant into each transaction: set_config('<setting>', '<tenant>', true). */
  setting: settingName.default('app.tenant_id'),
  /** Carries a granted bypass's reason (withoutTenantEnforcement) into the transaction. */
  bypassSetting: settingName.default('tenantfence.bypass_reason'),
  /**
   * How a job crosses tenants under the policies. `reason_setting`: a policy admits every row while
   * bypassSetting names one of bypass.reasons (set by the extension for a granted bypass).
   * `bypassrls_role`: no such policy; jobs connect as a role with BYPASSRLS.
   */
  bypass: z.enum(RLS_BYPASS_MODES).default('reason_setting'),
  /** Where `generate` writes migration.sql and rollback.sql, relative to --out. */
  dir: z.string().regex(/^(?!\/)(?!.*\.\.)[\w./-]+$/, 'must be a relative path inside the project, such as prisma/rls').default('prisma/rls'),
})

export const criterionSchema = z.strictObject({
  kind: z.enum(CRITERION_KINDS),
  max: z.number().nonnegative(),
  window: duration,
  severity: z.enum(SEVERITIES).optional(),
  description: z.string().min(1),
})

export const phaseSchema = z.strictObject({
  phase: z.number().int().min(0).max(4),
  name: z.string().min(1),
  /** The mode the app reports during this phase; phase 4 is `hardened`. */
  mode: z.enum(REPORTED_MODES),
  goal: z.string().min(1),
  duration: z.string().min(1),
  /** The TENANT_ENFORCEMENT_* values of this phase (env names without the prefix or with it). */
  flags: z.record(z.string(), flagValue),
  alerts: z.array(z.enum(ALERT_NAMES)),
  successCriteria: z.array(criterionSchema),
})

export const thresholdsSchema = z.strictObject({
  /** TenantViolationSpike: violations per minute (5 m rate) above this. */
  violationSpikePerMinute: z.number().positive(),
  violationSpikeFor: duration,
  /** TenantViolationSummary: any violation in the last 24 h. */
  violationSummaryFor: duration,
  /** TenantEnforcementErrors: blocked queries as a share of HTTP requests (0.001 = 0.1 %). */
  errorRateWarning: z.number().positive().max(1),
  errorRateFor: duration,
  /** TenantEnforcementRollback: the rollback trigger (0.01 = 1 %). */
  errorRateRollback: z.number().positive().max(1),
  errorRateRollbackFor: duration,
  /** TenantBypassUsage: bypass uses in the last hour above this. */
  bypassPerHour: z.number().nonnegative(),
  bypassFor: duration,
  /** TenantCheckLatency*: p95 of the check in milliseconds. */
  checkLatencyWarningMs: z.number().positive(),
  checkLatencyCriticalMs: z.number().positive(),
  checkLatencyFor: duration,
  /** TenantCriticalModelViolation: any violation on a CRITICAL model. */
  criticalViolationFor: duration,
})

export const configSchema = z
  .strictObject({
    app: z.strictObject({
      name: z.string().min(1),
      /** Base of the runbook links in alert annotations. */
      runbookBaseUrl: z.string().url(),
      /** Label that names the app in Prometheus (job) and Loki (app). */
      job: z.string().min(1),
    }),
    tenant: z
      .strictObject({
        /** The tenant field of models scoped by their own column. */
        field: identifier.default('tenantId'),
        /** The tenant model itself (optional): its rows are protected too, a request reads and writes only its own. */
        model: identifier.optional(),
        idField: identifier.default('id'),
        /** Severity of violations on the tenant model's rows (reading or writing another tenant's row). */
        severity: z.enum(SEVERITIES).default('HIGH'),
      })
      .default({ field: 'tenantId', idField: 'id', severity: 'HIGH' }),
    models: z.record(identifier, modelPolicySchema).refine((m) => Object.keys(m).length > 0, 'name at least one tenant-owned model'),
    /** Models reviewed and found not tenant-owned; the audit does not report them. */
    globalModels: z.array(identifier).default([]),
    rawQueries: z
      .strictObject({
        /** `violation`: $queryRaw/$executeRaw count as unscoped (kind raw_query); `allow`: let them through unchecked. */
        policy: z.enum(['violation', 'allow']).default('violation'),
        severity: z.enum(SEVERITIES).default('HIGH'),
      })
      .default({ policy: 'violation', severity: 'HIGH' }),
    /** PostgreSQL row-level security (optional): `generate` writes its policies when set. */
    rls: rlsSchema.optional(),
    bypass: z.strictObject({
      /** The documented bypass reasons; hardened mode accepts only these. */
      reasons: z.array(identifier).min(1),
    }),
    thresholds: thresholdsSchema,
    phases: z.array(phaseSchema).length(5),
    rollback: z.strictObject({
      /** The document's instant rollback: flags that return the app to log only. */
      flags: z.record(z.string(), flagValue),
      description: z.string().min(1),
    }),
  })
  .superRefine((cfg, ctx) => {
    const models = Object.keys(cfg.models)
    for (const [name, policy] of Object.entries(cfg.models)) {
      if (cfg.globalModels.includes(name)) {
        ctx.addIssue({ code: 'custom', path: ['globalModels'], message: `${name} is both tenant-owned (models) and global (globalModels)` })
      }
      if (policy.via && policy.field) {
        ctx.addIssue({ code: 'custom', path: ['models', name], message: `${name}: give either "via" (a relation) or "field", not both` })
      }
    }
    const root = cfg.tenant.model
    if (root && (cfg.models[root] || cfg.globalModels.includes(root))) {
      const where = cfg.models[root] ? 'models' : 'globalModels'
      ctx.addIssue({ code: 'custom', path: [where], message: `${root} is the tenant model (tenant.model): its rows are protected as the tenant's own; remove it from ${where} (set its severity with tenant.severity)` })
    }
    cfg.phases.forEach((p, i) => {
      if (p.phase !== i) ctx.addIssue({ code: 'custom', path: ['phases', i, 'phase'], message: `phases must be listed 0..4 in order; entry ${i} says phase ${p.phase}` })
    })
    if (cfg.rls && cfg.rls.setting === cfg.rls.bypassSetting) {
      ctx.addIssue({ code: 'custom', path: ['rls', 'bypassSetting'], message: `rls.bypassSetting must differ from rls.setting (both "${cfg.rls.setting}")` })
    }
    if (cfg.thresholds.errorRateRollback <= cfg.thresholds.errorRateWarning) {
      ctx.addIssue({ code: 'custom', path: ['thresholds', 'errorRateRollback'], message: 'errorRateRollback must be above errorRateWarning' })
    }
    if (cfg.thresholds.checkLatencyCriticalMs <= cfg.thresholds.checkLatencyWarningMs) {
      ctx.addIssue({ code: 'custom', path: ['thresholds', 'checkLatencyCriticalMs'], message: 'checkLatencyCriticalMs must be above checkLatencyWarningMs' })
    }
    void models
  })

export type TenantFenceConfigInput = z.input<typeof configSchema>
export type TenantFenceConfig = z.output<typeof configSchema>
export type ModelPolicyConfig = z.output<typeof modelPolicySchema>
export type PhaseConfig = z.output<typeof phaseSchema>
export type Criterion = z.output<typeof criterionSchema>
export type Thresholds = z.output<typeof thresholdsSchema>
export type RlsConfig = z.output<typeof rlsSchema>
/** The rls settings when the config has none (the extension's rls option still works). */
export const RLS_DEFAULTS: RlsConfig = Object.freeze(rlsSchema.parse({}))
