// The one typed config: models, severities, phases, thresholds. Everything else (the
// extension's policy, dashboards, alert rules, runbooks, the demo, the phase gate) derives
// from a value of this type, validated once by `defineConfig`/`parseConfig`.
//
// Only `models` is required. The app, thresholds, the five phases (flags, alerts, per-phase
// thresholds and severities, success criteria) and the rollback default to the rollout
// document's (src/config/defaults.ts); any part can be overridden (see `phases` below for how).
import { z } from 'zod'
import { DEFAULT_ROLLBACK, DEFAULT_SEVERITIES, DEFAULT_THRESHOLDS, defaultPhases, mergePhase } from './defaults.ts'
import { describeInvalid } from './suggest.ts'

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
  'TenantJobQueriesBlocked',
  'TenantBypassUsage',
  'TenantCheckLatencyHigh',
  'TenantCheckLatencyCritical',
  'TenantFlagReloadFailed',
] as const
export type AlertName = (typeof ALERT_NAMES)[number]

/**
 * Alerts of no phase, in their own rule file: they say the app's metrics are missing, which no
 * mode-gated rule can (with no mode reported, every gate is closed), or that its instances
 * disagree on the mode (a mixed fleet is between phases).
 */
export const SILENCE_ALERT_NAMES = ['TenantMetricsMissing', 'TenantInstanceNotReporting', 'TenantFleetModeMismatch'] as const
export type SilenceAlertName = (typeof SILENCE_ALERT_NAMES)[number]

/** Prometheus alert severities (the `severity` label). */
export const ALERT_SEVERITIES = ['critical', 'warning', 'info'] as const
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number]

/** Success criteria the phase gate can measure, each over a window. */
export const CRITERION_KINDS = [
  'violationsPerHour', // violations per hour over the window (optionally of one severity or decision)
  'criticalViolations', // violations on CRITICAL models in the window
  'violations', // violations in the window (optionally of one severity or decision)
  'errorRate', // blocked requests of users / requests of users over the window (0.001 = 0.1 %)
  'enforcementErrors', // blocked queries in the window (requests and jobs)
  'bypassesPerDay', // bypass uses per day over the window
  'checkP95Ms', // p95 cost of the check in milliseconds over the window
  'flagErrors', // runtime flag reload errors in the window
] as const
export type CriterionKind = (typeof CRITERION_KINDS)[number]

export const DECISIONS = ['logged', 'blocked'] as const
export type Decision = (typeof DECISIONS)[number]

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

/**
 * The severity `tenantfence init` writes for every model: the team has not chosen one yet. The
 * config still runs (as MEDIUM) so a first deploy in log_only works, and `tenantfence audit` lists
 * every model still at it until a real severity replaces it.
 */
export const SEVERITY_TO_REVIEW = 'TO_REVIEW'
/** What a model at `TO_REVIEW` runs as. */
export const SEVERITY_TO_REVIEW_RUNS_AS: Severity = 'MEDIUM'

export const modelPolicySchema = z
  .strictObject({
    severity: z.enum([...SEVERITIES, SEVERITY_TO_REVIEW]),
    /**
     * Scoped through this relation (e.g. RefreshToken through `user`) instead of an own tenant field. It
     * may be the back side of a one-to-one whose unique key the owner holds (DocumentMeta through `envelope`).
     */
    via: identifier.optional(),
    /** The model's own tenant field when it differs from `tenant.field` (two levels: the field of its level). */
    field: identifier.optional(),
    /**
     * Two levels of tenancy (`levels`): the level the model's rows belong to, by name. Optional: else
     * the level whose field its `field` names, else its `via` target's, else the lower level (the stricter).
     */
    level: identifier.optional(),
    description: z.string().optional(),
    /** Set by 'TO_REVIEW' (so a validated config validates again to the same value); not for hand use. */
    severityToReview: z.literal(true).optional(),
  })
  .transform(({ severity, severityToReview, ...rest }) =>
    severity === SEVERITY_TO_REVIEW || severityToReview
      ? { ...rest, severity: severity === SEVERITY_TO_REVIEW ? SEVERITY_TO_REVIEW_RUNS_AS : severity, severityToReview: true as const }
      : { ...rest, severity },
  )

