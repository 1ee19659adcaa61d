// From a Prisma schema to a first classification of its models: which is the tenant model, which
// models carry the tenant field, which reach a tenant-owned model through a relation (and which
// relation: read from the relation's own foreign key, never guessed from a name), and which are
// left over as global candidates for the team to review.
import type { DataModel } from '../enforcement/datamodel.ts'
import type { DataModelField } from '../enforcement/datamodel.ts'

export interface Proposal {
  tenant: { model: string; field: string; idField: string }
  /** models with the tenant field, in schema order */
  fieldScoped: string[]
  /** models scoped through a relation, in the order they were found (parents first) */
  relationScoped: Array<{ model: string; via: string; target: string; optional: boolean; alternatives: string[] }>
  /** models with no tenant field and no relation holding a key to a tenant-owned model */
  globalCandidates: Array<{ model: string; note: string }>
}

export class InitError extends Error {
  readonly userFacing = true
  constructor(message: string) {
    super(message)
    this.name = 'InitError'
  }
}

/**
 * The tenant model (`Tenant`, `Team`, `Organization`) is read from the relations (see
 * guessTenantModel); the tenant field is the name its single-field foreign keys share most.
 * Either can be given instead.
 */
export function proposeConfig(datamodel: DataModel, given: { tenantModel?: string; tenantField?: string } = {}): Proposal {
  const names = Object.keys(datamodel.models)
  if (names.length === 0) throw new InitError('the Prisma schema has no model')
  const relations = new Map(names.map((n) => [n, relationFields(datamodel, n)]))
  const keyed = (m: string) => relations.get(m)!.filter((r) => r.relationFromFields.length > 0 && !r.isList)

  const tenantModel = given.tenantModel ?? guessTenantModel(names, keyed)
  if (!datamodel.models[tenantModel]) throw new InitError(`--tenant-model names "${tenantModel}", which the schema does not have. Models: ${names.join(', ')}`)
  const toTenant = names.flatMap((m) => keyed(m).filter((r) => r.type === tenantModel && r.relationFromFields.length === 1))
  const tenantField = given.tenantField ?? mostCommon(toTenant.map((r) => r.relationFromFields[0]!))
  if (!tenantField) {
    throw new InitError(`no model points at ${tenantModel} with a single-field foreign key, so the tenant field cannot be read from the schema; pass --tenant-field <name>`)
  }
  const idField = mostCommon(toTenant.map((r) => r.relationToFields[0]!).filter(Boolean)) ?? primaryKey(datamodel, tenantModel) ?? 'id'

  const fieldScoped = names.filter((m) => m !== tenantModel && datamodel.models[m]!.fields.some((f) => f.kind === 'scalar' && f.name === tenantField))
  const owned = new Map<string, number>(fieldScoped.map((m) => [m, 0])) // model → chain depth
  const relationScoped: Proposal['relationScoped'] = []
  // Breadth first, so each model takes the shortest chain to a field-scoped model.
  for (let depth = 1, grew = true; grew; depth++) {
    grew = false
    const found: Proposal['relationScoped'] = []
    for (const m of names) {
      if (m === tenantModel || owned.has(m)) continue
      const candidates = keyed(m).filter((r) => owned.has(r.type) && owned.get(r.type)! < depth)
      if (candidates.length === 0) continue
      const best = [...candidates].sort(byPreference(owned))[0]!
      const alternatives = candidates.filter((c) => c !== best).map((c) => `${c.name} (${c.type})`)
      found.push({ model: m, via: best.name, target: best.type, optional: !best.isRequired, alternatives })
    }
    for (const f of found) owned.set(f.model, depth)
    relationScoped.push(...found)
    grew = found.length > 0
  }

  const globalCandidates = names
    .filter((m) => m !== tenantModel && !owned.has(m))
    .map((m) => {
      const reached = relations.get(m)!.filter((r) => owned.has(r.type) || r.type === tenantModel)
      const note = reached.length
        ? `related to ${reached.map((r) => r.type).join(', ')} only from their side: review whether its rows are shared`
        : 'no tenant field and no relation to tenant-owned data'
      return { model: m, note }
    })
  return { tenant: { model: tenantModel, field: tenantField, idField }, fieldScoped, relationScoped, globalCandidates }
}

/**
 * The tenant model owns the most rows: it is the model reached from the most others through chains
 * of required foreign keys (Membership → Team, Task → Project → Team), preferring roots (models
 * with no required foreign key of their own), so that `User → Tenant` picks Tenant, not User.
 */
function guessTenantModel(names: string[], keyed: (m: string) => RelationField[]): string {
  const parents = (m: string) => keyed(m).filter((r) => r.isRequired && r.type !== m).map((r) => r.type)
  const reachedFrom = new Map<string, Set<string>>()
  for (const start of names) {
    const seen = new Set<string>()
    const queue = parents(start)
    while (queue.length) {
      const p = queue.shift()!
      if (seen.has(p) || p === start) continue
      seen.add(p)
      queue.push(...parents(p))
    }
    for (const p of seen) (reachedFrom.get(p) ?? reachedFrom.set(p, new Set()).get(p)!).add(start)
  }
  const roots = [...reachedFrom].filter(([m]) => parents(m).length === 0)
  const ranked = (roots.length ? roots : [...reachedFrom]).map(([m, from]) => [m, from.size] as const).sort((a, b) => b[1] - a[1])
  if (ranked.length === 0) {
    const hint = 'pass --tenant-model <Model> and --tenant-field <field>'
    throw new InitError(`no required relation with a foreign key in the schema, so the tenant model cannot be read from it; ${hint}`)
  }
  if (ranked[1] && ranked[1][1] === ranked[0]![1]) {
    const tied = ranked.filter(([, n]) => n === ranked[0]![1]).map(([m]) => m)
    throw new InitError(`${tied.join(' and ')} each own ${ranked[0]![1]} models through required relations; say which is the tenant with --tenant-model <Model>`)
  }
  return ranked[0]![0]
}

/** Required relations before optional ones, then the shorter chain, then schema order (stable sort). */
function byPreference(owned: Map<string, number>) {
  return (a: RelationField, b: RelationField) => Number(b.isRequired) - Number(a.isRequired) || owned.get(a.type)! - owned.get(b.type)!
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0]
}

function primaryKey(datamodel: DataModel, model: string): string | undefined {
  const pk = datamodel.models[model]?.primaryKey
  return pk?.length === 1 ? pk[0] : undefined
}

/** A relation field as init reads it: its foreign key on this side (empty on the other side). */
type RelationField = DataModelField & { relationFromFields: readonly string[]; relationToFields: readonly string[]; isList: boolean; isRequired: boolean }

/** The model's relation fields with their keys (parseSchema reads them from the schema). */
function relationFields(datamodel: DataModel, model: string): RelationField[] {
  return (datamodel.models[model]?.fields ?? [])
    .filter((f) => f.kind === 'object' && datamodel.models[f.type])
    .map((f) => ({ ...f, relationFromFields: f.relationFromFields ?? [], relationToFields: f.relationToFields ?? [], isList: f.isList === true, isRequired: f.isRequired === true }))
}
