// The check of two levels of tenancy (docs/levels.md): a COMPOSITION of one-level checks, never a
// new walk. Each level's one-level policy (levelConfig) inspects the query with that level's id;
// their findings are merged with one rule for the lower level's model (Team/Project), the one model
// both levels judge. An organisation-wide scope (an org admin) is one more one-level policy, the
// "wide" projection, inspected with the organisation's id. Pure: no client, no telemetry.
import { TenantConfigError } from '../config/define.ts'
import { tenantLevels, type TenantLevel } from '../config/levels.ts'
import type { ModelPolicyConfig, TenantFenceConfig } from '../config/schema.ts'
import type { ViolationKind } from '../telemetry/metric-names.ts'
import type { DataModel } from './datamodel.ts'
import { inspect, MAX_FINDINGS, pinOfWhere, sameTenant, type Finding, type Inspection } from './inspect.ts'
import { levelConfig, modelLevels, parentKey } from './levels.ts'
import { MODEL_RAW_OPERATIONS } from './operations.ts'
import { compilePolicy, type ModelPolicy, type Policy, type PolicyOptions, type Relation } from './policy.ts'

/**
 * The tenant a level is inspected with when the context names no id for it: equal to no value, so
 * every row of that level the query touches is a violation (an org-only context proves no team's
 * rows). A symbol: no id of a row can ever be it.
 */
export const NO_TENANT = Symbol('no tenant of this level')

export interface WideProjection {
  /** the upper level's one-level config with the lower level's models re-scoped to the organisation */
  readonly config: TenantFenceConfig
  /** lower-level models neither their own upper field nor a relation to the lower model proves: never proven org-wide */
  readonly unprovable: readonly string[]
}

/**
 * The organisation-wide projection: the upper level's config plus every lower-level model, each
 * proven by the organisation: by its own upper field when the row carries it (Dataset.orgId); else
 * `via` its relation to the lower model whose foreign key is its lower field (Dataset.project); a
 * via model keeps its via; the lower model by its parent key. A model that can be proven neither
 * way is listed in `unprovable` (compileLevels makes every query on it a violation: never global).
 */
export function wideConfig(config: TenantFenceConfig, datamodel: DataModel): WideProjection {
  const [upper, lower] = twoLevels(config)
  const base = levelConfig(config, datamodel, upper.name)
  const of = modelLevels(config, datamodel)
  const models: Record<string, ModelPolicyConfig> = { ...base.models }
  const unprovable: string[] = []
  for (const [name, cfg] of Object.entries(config.models)) {
    if (of.get(name) !== lower.name) continue
    const { level: _level, ...rest } = cfg
    if (cfg.via !== undefined) {
      models[name] = rest
      continue
    }
    const own = cfg.field ?? lower.field
    const fields = datamodel.models[name]?.fields ?? []
    if (fields.some((f) => f.kind !== 'object' && f.name === upper.field)) {
      models[name] = { ...rest, field: upper.field }
      continue
    }
    const rel = fields.find((f) => f.kind === 'object' && f.type === lower.model && !f.isList && f.relationFromFields?.length === 1 && f.relationFromFields[0] === own)
    if (rel !== undefined) {
      models[name] = { ...rest, field: undefined, via: rel.name }
      continue
    }
    // Compiles with its own field; compileLevels then takes that field away (nothing can pin it).
    models[name] = { ...rest, field: own }
    unprovable.push(name)
  }
  // A via model whose chain ends in an unprovable model is unprovable too (listed for the reader).
  for (let grew = true; grew; ) {
    grew = false
    for (const [name, cfg] of Object.entries(models)) {
      if (cfg.via === undefined || unprovable.includes(name)) continue
      const target = datamodel.models[name]?.fields.find((f) => f.name === cfg.via && f.kind === 'object')?.type
      if (target !== undefined && unprovable.includes(target)) {
        unprovable.push(name)
        grew = true
      }
    }
  }
  return { config: { ...base, models } as TenantFenceConfig, unprovable }
}

export interface CompiledLevels {
  /** the two levels, upper first */
  readonly levels: readonly [TenantLevel, TenantLevel]
  /** each level's one-level policy, by level name */
  readonly policies: ReadonlyMap<string, Policy>
  /** the organisation-wide policy (scope: the upper level's name) */
  readonly wide: Policy
  /** the lower level's model: proven when either level proves it */
  readonly lowerModel: string
  /** its foreign key to the upper level's model (Team.organizationId) */
  readonly parentKey: string
  /** model → level name (level models included) */
  readonly modelLevel: ReadonlyMap<string, string>
  /** see WideProjection.unprovable */
  readonly unprovable: readonly string[]
  /** lower-level models that carry the upper field too: proven by their lower level, never named in another organisation */
  readonly carriers: readonly string[]
}