type Id = string | number | bigint
/** What `bypass.authorize` is asked: the actor (`options.actor`, else the context's userId), the reason, the context. */
export interface BypassRequest {
  readonly actor: string
  readonly reason: string
  readonly context: { readonly tenantId?: Id; readonly tenantIds?: Readonly<Record<string, Id>>; readonly userId?: Id; readonly method?: string } | undefined
}
/** Returns true to let this actor bypass; anything else (false, a throw, a promise) refuses. Synchronous. */
export type BypassAuthorize = (request: BypassRequest) => boolean

const actorName = z
  .string()
  .refine((s) => s.trim() !== '' && s.trim() === s, 'must be a non-blank name without leading or trailing spaces')

export const bypassSchema = z
  .strictObject({
    /** The documented bypass reasons; hardened mode accepts only these (none by default: no bypass when hardened). */
    reasons: z.array(identifier),
    /** Who may bypass (a job name, a user id as a string). When set, anyone else is refused. */
    actors: z
      .array(actorName)
      .min(1, 'name at least one actor, or leave bypass.actors out (to refuse every bypass: TENANT_ENFORCEMENT_ALLOW_BYPASS=false)')
      .refine((a) => new Set(a).size === a.length, 'lists an actor twice')
      .optional(),
    /** A predicate deciding who may bypass; with `actors` too, both must agree. */
    authorize: z
      .custom<BypassAuthorize>((v) => typeof v === 'function', 'must be a function ({ actor, reason, context }) => boolean')
      .optional(),
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
   * Two levels only: the level the request works on as a whole (its `scope`: the upper level's name
   * for an organisation-wide request, '' otherwise). Lower-level rows are admitted by their upper
   * level's id only while it names the upper level.
   */
  scopeSetting: settingName.default('tenantfence.scope'),
  /**
   * How a job crosses tenants under the policies. `reason_setting`: a policy admits every row while
   * bypassSetting names one of bypass.reasons (set by the extension for a granted bypass).
   * `bypassrls_role`: no such policy; jobs connect as a role with BYPASSRLS.
   */
  bypass: z.enum(RLS_BYPASS_MODES).default('reason_setting'),
  /** Where `generate` writes migration.sql and rollback.sql, relative to --out. */
  dir: z.string().regex(/^(?!\/)(?!.*\.\.)[\w./-]+$/, 'must be a relative path inside the project, such as prisma/rls').default('prisma/rls'),
})

/** A Kubernetes object name (RFC 1123 label/subdomain): what `kubectl` accepts after deployment/ or -n. */
const kubernetesName = (field: string) =>
  z.string({ error: required(field, 'kubernetes') }).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes name: lower-case letters, digits, "-" and "." (such as my-app)')
