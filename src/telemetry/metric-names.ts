// Metric and log names that dashboards, alerts, the report and the gate depend on. Written
// once here; the generator and ops commands import them rather than spelling them again.
export const METRIC = {
  /** counter {model, severity, violation, decision="logged"|"blocked", level} — level: the config's level of tenancy that found it ('tenant' for a one-level config; two levels: a level name) */
  violations: 'tenant_violations_total',
  /** counter {model, endpoint} — queries blocked (a TenantContextRequiredError was thrown) */
  enforcementErrors: 'tenant_enforcement_errors_total',
  /** counter {reason} — queries let through by withoutTenantEnforcement (reason label bounded by config.bypass.reasons, else "other") */
  bypassUsage: 'tenant_bypass_usage_total',
  /** counter {reason} — bypass attempts refused (ALLOW_BYPASS=false, missing or undocumented reason) */
  bypassDenied: 'tenant_bypass_denied_total',
  /** histogram (seconds), no labels — cost of inspect+decide per checked query; _count = queries checked */
  checkDuration: 'tenant_middleware_duration_seconds',
  /** gauge {mode} — 1 for the mode in force, 0 for the others (disabled|log_only|selective|enforce|hardened) */
  mode: 'tenant_enforcement_mode',
  /** gauge {model, severity, policy="off"|"log"|"block", level} — 1 for each model's current policy; level: the model's level of tenancy ('tenant' for one level) */
  modelPolicy: 'tenant_enforcement_model_policy',
  /** counter {flag} — runtime flag values refused (last good flags kept) */
  flagErrors: 'tenant_flag_errors_total',
  /** gauge {outcome="applied"|"refused"} — unix time of the last flag change applied (start-up included) and of the last one refused */
  flagReloads: 'tenant_flag_reload_timestamp_seconds',
  /** counter {model} — internal errors while inspecting (fail open in log_only, closed in enforce) */
  inspectionErrors: 'tenant_inspection_errors_total',
  /** counter {sink} — telemetry that failed (log write, label error); never fails a query */
  telemetryErrors: 'tenant_telemetry_errors_total',
  /** counter {method, route, status} — HTTP requests (Express adapter); the denominator of error rates */
  httpRequests: 'http_requests_total',
  /** histogram (seconds) {method, route, status} */
  httpDuration: 'http_request_duration_seconds',
} as const

export const VIOLATION_KINDS = [
  'missing_tenant_id', // a model scoped by its own tenant field: the filter or data does not pin one tenant
  'missing_relation_filter', // a model scoped through a relation: the filter does not pin one tenant through it
  'tenant_mismatch', // the query names another tenant than the request's, or moves a row to another tenant
  'unscoped_nested_read', // include/select reads a tenant-owned relation under an unscoped or global parent
  'unscoped_nested_write', // a nested write (create, connect, set, update, delete, ...) that does not prove the rows it touches are the tenant's
  'unscoped_relation_filter', // a relation filter or orderBy reaches tenant-owned rows from an unscoped or global parent (an oracle)
  'unverified_reference', // a foreign key, connect or unique key the write sets that no lookup proves (references: 'violation'; no row of the tenant holds it; arithmetic)
  'raw_query', // $queryRaw/$executeRaw: SQL the extension cannot inspect (config.rawQueries.policy)
  'unknown_operation', // an operation the check does not know (a newer Prisma): unscoped until it is taught
  'inspection_error', // the inspector itself failed: allowed in log_only, blocked in enforce
] as const
export type ViolationKind = (typeof VIOLATION_KINDS)[number]

/** `msg` of every violation log line. */
export const VIOLATION_MESSAGE = 'TENANT_VIOLATION'
/** `msg` of the log line of each granted bypass. */
export const BYPASS_MESSAGE = 'TENANT_BYPASS'

export const CHECK_DURATION_BUCKETS = [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025]