/** A field name no filter, data or row can hold: the unprovable models' tenant field in the wide policy. */
const NO_FIELD = '\u0000unprovable in the organisation-wide scope'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** The policies of a two-level config: one per level, and the organisation-wide one. */
export function compileLevels(config: TenantFenceConfig, datamodel: DataModel, options: PolicyOptions = {}): CompiledLevels {
  const [upper, lower] = twoLevels(config)
  const of = modelLevels(config, datamodel)
  // A lower-level row that carries its own copy of the upper field (Document.orgId) is also judged
  // by the upper level, so that no write names another organisation in it: its team proves it
  // (mergeLevels), the upper level only adds what names another organisation.
  const carriers = Object.keys(config.models).filter((m) => of.get(m) === lower.name && config.models[m]!.via === undefined && (config.models[m]!.field ?? lower.field) !== upper.field && (datamodel.models[m]?.fields ?? []).some((f) => f.kind !== 'object' && f.name === upper.field))
  const upperConfig = levelConfig(config, datamodel, upper.name)
  const upperModels: Record<string, ModelPolicyConfig> = { ...upperConfig.models }
  for (const m of carriers) upperModels[m] = { severity: config.models[m]!.severity, field: upper.field }
  const policies = new Map<string, Policy>([
    [upper.name, compilePolicy({ ...upperConfig, models: upperModels } as TenantFenceConfig, datamodel, options)],
    [lower.name, compilePolicy(levelConfig(config, datamodel, lower.name), datamodel, options)],
  ])
  // Deleting a row the lower level does not guard (an Organization) cascades to the lower level's
  // tenant rows (its Projects) and on to what they hold. The Project rows themselves the upper level
  // may prove (a sibling project is its organisation's), so the lower level names what they hold
  // too: a finding no upper proof answers (a project's request deleting its organisation).
  const lowerPolicy = policies.get(lower.name)!
  const lowerRoot = lowerPolicy.models.get(lower.model!)!
  for (const p of lowerPolicy.models.values()) {
    if (p.name === lowerRoot.name || !p.dependents.includes(lowerRoot.name)) continue
    ;(p as Mutable<ModelPolicy>).dependents = [...new Set([...p.dependents, ...lowerRoot.dependents.filter((d) => d !== p.name)])]
  }
  const projection = wideConfig(config, datamodel)
  const wide = compilePolicy(projection.config, datamodel, options)
  for (const name of projection.unprovable) {
    const p = wide.models.get(name) as Mutable<ModelPolicy>
    if (p.kind !== 'field') continue
    // Nothing pins it, nothing is inherited into it, no lookup can prove it: every touch is a violation.
    p.field = NO_FIELD
    p.tenantKeys = []
    p.boundRelations = []
    p.tenantRelation = undefined
    p.tenantTarget = undefined
    for (const q of wide.models.values()) {
      const rels = q.relations as Map<string, Relation>
      for (const [k, r] of rels) if (r.target === name && (r.inherits || r.tenantBound)) rels.set(k, { ...r, inherits: false, tenantBound: false })
    }
  }
  return { levels: [upper, lower], policies, wide, lowerModel: lower.model!, parentKey: parentKey(config, datamodel), modelLevel: of, unprovable: projection.unprovable, carriers }
}

function twoLevels(config: TenantFenceConfig): readonly [TenantLevel, TenantLevel] {
  const levels = tenantLevels(config)
  if (levels.length !== 2) throw new TenantConfigError(`tenantfence: this check needs a config with two levels (config.levels); it has ${levels.length}`)
  return levels as readonly [TenantLevel, TenantLevel]
}

/** What the composition reads of the request context (undefined: outside a request). */
export interface LevelContext {
  readonly tenantIds?: Readonly<Record<string, unknown>>
  readonly scope?: string
}

/** One level's inspection of a query: its policy and tenant are the ones its references are verified with. */
export interface LevelRun {
  /** the level name (the wide run: the upper level's) */
  readonly level: string
  readonly policy: Policy
  /** its findings carry `level` */
  readonly inspection: Inspection
  /** the organisation-wide run */
  readonly wide: boolean
}

/**
 * Inspect one query for every level: normal scope, each level's policy with its id (NO_TENANT for a
 * level the context does not name); org-wide scope (`scope` = the upper level's name), the wide
 * policy with the organisation's id; outside a request, each level as one-level (the query names
 * its tenant). Raw SQL is reported once (the raw policy is the config's, not a level's). Returns
 * only the runs that found something (findings or references to look up).
 */