/** A missing field of one flag source says which source needs it, rather than "expected string". */
const required = (field: string, source: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `source "${source}" needs ${field}` : undefined

/**
 * How flags reach the app, so a printed rollback changes what the app reads (no guessed name):
 * a flag file the app watches (flags: { file } in tenantEnforcement), the env of a Kubernetes
 * deployment (kubectl set env restarts its pods), or the environment of a process you restart.
 */
export const FLAG_SOURCES = ['file', 'kubernetes', 'env'] as const
export const flagDeliverySchema = z.discriminatedUnion(
  'source',
  [
    z.strictObject({
      source: z.literal('file'),
      /** The flag file as the app sees it (absolute): the rollback rewrites it atomically (a temporary file, then mv). */
      path: z.string({ error: required('path', 'file') }).regex(/^\/[^\n\0]*[^/\n\0]$/, 'must be the absolute path of the flag file the app watches, such as /etc/tenantfence/flags.env'),
    }),
    z.strictObject({
      source: z.literal('kubernetes'),
      deployment: kubernetesName('deployment'),
      namespace: kubernetesName('namespace'),
      /** The container that runs the app, when the pod has several. */
      container: kubernetesName('container').optional(),
    }),
    z.strictObject({ source: z.literal('env') }),
  ],
  {
    error: (issue) =>
      issue.code !== 'invalid_union' ? undefined : typeof issue.input === 'object' && issue.input !== null && typeof (issue.input as { source?: unknown }).source === 'string'
        ? describeInvalid('source', (issue.input as { source: string }).source, FLAG_SOURCES)
        : `needs a source: one of ${FLAG_SOURCES.join(', ')}`,
  },
)
export type FlagDelivery = z.output<typeof flagDeliverySchema>

export const criterionSchema = z
  .strictObject({
    kind: z.enum(CRITERION_KINDS),
    /** holds when the measured value is at most this ("none" is `max: 0`) */
    max: z.number().nonnegative().optional(),
    /** holds when the measured value is strictly below this (the document's "<", "fewer than", "under") */
    below: z.number().positive().optional(),
    window: duration,
    /** violations kinds: count only this severity */
    severity: z.enum(SEVERITIES).optional(),
    /** violations kinds: count only logged (left to fix) or blocked violations */
    decision: z.enum(DECISIONS).optional(),
    description: z.string().min(1),
  })
  .refine((c) => (c.max === undefined) !== (c.below === undefined), { message: 'give exactly one of "max" (at most) or "below" (strictly less than)' })

const thresholdFields = {
  /** TenantViolationSummary (the daily summary): any violation in the last 24 h, held this long. */
  violationSummaryFor: duration,
  /**
   * TenantViolationSummary is a once-a-day notification: its condition holds only from this time
   * of day (UTC, HH:MM) for `violationSummaryFor` + 15 minutes, so it fires once, then resolves.
   */
  violationSummaryAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a UTC time of day HH:MM such as 09:00'),
  /** TenantViolationSpike: logged violations per minute (5 m rate) above this. */
  violationSpikePerMinute: z.number().positive(),
  violationSpikeFor: duration,
  /** TenantCriticalModelViolation: any logged violation on a CRITICAL model. */
  criticalViolationFor: duration,
  /** TenantEnforcementErrors: blocked requests as a share of users' requests (0.001 = 0.1 %). */
  errorRate: z.number().positive().max(1),
  errorRateFor: duration,
  /** TenantEnforcementRollback: the rollback trigger (0.01 = 1 %). */
  errorRateRollback: z.number().positive().max(1),
  errorRateRollbackFor: duration,
  /** TenantJobQueriesBlocked: any query blocked outside a request (a job, a script) in 15 minutes. */
  jobErrorsFor: duration,
  /** TenantBypassUsage: bypass uses in the last hour above this. */
  bypassPerHour: z.number().nonnegative(),
  bypassFor: duration,
  /** TenantCheckLatency*: p95 of the check in milliseconds. */
  checkLatencyWarningMs: z.number().positive(),
  checkLatencyCriticalMs: z.number().positive(),
  checkLatencyFor: duration,
  /** TenantMetricsMissing / TenantInstanceNotReporting: how long the app may be silent. */
  metricsMissingFor: duration,
  /** TenantFleetModeMismatch: how long the instances of one job may disagree on the mode (longer than a flag change takes to reach them all). */
  fleetModeMismatchFor: duration,
}

/** What a config may say about thresholds: any of them, over the defaults. */
export const thresholdsPatchSchema = z.strictObject(thresholdFields).partial()

export const thresholdsSchema = z
  .strictObject(thresholdFields)
  .superRefine((t, ctx) => {
    if (t.errorRateRollback <= t.errorRate) {
      ctx.addIssue({ code: 'custom', path: ['errorRateRollback'], message: `errorRateRollback (${t.errorRateRollback}) must be above errorRate (${t.errorRate})` })
    }
    if (t.checkLatencyCriticalMs <= t.checkLatencyWarningMs) {
      ctx.addIssue({ code: 'custom', path: ['checkLatencyCriticalMs'], message: `checkLatencyCriticalMs (${t.checkLatencyCriticalMs}) must be above checkLatencyWarningMs (${t.checkLatencyWarningMs})` })
    }
  })

/** A complete phase, as the rest of the code reads it. */
export const phaseSchema = z.strictObject({
  phase: z.number().int().min(0).max(4),
  name: z.string().min(1),
  /** The mode the app reports during this phase; phase 4 is `hardened`. */
  mode: z.enum(REPORTED_MODES),
  goal: z.string().min(1),
  duration: z.string().min(1),
  /** The TENANT_ENFORCEMENT_* values of this phase (full names). */
  flags: z.record(z.string(), flagValue),
  alerts: z.array(z.enum(ALERT_NAMES)),
  /** This phase's alert thresholds: the config's `thresholds` with the phase's own values over them. */
  thresholds: thresholdsSchema,
  /** The `severity` label of each alert in this phase. */
  severities: z.record(z.enum(ALERT_NAMES), z.enum(ALERT_SEVERITIES)),
  successCriteria: z.array(criterionSchema),
})

/**
 * What a config may say about one phase: any field, merged over the phase's default. Objects
 * (flags, thresholds, severities) merge key by key, a flag set to null is removed; lists (alerts,
 * successCriteria) and plain values replace the default's.
 */
export const phasePatchSchema = z.strictObject({
  phase: z.number().int().min(0).max(4).optional(),
  name: z.string().min(1).optional(),
  mode: z.enum(REPORTED_MODES).optional(),
  goal: z.string().min(1).optional(),
  duration: z.string().min(1).optional(),
  flags: z.record(z.string(), flagValue.nullable()).optional(),
  alerts: z.array(z.enum(ALERT_NAMES)).optional(),
  thresholds: thresholdsPatchSchema.optional(),
  severities: z.partialRecord(z.enum(ALERT_NAMES), z.enum(ALERT_SEVERITIES)).optional(),
  successCriteria: z.array(criterionSchema).optional(),
})

const PHASE_KEYS = ['0', '1', '2', '3', '4'] as const
/** `phases` as a config writes it: a list in phase order, or an object keyed by phase number. */
export type PhasesInput = PhasePatch[] | Partial<Record<(typeof PHASE_KEYS)[number] | 0 | 1 | 2 | 3 | 4, PhasePatch>>

const appSchema = z.strictObject({
  /** How people name the app (titles, the demo). */
  name: z.string().min(1).default('app'),
  /**
   * The Prometheus `job` label of the app's scrape job, and the Loki `app` label of its lines.
   * Set it when one Prometheus scrapes several apps; without it, rules and queries take every
   * job that exports tenantfence's metrics (alerts are still per job).
   */
  job: z.string().min(1).optional(),
  /** Base of the runbook links in alert annotations; without it they are relative to the rule file (runbooks/…). */
  runbookBaseUrl: z.string().url().optional(),
  /** Routes of probes and scrapes, not of users: left out of the error rate's denominator. */
  probeRoutes: z.array(z.string().min(1)).default(['/healthz', '/metrics']),
})

/**
 * One level of tenancy of a two-level app (docs/levels.md): an organisation above its teams. The
 * first level is the upper one; the second names the relation from its model to the first's.
 */
export const levelSchema = z.strictObject({
  /** The level's name: the context key of its id (`tenantIds: { organization, team }`), the `level` of models, the metric label. */
  name: identifier,
  /** The level's own model (Organization, Team): its rows are the level's tenants. */
  model: identifier,
  /** The field of the level's models that holds its id (organizationId, teamId). */
  field: identifier,
  idField: identifier.default('id'),
  /** Severity of violations on the level model's own rows. */
  severity: z.enum(SEVERITIES).default('HIGH'),
  /** Lower level only: the relation on `model` to the upper level's model (Team.organization). */
  parent: identifier.optional(),
  /** PostgreSQL row-level security: the setting that carries this level's id (default app.<name>_id). */
  rlsSetting: settingName.optional(),
})
export type TenantLevelConfig = z.output<typeof levelSchema>

/** The config's fields as written (before defaults are merged and cross-checks run). */
export const configFieldsSchema = z.strictObject({
  app: appSchema.default({ name: 'app', probeRoutes: ['/healthz', '/metrics'] }),
  tenant: z
    .strictObject({
      /** The tenant field of models scoped by their own column. */
      field: identifier.default('tenantId'),
      /** The tenant model itself (optional): its rows are protected too, a request reads and writes only its own. */
      model: identifier.optional(),
      idField: identifier.default('id'),
      /** Severity of violations on the tenant model's rows (reading or writing another tenant's row). */
      severity: z.enum(SEVERITIES).default('HIGH'),
      /**
       * A create of the tenant model inside a request (a signed-in user creates a new team). `allow`:
       * it makes a new tenant, its nested creates belong to it, and linking existing tenant-owned rows
       * to it is a violation (global rows may be linked). `violation`: it is a tenant_mismatch.
       */
      createInRequest: z.enum(['allow', 'violation']).default('allow'),
    })
    .default({ field: 'tenantId', idField: 'id', severity: 'HIGH', createInRequest: 'allow' }),
  /**
   * Two levels of tenancy instead of `tenant.model`/`tenant.field` (docs/levels.md): the upper level
   * first (organization), then the lower one (team) with `parent`, its relation to the upper model.
   * `tenant.createInRequest` still applies (to both level models).
   */
  levels: z.array(levelSchema).min(2, 'list two levels (the upper one first); with one level use tenant.model/tenant.field').max(2, 'tenantfence supports two levels of tenancy').optional(),
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
  bypass: bypassSchema.default({ reasons: [] }),
  /** Alert thresholds of every phase, over the document's (a phase may override them in its own `thresholds`). */
  thresholds: thresholdsPatchSchema.optional(),
  /**
   * The five phases, each merged over the document's phase of the same number: either an
   * object keyed by phase number (`{ 2: { thresholds: { errorRate: 0.002 } } }`) or a list in
   * phase order (entry i is phase i).
   */
  // Checked entry by entry in the transform below, so an error names the phase and the field.
  phases: z.custom<PhasesInput>((v) => Array.isArray(v) || (typeof v === 'object' && v !== null), 'expected a list of phases in order, or an object keyed by phase number (0..4)').optional(),
  /** How the TENANT_ENFORCEMENT_* flags reach the running app: every printed rollback and phase change uses it. */
  rollout: z.strictObject({ flags: flagDeliverySchema.optional() }).optional(),
  rollback: z
    .strictObject({
      /** The document's instant rollback: flags that return the app to log only. */
      flags: z.record(z.string(), flagValue),
      description: z.string().min(1),
    })
    .optional(),
})

export const configSchema = configFieldsSchema
  .superRefine((cfg, ctx) => {
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
    if (cfg.levels) levelIssues(cfg, ctx)
    else {
      for (const [name, policy] of Object.entries(cfg.models)) {
        if (policy.level !== undefined) ctx.addIssue({ code: 'custom', path: ['models', name, 'level'], message: `${name}: "level" needs two levels of tenancy (levels); this config has one (tenant)` })
      }
    }
  })
  .transform((cfg, ctx) => {
    // Validate a merged part and report its issues under its path in the config.
    const check = <S extends z.ZodType>(schema: S, value: unknown, path: (string | number)[]): z.output<S> | undefined => {
      const r = schema.safeParse(value)
      if (r.success) return r.data
      for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: [...path, ...issue.path] } as never)
      return undefined
    }
    const thresholds = check(thresholdsSchema, { ...DEFAULT_THRESHOLDS, ...cfg.thresholds }, ['thresholds'])
    const protectedList = Object.entries(cfg.models).map(([name, m]) => ({ name, severity: m.severity as string }))
    if (cfg.levels) for (const l of cfg.levels) protectedList.push({ name: l.model, severity: l.severity })
    else if (cfg.tenant.model) protectedList.push({ name: cfg.tenant.model, severity: cfg.tenant.severity })
    const given: [number, unknown][] = Array.isArray(cfg.phases) ? cfg.phases.map((p, i) => [i, p]) : Object.entries(cfg.phases ?? {}).map(([k, p]) => [Number(k), p])
    const patches: (z.output<typeof phasePatchSchema> | undefined)[] = []
    for (const [i, p] of given) {
      if (!(PHASE_KEYS as readonly string[]).includes(String(i))) {
        ctx.addIssue({ code: 'custom', path: ['phases'], message: `phases has ${Array.isArray(cfg.phases) ? `${given.length} entries` : `a phase "${i}"`}; the phases are 0..4` })
        continue
      }
      patches[i] = check(phasePatchSchema, p, ['phases', i])
    }
    const phases = defaultPhases(protectedList).map((d, i) => {
      const patch = patches[i]
      if (patch?.phase !== undefined && patch.phase !== i) {
        ctx.addIssue({ code: 'custom', path: ['phases', i, 'phase'], message: `phases must be listed 0..4 in order; entry ${i} says phase ${patch.phase}` })
      }
      // The phase's thresholds: the config's, the document's for this phase, the config's for this phase.
      const base = { ...d, thresholds: { ...(thresholds ?? DEFAULT_THRESHOLDS), ...d.thresholds }, severities: { ...DEFAULT_SEVERITIES, ...d.severities } }
      return check(phaseSchema, mergePhase(base, patch as Record<string, unknown> | undefined), ['phases', i])
    })
    if (cfg.rls && cfg.rls.setting === cfg.rls.bypassSetting) {
      ctx.addIssue({ code: 'custom', path: ['rls', 'bypassSetting'], message: `rls.bypassSetting must differ from rls.setting (both "${cfg.rls.setting}")` })
    }
    if (cfg.rls) rlsSettingIssues(cfg, ctx)
    if (!thresholds || phases.some((p) => p === undefined)) return z.NEVER
    return { ...cfg, thresholds, phases: phases as PhaseConfig[], rollback: (cfg.rollback ?? DEFAULT_ROLLBACK) as RollbackConfig }
  })

