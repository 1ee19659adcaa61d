// The one place the scan asks the runtime's inspector (src/enforcement/inspect.ts) about a query:
// one source of truth for what is scoped. Everything else in src/scan speaks the Judgement shape
// below, the inspector's own answer (`inspect(...) → { findings, references } | null`).
// With two levels of tenancy the query is judged as the runtime composes its check (docs/levels.md):
// once per level, with that level's one-level policy (levelConfig) and that level's tenant, and the
// findings merged by the runtime's own rule (mergeLevels below, the one call of it).
import { inspect } from '../enforcement/inspect.ts'
import { compilePolicy, type Policy, type ReferencePolicy } from '../enforcement/policy.ts'
import type { DataModel } from '../enforcement/datamodel.ts'
import { levelConfig, modelLevels } from '../enforcement/levels.ts'
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
 * How the scan judges a query for a config: one level (the config's own policy, its level named
 * 'tenant') or two (each level's policy, upper first, merged as the runtime merges them).
 */
export interface Judges {
  readonly twoLevel: boolean
  readonly levels: readonly LevelJudge[]
  /** the level whose own check proves this model's rows (its own level); undefined for a global model */
  levelOf(model: string): string | undefined
  /**
   * Judge one query. `tenants`: each level's tenant in a request (a level missing: that level's
   * tenant undefined); undefined: outside a request.
   */
  judge(model: string | undefined, operation: string, args: unknown, tenants: ReadonlyMap<string, unknown> | undefined): Judgement
}

export function createJudges(config: TenantFenceConfig, datamodel: DataModel, options: { references: ReferencePolicy }): Judges {
  if (!isTwoLevel(config)) {
    const policy = compilePolicy(config, datamodel, options)
    const one = tenantLevels(config)[0]!
    return {
      twoLevel: false,
      levels: [{ name: SINGLE_LEVEL, field: one.field, model: one.model, idField: one.idField, policy }],
      levelOf: (m) => (policy.models.get(m)?.guarded ? SINGLE_LEVEL : undefined),
      judge: (model, operation, args, tenants) => judge(policy, model, operation, args, tenants?.get(SINGLE_LEVEL)),
    }
  }
  const levels = tenantLevels(config).map((l) => ({ name: l.name, field: l.field, model: l.model, idField: l.idField, policy: compilePolicy(levelConfig(config, datamodel, l.name), datamodel, options) }))
  const of = modelLevels(config, datamodel)
  return {
    twoLevel: true,
    levels,
    levelOf: (m) => of.get(m),
    judge: (model, operation, args, tenants) => {
      const perLevel = levels.map((l) => {
        const j = judge(l.policy, model, operation, args, tenants?.get(l.name))
        return { level: l.name, findings: j.findings.map((f) => ({ ...f, level: l.name })), references: j.references }
      })
      return mergeLevels(perLevel)
    },
  }
}

/**
 * The runtime's rule for merging the levels' findings (the lower level's model is proven when either
 * level proves it). The one place the scan applies it.
 */
function mergeLevels(perLevel: ReadonlyArray<{ level: string; findings: readonly JudgedFinding[]; references: readonly JudgedReference[] }>): Judgement {
  // TODO(i22-core): the runtime's pure merge; until it lands every level's findings count (stricter).
  return { findings: perLevel.flatMap((l) => l.findings), references: perLevel.flatMap((l) => l.references) }
}