export function inspectLevels(compiled: CompiledLevels, model: string | undefined, operation: string, args: unknown, context: LevelContext | undefined, inspector: typeof inspect = inspect): LevelRun[] {
  const [upper, lower] = compiled.levels
  const runs: LevelRun[] = []
  const ids = context?.tenantIds
  const tenantOf = (l: TenantLevel): unknown => (context === undefined ? undefined : (ids?.[l.name] ?? NO_TENANT))
  if (context !== undefined && context.scope === upper.name) {
    const found = inspector(compiled.wide, model, operation, args, tenantOf(upper))
    if (found !== null) runs.push({ level: upper.name, policy: compiled.wide, inspection: tagWide(compiled, found), wide: true })
    return runs
  }
  // Raw SQL and unknown client operations: the config's raw policy, one finding (the upper level's run).
  const raw = model === undefined || MODEL_RAW_OPERATIONS.has(operation)
  const upperArgs = model === compiled.lowerModel && !raw ? ownLowerRow(compiled, args, ids, upper, lower) : args
  for (const l of raw ? [upper] : [upper, lower]) {
    const policy = compiled.policies.get(l.name)!
    const found = inspector(policy, model, operation, l === upper ? upperArgs : args, tenantOf(l))
    if (found !== null) runs.push({ level: l.name, policy, inspection: tag(found, l.name), wide: false })
  }
  return runs
}

/**
 * A query on the lower model whose filter pins the context's own team (`project.findUnique({ where:
 * { id: team } })`) reads a row of the context's organisation: the team is one of its teams (the
 * membership lookup proves it, or the query is refused). For the upper level's run the filter then
 * also names the organisation's key, so that what the query reads through that row (its
 * organisation, the organisation's rows) is judged under a proven row. Only when the filter names
 * no parent key itself (one that names another organisation stays a mismatch).
 */
function ownLowerRow(compiled: CompiledLevels, args: unknown, ids: Readonly<Record<string, unknown>> | undefined, upper: TenantLevel, lower: TenantLevel): unknown {
  const org = ids?.[upper.name]
  const team = ids?.[lower.name]
  if (org === undefined || team === undefined || typeof args !== 'object' || args === null) return args
  const where = (args as { where?: unknown }).where
  if (typeof where !== 'object' || where === null || Array.isArray(where) || compiled.parentKey in where) return args
  const root = compiled.policies.get(lower.name)!.models.get(compiled.lowerModel)!
  const pin = pinOfWhere(where, root)
  if (pin === undefined || !sameTenant(pin, team)) return args
  return { ...args, where: { ...where, [compiled.parentKey]: org } }
}

function tag(found: Inspection, level: string): Inspection {
  if (found.findings.length === 0) return found
  return { ...found, findings: found.findings.map((f) => ({ ...f, level })) }
}

/** Wide findings are labelled with their model's level (a team-level row found in an org-wide query is a team-level leak). */
function tagWide(compiled: CompiledLevels, found: Inspection): Inspection {
  if (found.findings.length === 0) return found
  const upper = compiled.levels[0].name
  return {
    ...found,
    findings: found.findings.map((f) => {
      const level = compiled.modelLevel.get(f.model) ?? upper
      const detail = compiled.unprovable.includes(f.model) && f.detail === undefined ? { detail: unprovableDetail(compiled, f.model) } : undefined
      return { ...f, level, ...detail }
    }),
  }
}

function unprovableDetail(compiled: CompiledLevels, model: string): string {
  const [upper, lower] = compiled.levels
  return `${model} rows cannot be proven in the ${upper.name}-wide scope: ${model} has no ${upper.field} field and no relation to ${lower.model} through its ${lower.field}; query them with the ${lower.name} in the context`
}

/**
 * Findings that say "this row is not proven here" (no pin, an unproven nested read or write, an
 * oracle): a level may leave them to the other level's proof.
 */
const UNPROVEN: ReadonlySet<ViolationKind> = new Set<ViolationKind>(['missing_tenant_id', 'missing_relation_filter', 'unscoped_nested_read', 'unscoped_nested_write', 'unscoped_relation_filter'])
/**
 * The lower level's findings on its own model that the organisation's proof answers: the row is
 * another team's (a sibling team), or no lookup of the team level proved the link. A team row proven
 * the organisation's is a row of the request's organisation, whichever team it is.
 */
const ANSWERED_BY_UPPER: ReadonlySet<ViolationKind> = new Set<ViolationKind>([...UNPROVEN, 'tenant_mismatch', 'unverified_reference'])

/**
 * Merge the levels' findings (each run's, after its references were verified). The lower level's
 * model is proven when EITHER level proves it: the lower level's findings on it are dropped when the
 * upper level ran and reported none on it; the upper level's unproven-kind findings on it when the
 * lower level reported none. The upper level's evidence (a row or link of another organisation: a
 * mismatch; a link no lookup proved) is never dropped. A carrier (a team row with its own
 * organisation field) is judged by its team: the upper level adds only evidence. A level whose list
 * was cut (MAX_FINDINGS) proves nothing. Everything else is judged by its own level only. Takes one
 * list per level, upper first (allLevels).
 */