/** What `levels` must agree with: the rest of the config (the schema is checked by compileLevels). */
function levelIssues(cfg: z.output<typeof configFieldsSchema>, ctx: z.RefinementCtx): void {
  const levels = cfg.levels!
  const names = levels.map((l) => l.name)
  const [upper, lower] = [levels[0]!, levels[1]!]
  if (cfg.tenant.model !== undefined || cfg.tenant.field !== 'tenantId' || cfg.tenant.idField !== 'id') {
    ctx.addIssue({ code: 'custom', path: ['tenant'], message: 'with levels, each level names its model, field and idField: remove tenant.model, tenant.field and tenant.idField (tenant.createInRequest still applies)' })
  }
  if (names[0] === names[1]) ctx.addIssue({ code: 'custom', path: ['levels', 1, 'name'], message: `the two levels have the same name "${names[0]}"` })
  if (upper.model === lower.model) ctx.addIssue({ code: 'custom', path: ['levels', 1, 'model'], message: `the two levels have the same model ${upper.model}` })
  if (upper.field === lower.field) ctx.addIssue({ code: 'custom', path: ['levels', 1, 'field'], message: `the two levels have the same field "${upper.field}": a model's field must tell its level` })
  if (upper.parent !== undefined) ctx.addIssue({ code: 'custom', path: ['levels', 0, 'parent'], message: `the first level (${upper.name}) is the upper one: it has no parent` })
  if (lower.parent === undefined) ctx.addIssue({ code: 'custom', path: ['levels', 1, 'parent'], message: `the lower level (${lower.name}) needs "parent": the relation on ${lower.model} to ${upper.model} (such as "${upper.name}")` })
  for (const l of levels) {
    if (cfg.models[l.model] || cfg.globalModels.includes(l.model)) {
      const where = cfg.models[l.model] ? 'models' : 'globalModels'
      ctx.addIssue({ code: 'custom', path: [where], message: `${l.model} is the model of the level "${l.name}" (levels): its rows are protected as that level's own; remove it from ${where} (set its severity in levels)` })
    }
  }
  const settings = levels.map((l) => l.rlsSetting ?? defaultLevelSetting(l.name))
  if (settings[0] === settings[1]) ctx.addIssue({ code: 'custom', path: ['levels', 1, 'rlsSetting'], message: `the two levels carry their ids in the same setting "${settings[0]}"` })
  for (const [name, policy] of Object.entries(cfg.models)) {
    if (policy.level !== undefined && !names.includes(policy.level)) {
      ctx.addIssue({ code: 'custom', path: ['models', name, 'level'], message: `${name}: ${describeInvalid('level', policy.level, names)}` })
    }
    const byField = policy.field === undefined ? undefined : levels.find((l) => l.field === policy.field)?.name
    if (policy.level !== undefined && byField !== undefined && byField !== policy.level) {
      ctx.addIssue({ code: 'custom', path: ['models', name], message: `${name}: its field "${policy.field}" is the ${byField} level's, but it says level "${policy.level}"` })
    }
  }
}

