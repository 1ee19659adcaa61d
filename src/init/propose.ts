// From a Prisma schema to a first classification of its models: which is the tenant model, which
// models carry the tenant field, which reach a tenant-owned model through a relation (and which
// relation: read from the relation's own foreign key, never guessed from a name), and which are
// left over as global candidates for the team to review.
import type { DataModel } from '../enforcement/datamodel.ts'
import type { DataModelField } from '../enforcement/datamodel.ts'
import { closest } from '../config/suggest.ts'

export interface Proposal {
  tenant: { model: string; field: string; idField: string }
  /** the tenant candidates read from the relations, best supported first (see rankTenantCandidates) */
  ranking: TenantCandidate[]
  /** models with the tenant field (or their own key to the tenant row), in schema order */
  fieldScoped: string[]
  /** field-scoped models whose key to the tenant row has another name than the tenant field (model → field) */
  ownFields: Record<string, string>
  /** models scoped through a relation, in the order they were found (parents first) */
  relationScoped: RelationScoped[]
  /** models with no tenant field and no relation holding a key to a tenant-owned model */
  globalCandidates: Array<{ model: string; note: string }>
}

export interface RelationScoped {
  model: string
  /** the relation field of `model` that proves its rows */
  via: string
  /** the model that relation leads to */
  target: string
  optional: boolean
  alternatives: string[]
  /**
   * Set when `via` is the back side of a one-to-one whose unique key the target holds
   * (Envelope.documentMetaId → DocumentMeta): the row is owned through the row that points at it.
   */
  ownerKey?: string
}

/** A model that could be the tenant: how much of the schema hangs off it, and through which keys. */
export interface TenantCandidate {
  model: string
  /** models that reach it through chains of required foreign keys */
  reach: number
  /** models holding a required foreign key to it */
  direct: number
  /** the names of those keys, most used first (a composite key as "a+b") */
  keys: Array<{ name: string; count: number }>
}

export class InitError extends Error {
  readonly userFacing = true
  constructor(message: string) {
    super(message)
    this.name = 'InitError'
  }
}

/** The schema does not say clearly which model is the tenant: init asks rather than guesses. */
export class TenantUnclearError extends InitError {
  constructor(
    readonly why: string,
    readonly candidates: readonly string[],
    readonly ranking: readonly TenantCandidate[],
  ) {
    super(`the tenant model is not clear from the schema: ${why}`)
    this.name = 'TenantUnclearError'
  }
}

/**
 * The tenant model (`Tenant`, `Team`, `Organization`) is read from the relations (see
 * chooseTenant); the tenant field is the name its single-field foreign keys share most.
 * Either can be given instead.
 */
