// The one place the scan asks the runtime's inspector (src/enforcement/inspect.ts) about a query:
// one source of truth for what is scoped. Everything else in src/scan speaks the Judgement shape
// below, the inspector's own answer (`inspect(...) → { findings, references } | null`).
import { inspect } from '../enforcement/inspect.ts'
import type { Policy } from '../enforcement/policy.ts'
import type { Severity } from '../config/schema.ts'
import type { ViolationKind } from '../telemetry/metric-names.ts'

export interface JudgedFinding {
  readonly model: string
  readonly severity: Severity
  readonly violation: ViolationKind
  readonly queryTenantIds?: readonly string[]
  /** where in the arguments ('where.OR[1]'), when the inspector says */
  readonly path?: string
}

/** A foreign key the runtime verifies with a lookup (references: 'verify'): not a finding. */
export interface JudgedReference {
  readonly model: string
  readonly path: string
}

export interface Judgement {
  readonly findings: readonly JudgedFinding[]
  readonly references: readonly JudgedReference[]
}

const PROVEN: Judgement = { findings: [], references: [] }

/**
 * Judge one query as the runtime would. `model` undefined: a client-level operation (raw SQL).
 * `tenantId` undefined: outside a request (a job, a script).
 */
export function judge(policy: Policy, model: string | undefined, operation: string, args: unknown, tenantId: unknown): Judgement {
  return inspect(policy, model, operation, args, tenantId) ?? PROVEN
}
