// The one place the scan asks the runtime's inspector (src/enforcement/inspect.ts) about a query:
// one source of truth for what is scoped. Everything else in src/scan speaks the Judgement shape
// below, the inspector's own answer (`inspect(...) → { findings, references } | null`).
// With two levels of tenancy the query is judged as the runtime composes its check (docs/levels.md):
// once per level, with that level's one-level policy and that level's tenant (or once with the
// organisation-wide policy), the findings merged by the runtime's own rule: levels-inspect.ts.
import { inspect } from '../enforcement/inspect.ts'
import { compilePolicy, type Policy, type ReferencePolicy } from '../enforcement/policy.ts'
import type { DataModel } from '../enforcement/datamodel.ts'
import { checkLevels, compileLevels } from '../enforcement/levels-inspect.ts'
import { isTwoLevel, SINGLE_LEVEL, tenantLevels } from '../config/levels.ts'
import type { Severity, TenantFenceConfig } from '../config/schema.ts'
import type { ViolationKind } from '../telemetry/metric-names.ts'

export interface JudgedFinding {
  readonly model: string
  readonly severity: Severity
  readonly violation: ViolationKind
  readonly queryTenantIds?: readonly string[]
  /** where in the arguments ('where.OR[1]'), when the inspector says */
  readonly path?: string
  /** the level whose check found it (two levels only) */
  readonly level?: string
  /** found by the organisation-wide policy (two levels, scope: the upper level) */
  readonly wide?: boolean
  /** what the reader needs to fix it, when the inspector says */
  readonly detail?: string
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

/** One level's check: its name and its one-level policy. */
export interface LevelJudge {
  readonly name: string
  /** the field of the level's models that holds its id */
  readonly field: string
  /** the level's own model and its id field (a query on it pins the level by its id) */
  readonly model: string | undefined
  readonly idField: string
  readonly policy: Policy
}

/**
 * The request context a query is judged in: each level's tenant (one level: `tenant`), and for two
 * levels the organisation-wide scope (the upper level's name). Undefined: outside a request.
 */
export interface JudgeContext {
  readonly tenantIds: Readonly<Record<string, unknown>>
  readonly scope?: string
}

/**
 * How the scan judges a query for a config: one level (the config's own policy, its level named
 * 'tenant') or two (each level's policy, upper first, composed as the runtime composes them).
 */
export interface Judges {
  readonly twoLevel: boolean
  readonly levels: readonly LevelJudge[]
  /** two levels: the organisation-wide policy (the upper level's, lower-level rows proven through the organisation) */
  readonly wide: Policy | undefined
  /** the level whose own check proves this model's rows (its own level); undefined for a global model */
  levelOf(model: string): string | undefined
  judge(model: string | undefined, operation: string, args: unknown, context: JudgeContext | undefined): Judgement
}

export function createJudges(config: TenantFenceConfig, datamodel: DataModel, options: { references: ReferencePolicy }): Judges {
  if (!isTwoLevel(config)) {
    const policy = compilePolicy(config, datamodel, options)
    const one = tenantLevels(config)[0]!
    return {
      twoLevel: false,
      levels: [{ name: SINGLE_LEVEL, field: one.field, model: one.model, idField: one.idField, policy }],
      wide: undefined,
      levelOf: (m) => (policy.models.get(m)?.guarded ? SINGLE_LEVEL : undefined),
      judge: (model, operation, args, context) => judge(policy, model, operation, args, context?.tenantIds[SINGLE_LEVEL]),
    }
  }
  const compiled = compileLevels(config, datamodel, options)
  return {
    twoLevel: true,
    levels: compiled.levels.map((l) => ({ name: l.name, field: l.field, model: l.model, idField: l.idField, policy: compiled.policies.get(l.name)! })),
    wide: compiled.wide,
    levelOf: (m) => compiled.modelLevel.get(m),
    // The runtime's composition (levels-inspect.ts): each level's inspection, merged by its rule
    // (the lower level's model proven by either level). References are left to the run-time lookup.
    judge: (model, operation, args, context) => {
      const { findings, runs } = checkLevels(compiled, model, operation, args, context)
      const wide = context?.scope === compiled.levels[0].name
      return { findings: wide ? findings.map((f) => ({ ...f, wide })) : findings, references: runs.flatMap((r) => r.inspection.references) }
    },
  }
}