export function proposeConfig(datamodel: DataModel, given: { tenantModel?: string; tenantField?: string } = {}): Proposal {
  const names = Object.keys(datamodel.models)
  if (names.length === 0) throw new InitError('the Prisma schema has no model')
  const relations = new Map(names.map((n) => [n, relationFields(datamodel, n)]))
  const keyed = (m: string) => relations.get(m)!.filter((r) => r.relationFromFields.length > 0 && !r.isList)

  const ranking = rankTenantCandidates(datamodel)
  if (given.tenantModel !== undefined && !datamodel.models[given.tenantModel]) {
    const hint = closest(given.tenantModel, names)
    const best = ranking.slice(0, 3).map((c) => c.model)
    throw new InitError(
      `--tenant-model names "${given.tenantModel}", which the schema does not have${hint ? `: did you mean "${hint}"?` : '.'}` +
        `${best.length ? ` Best-supported candidates: ${best.join(', ')}.` : ''} Models: ${names.join(', ')}`,
    )
  }
  const tenantModel = given.tenantModel ?? chooseTenant(ranking, reachers(datamodel))
  const toTenant = names.flatMap((m) => keyed(m).filter((r) => r.type === tenantModel && r.relationFromFields.length === 1))
  const keyNames = [...new Set(toTenant.map((r) => r.relationFromFields[0]!))]
  const tenantField = given.tenantField ?? mostCommon(toTenant.map((r) => r.relationFromFields[0]!))
  if (!tenantField) {
    throw new InitError(`no model points at ${tenantModel} with a single-field foreign key, so the tenant field cannot be read from the schema; pass --tenant-field <name>`)
  }
  const idField = mostCommon(toTenant.map((r) => r.relationToFields[0]!).filter(Boolean)) ?? primaryKey(datamodel, tenantModel) ?? 'id'

  // A key to the tenant row under another name (Program.workspaceId where the rest say projectId)
  // is the model's own tenant field: the config's per-model `field`.
  const ownFields: Record<string, string> = {}
  for (const m of names) {
    if (m === tenantModel || datamodel.models[m]!.fields.some((f) => f.kind === 'scalar' && f.name === tenantField)) continue
    const keys = toTenant.filter((r) => r.relationToFields[0] === idField && keyed(m).includes(r)).sort((a, b) => Number(b.isRequired) - Number(a.isRequired))
    if (keys[0]) ownFields[m] = keys[0].relationFromFields[0]!
  }
  const fieldScoped = names.filter((m) => m !== tenantModel && (ownFields[m] !== undefined || datamodel.models[m]!.fields.some((f) => f.kind === 'scalar' && f.name === tenantField)))
  if (given.tenantField !== undefined && !names.some((m) => datamodel.models[m]!.fields.some((f) => f.kind === 'scalar' && f.name === tenantField))) {
    // A config whose tenant field no model has checks nothing: refuse, naming the keys to the tenant.
    const scalars = [...new Set(names.flatMap((m) => datamodel.models[m]!.fields.filter((f) => f.kind === 'scalar').map((f) => f.name)))]
    const hint = (keyNames.length ? closest(given.tenantField, keyNames) : undefined) ?? closest(given.tenantField, scalars)
    const keys = keyNames.map((k) => `${k} (${toTenant.filter((r) => r.relationFromFields[0] === k).length} models)`)
    throw new InitError(
      `--tenant-field names "${given.tenantField}", which no model has${hint ? `: did you mean "${hint}"?` : '.'}` +
        ` Foreign keys to ${tenantModel}: ${keys.join(', ') || 'none'}`,
    )
  }
  const owned = new Map<string, number>(fieldScoped.map((m) => [m, 0])) // model → chain depth
  const relationScoped: RelationScoped[] = []
  // Breadth first, so each model takes the shortest chain to a field-scoped model: first through
  // required keys only (an optional key leaves the rows without it in no tenant), then through any
  // key, and last, for a model that holds no key at all, through a one-to-one whose unique key its
  // owner holds (it is owned through the row that points at it).
  let depth = 1
  for (const requiredOnly of [true, false]) {
    for (let grew = true; grew; depth++) {
      grew = false
      const found: RelationScoped[] = []
      for (const m of names) {
        if (m === tenantModel || owned.has(m)) continue
        const candidates = keyed(m).filter((r) => owned.has(r.type) && owned.get(r.type)! < depth && (r.isRequired || !requiredOnly))
        if (candidates.length > 0) {
          const best = [...candidates].sort(byPreference(owned))[0]!
          const others = keyed(m).filter((r) => r !== best && owned.has(r.type))
          const alternatives = others.map((c) => `${c.name} (${c.type})`)
          found.push({ model: m, via: best.name, target: best.type, optional: !best.isRequired, alternatives })
          continue
        }
        if (requiredOnly || keyed(m).some((r) => owned.has(r.type))) continue
        const backs = ownerSideOneToOnes(datamodel, m).filter((b) => owned.has(b.owner) && owned.get(b.owner)! < depth)
        if (backs.length > 0) {
          const [best, ...others] = backs
          const alternatives = others.map((b) => `${b.field} (${b.owner}.${b.key})`)
          found.push({ model: m, via: best!.field, target: best!.owner, optional: true, alternatives, ownerKey: best!.key })
        }
      }
      for (const f of found) owned.set(f.model, depth)
      relationScoped.push(...found)
      grew = found.length > 0
    }
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
  return { tenant: { model: tenantModel, field: tenantField, idField }, ranking, fieldScoped, ownFields, relationScoped, globalCandidates }
}

/**
 * Every model that other models hang off, best supported first: the number of models that reach
 * it through chains of required keys (Membership → Team, Task → Project → Team), then the number
 * holding a key to it directly. Read from the relations only, never from names.
 */
export function rankTenantCandidates(datamodel: DataModel): TenantCandidate[] {
  const names = Object.keys(datamodel.models)
  const edges = requiredEdges(datamodel)
  const from = reachers(datamodel, edges)
  const direct = new Map<string, { models: Set<string>; keys: Map<string, number> }>()
  for (const m of names) {
    for (const e of edges.get(m)!) {
      const d = direct.get(e.target) ?? direct.set(e.target, { models: new Set(), keys: new Map() }).get(e.target)!
      d.models.add(m)
      d.keys.set(e.key, (d.keys.get(e.key) ?? 0) + 1)
    }
  }
  return names
    .filter((m) => from.get(m)!.size > 0)
    .map((m) => ({
      model: m,
      reach: from.get(m)!.size,
      direct: direct.get(m)?.models.size ?? 0,
      keys: [...(direct.get(m)?.keys ?? [])].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count),
    }))
    .sort((a, b) => b.reach - a.reach || b.direct - a.direct)
}

