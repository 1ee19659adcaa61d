// The shape of one TENANT_VIOLATION log line (the rollout document's TenantViolation schema).
// The report command reads these lines back, so both sides use this type.
import type { ReportedMode, Severity } from '../config/schema.ts'
import type { ViolationKind } from './metric-names.ts'

export interface TenantViolationLine {
  /** pino level as a number (40 = warn for logged, 50 = error for blocked) */
  level: number
  /** epoch milliseconds (pino) */
  time: number
  msg: 'TENANT_VIOLATION'
  /** ISO 8601 timestamp of the query */
  timestamp: string
  severity: Severity
  model: string
  /** the Prisma operation: findMany, updateMany, $queryRaw, … */
  action: string
  violation: ViolationKind
  decision: 'logged' | 'blocked'
  mode: ReportedMode
  /** route template (`/api/users/:id`), or "unknown" outside a request */
  endpoint: string
  method: string
  userId: string | null
  tenantId: string | null
  /**
   * Two levels of tenancy: the level whose check found the violation (a config level name). Not
   * `level`, which is pino's log level on the same line.
   */
  tenantLevel?: string
  /** two levels: the context's id per level, each kept only when id-shaped (as tenantId) */
  tenantIds?: Record<string, string | null>
  /** the tenant(s) the query named, when it named any */
  queryTenantIds?: string[]
  /** where in the query's arguments the violation is (`where`, `include.userRoles`, `data.roleId`) */
  path?: string
  /** for a link between two rows: the model at the other end (its flags decide too) */
  linked?: string
  /** what leads to the fix, in words without values (an owned row: its owner relation, "belongs to no tenant yet") */
  detail?: string
  /** the query's other findings (a filter or include reaching another model's rows), when it has any */
  related?: { model: string; violation: string; path: string }[]
  /** call site frames, app code first, node_modules and tenantfence frames removed */
  stackTrace: string
  /** the query arguments with every value that could be secret or personal replaced */
  queryArgs: unknown
}