export function mergeLevels(compiled: CompiledLevels, perLevel: ReadonlyArray<{ readonly level: string; readonly findings: readonly Finding[]; readonly wide?: boolean }>): Finding[] {
  if (perLevel.length === 0) return []
  if (perLevel.length === 1 || perLevel.some((r) => r.wide)) return perLevel.flatMap((r) => [...r.findings])
  const upper = compiled.levels[0].name
  const lowerModel = compiled.lowerModel
  const proves = (r: (typeof perLevel)[number] | undefined, model: string) => r === undefined || (r.findings.length < MAX_FINDINGS && !r.findings.some((f) => f.model === model))
  const out: Finding[] = []
  for (const r of perLevel) {
    const other = perLevel.find((o) => o !== r)
    const fromUpper = r.level === upper
    for (const f of r.findings) {
      if (f.model === lowerModel && (fromUpper ? UNPROVEN : ANSWERED_BY_UPPER).has(f.violation) && proves(other, lowerModel)) continue
      if (fromUpper && UNPROVEN.has(f.violation) && compiled.carriers.includes(f.model)) continue
      out.push(f)
    }
  }
  return out
}

/**
 * inspectLevels and mergeLevels without reference lookups (what a query proves by itself): the
 * findings, and each run's references. The extension verifies each run's references with its
 * policy and tenant before merging.
 */
export function checkLevels(compiled: CompiledLevels, model: string | undefined, operation: string, args: unknown, context: LevelContext | undefined, inspector: typeof inspect = inspect): { findings: Finding[]; runs: LevelRun[] } {
  const runs = inspectLevels(compiled, model, operation, args, context, inspector)
  const findings = mergeLevels(compiled, allLevels(compiled, runs, context))
  return { findings, runs }
}

/**
 * One entry per level for mergeLevels: a level that did not run (its inspection found nothing)
 * counts as a level that reported nothing.
 */
export function allLevels(compiled: CompiledLevels, runs: readonly LevelRun[], context: LevelContext | undefined, findingsOf: (r: LevelRun) => readonly Finding[] = (r) => r.inspection.findings) {
  if (runs.some((r) => r.wide) || (context !== undefined && context.scope === compiled.levels[0].name)) return runs.map((r) => ({ level: r.level, findings: findingsOf(r), wide: true }))
  return compiled.levels.map((l) => {
    const r = runs.find((x) => x.level === l.name)
    return { level: l.name, findings: r === undefined ? [] : findingsOf(r) }
  })
}

/**
 * What the extension reports when the context is wrong for this config (path `context`): a level
 * name the config does not have, a two-level context named by tenantId alone, a scope that is not
 * a level. Undefined when the context is fine (or absent: outside a request).
 */
export function contextFinding(compiled: CompiledLevels, context: (LevelContext & { readonly tenantId?: unknown }) | undefined): Finding | undefined {
  if (context === undefined) return undefined
  const names = compiled.levels.map((l) => l.name)
  const ids = context.tenantIds
  let problem: string | undefined
  const unknown = ids === undefined ? [] : Object.keys(ids).filter((k) => !names.includes(k))
  if (unknown.length > 0) problem = `the context names level(s) this config does not have (valid: ${names.join(', ')})`
  else if (ids === undefined || Object.keys(ids).length === 0) problem = `a two-level config needs tenantIds ({ ${names.map((n) => `${n}: …`).join(', ')} }), not tenantId alone`
  else if (context.scope !== undefined && !names.includes(context.scope)) problem = `the context's scope is not a level of this config (valid: ${names.join(', ')})`
  if (problem === undefined) return undefined
  return membershipLike(compiled, problem)
}

/** The finding of a context whose lower-level id is not one of its upper level's (every checked query of the request gets it). */
export function membershipFinding(compiled: CompiledLevels): Finding {
  const [upper, lower] = compiled.levels
  return membershipLike(compiled, `the context's ${lower.name} is not a ${lower.name} of its ${upper.name} (${compiled.lowerModel}.${compiled.parentKey})`)
}

function membershipLike(compiled: CompiledLevels, detail: string): Finding {
  const lower = compiled.levels[1]
  return { model: compiled.lowerModel, severity: lower.severity, violation: 'tenant_mismatch', path: 'context', level: lower.name, detail }
}

/** The membership lookup's arguments: is `team` a lower-level row of `org`? (the client without the extension runs it) */
export function membershipQuery(compiled: CompiledLevels, org: unknown, team: unknown): { where: Record<string, unknown>; select: Record<string, true> } {
  const id = compiled.levels[1].idField
  return { where: { [id]: team, [compiled.parentKey]: org }, select: { [id]: true } }
}