/**
 * Each model's required links to another model: a required relation with its own key, and a
 * required plain column named like a key other models use for exactly one target (the demo's
 * `Role.tenantId`, a `tenantId` with no relation, is a link to Tenant as much as `User.tenant` is).
 */
export function requiredEdges(datamodel: DataModel): Map<string, Array<{ target: string; key: string }>> {
  const names = Object.keys(datamodel.models)
  const targetsOf = new Map<string, Set<string>>() // single-field key name → the models it points at
  for (const m of names) {
    for (const r of relationFields(datamodel, m)) {
      if (r.relationFromFields.length !== 1) continue
      const t = targetsOf.get(r.relationFromFields[0]!) ?? targetsOf.set(r.relationFromFields[0]!, new Set()).get(r.relationFromFields[0]!)!
      t.add(r.type)
    }
  }
  const out = new Map<string, Array<{ target: string; key: string }>>()
  for (const m of names) {
    const rels = relationFields(datamodel, m).filter((r) => r.relationFromFields.length > 0 && !r.isList)
    const list = rels.filter((r) => r.isRequired && r.type !== m).map((r) => ({ target: r.type, key: r.relationFromFields.join('+') }))
    const inKeys = new Set(rels.flatMap((r) => r.relationFromFields))
    for (const f of datamodel.models[m]!.fields) {
      const targets = targetsOf.get(f.name)
      if (f.kind !== 'scalar' || !f.isRequired || inKeys.has(f.name) || targets?.size !== 1) continue
      const [target] = targets
      if (target !== m) list.push({ target: target!, key: f.name })
    }
    out.set(m, list)
  }
  return out
}

/** One line of the ranking: "Project: 30 models reach it; 18 hold a key to it (projectId ×16, workspaceId ×2)". */
export function describeCandidate(c: TenantCandidate): string {
  const keys = c.keys.map((k) => `${k.name} ×${k.count}`).join(', ')
  return `${c.model}: ${c.reach} model(s) reach it; ${c.direct} hold a key to it${keys ? ` (${keys})` : ''}`
}

/**
 * The best-supported candidate, unless the schema leaves the choice open:
 * - it sits above a candidate that more models hold a key to (Organization above Project: the data
 *   is keyed on the project, the organization groups projects): either can be the tenant;
 * - a candidate that does not sit under it reaches nearly as many models (three quarters or more);
 * - a model joins it to another candidate that half as many models or more reach (the
 *   membership between people and teams): the data may hang off either side.
 * Then the team says which, with --tenant-model.
 */