/** Each setting the policies read carries one thing: the scope and the bypass reason are no level's id. */
function rlsSettingIssues(cfg: z.output<typeof configFieldsSchema>, ctx: z.RefinementCtx): void {
  const rls = cfg.rls!
  const taken: Array<[string, string]> = [['rls.setting', rls.setting], ['rls.bypassSetting', rls.bypassSetting]]
  for (const [i, l] of (cfg.levels ?? []).entries()) {
    const setting = l.rlsSetting ?? defaultLevelSetting(l.name)
    if (setting === rls.bypassSetting) ctx.addIssue({ code: 'custom', path: ['levels', i, 'rlsSetting'], message: `the level "${l.name}" carries its id in "${setting}", the bypass reason's setting (rls.bypassSetting)` })
    taken.push([`levels[${i}].rlsSetting`, setting])
  }
  const clash = taken.find(([, setting]) => setting === rls.scopeSetting)
  if (clash) ctx.addIssue({ code: 'custom', path: ['rls', 'scopeSetting'], message: `rls.scopeSetting must differ from ${clash[0]} (both "${rls.scopeSetting}")` })
}

/** The row-level security setting of a level that names none: app.<name>_id. */
export function defaultLevelSetting(name: string): string {
  return `app.${name.replace(/[^A-Za-z0-9_]/g, '_')}_id`
}

export type TenantFenceConfigInput = z.input<typeof configSchema>
export type TenantFenceConfig = z.output<typeof configSchema>
export type ModelPolicyConfig = z.output<typeof modelPolicySchema>
export type PhaseConfig = z.output<typeof phaseSchema>
export type PhasePatch = z.input<typeof phasePatchSchema>
export type Criterion = z.output<typeof criterionSchema>
export type Thresholds = z.output<typeof thresholdsSchema>
export type RollbackConfig = { flags: Record<string, string | number | boolean>; description: string }
export type RlsConfig = z.output<typeof rlsSchema>
/** The rls settings when the config has none (the extension's rls option still works). */
export const RLS_DEFAULTS: RlsConfig = Object.freeze(rlsSchema.parse({}))