export function chooseTenant(ranking: readonly TenantCandidate[], from: ReadonlyMap<string, ReadonlySet<string>>): string {
  const top = ranking[0]
  if (!top) {
    const hint = 'pass --tenant-model <Model> and --tenant-field <field>'
    throw new InitError(`no required relation with a foreign key in the schema, so the tenant model cannot be read from it; ${hint}`)
  }
  const under = (c: TenantCandidate) => from.get(top.model)!.has(c.model)
  const rest = ranking.slice(1)
  const keyedBelow = rest.filter((c) => under(c) && c.direct > top.direct)
  if (keyedBelow.length) {
    const below = keyedBelow.map((c) => `${c.model} (${c.direct})`).join(', ')
    const why = `${top.model} sits above ${keyedBelow.map((c) => c.model).join(' and ')}: it reaches the most models (${top.reach}), but more of them hold a key to ${below} than to ${top.model} (${top.direct})`
    throw new TenantUnclearError(why, [top.model, ...keyedBelow.map((c) => c.model)], ranking)
  }
  const close = rest.filter((c) => !under(c) && c.reach * 4 >= top.reach * 3)
  if (close.length) {
    const why = `${close.map((c) => `${c.model} (${c.reach})`).join(', ')} reach${close.length === 1 ? 'es' : ''} nearly as many models as ${top.model} (${top.reach}) without sitting under it`
    throw new TenantUnclearError(why, [top.model, ...close.map((c) => c.model)], ranking)
  }
  const joined = rest.filter((c) => !under(c) && !from.get(c.model)!.has(top.model) && c.reach * 2 >= top.reach && joins(from, top.model, c.model))
  if (joined.length) {
    const why =
      `${joined.map((c) => `${c.model} (${c.reach})`).join(', ')} and ${top.model} (${top.reach}) are joined by a model holding required keys to both ` +
      '(a membership): the data may hang off either side'
    throw new TenantUnclearError(why, [top.model, ...joined.map((c) => c.model)], ranking)
  }
  return top.model
}

/** Does some model reach both a and b directly (a join such as a membership)? */
function joins(from: ReadonlyMap<string, ReadonlySet<string>>, a: string, b: string): boolean {
  for (const m of from.get(a) ?? []) if (from.get(b)?.has(m)) return true
  return false
}

/** For each model, the models that reach it through chains of required links (requiredEdges). */
export function reachers(datamodel: DataModel, edges = requiredEdges(datamodel)): Map<string, Set<string>> {
  const names = Object.keys(datamodel.models)
  const parents = (m: string) => edges.get(m)!.map((e) => e.target)
  const reachedFrom = new Map<string, Set<string>>(names.map((n) => [n, new Set()]))
  for (const start of names) {
    const seen = new Set<string>()
    const queue = parents(start)
    while (queue.length) {
      const p = queue.shift()!
      if (seen.has(p) || p === start) continue
      seen.add(p)
      queue.push(...parents(p))
    }
    for (const p of seen) reachedFrom.get(p)!.add(start)
  }
  return reachedFrom
}

/**
 * The back sides of one-to-ones whose key the other model holds as a unique key: `field` on `model`
 * leads to `owner`, which holds `key` (unique), so each row of `model` has at most one owner row.
 */
export function ownerSideOneToOnes(datamodel: DataModel, model: string): Array<{ field: string; owner: string; key: string }> {
  const out: Array<{ field: string; owner: string; key: string }> = []
  for (const f of relationFields(datamodel, model)) {
    if (f.isList || f.relationFromFields.length > 0) continue
    const back = relationFields(datamodel, f.type).find((r) => r.type === model && r.relationName === f.relationName && r.relationFromFields.length > 0)
    if (!back || !isUnique(datamodel, f.type, back.relationFromFields)) continue
    out.push({ field: f.name, owner: f.type, key: back.relationFromFields.join('+') })
  }
  return out
}

function isUnique(datamodel: DataModel, model: string, fields: readonly string[]): boolean {
  const same = (u: readonly string[]) => u.length === fields.length && u.every((x) => fields.includes(x))
  return (datamodel.models[model]?.uniques ?? []).some((u) => same(u.fields))
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
