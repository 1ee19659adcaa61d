// From a Prisma schema to a first classification of its models: which is the tenant model, which
// models carry the tenant field, which reach a tenant-owned model through a relation (and which
// relation: read from the relation's own foreign key, never guessed from a name), and which are
// left over as global candidates for the team to review. A schema with an organisation above the
// model its data is keyed on (Organization ← Project) gets two levels of tenancy (docs/levels.md).
import type { DataModel } from '../enforcement/datamodel.ts'
import type { DataModelField } from '../enforcement/datamodel.ts'
import { closest } from '../config/suggest.ts'

export interface Proposal {
  /** one level: the tenant; two levels: the lower level (where a model that holds both keys goes) */
  tenant: { model: string; field: string; idField: string }
  /** two levels of tenancy, upper first (absent for one level) */
  levels?: readonly [ProposedLevel, ProposedLevel]
  /** two levels: the level of each tenant-owned model (model → level name) */
  levelOf?: Record<string, string>
  /** two levels: models holding the keys of both levels, put at the lower level (the stricter) for review */
  bothKeys?: string[]
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

/** One level of a two-level proposal, as the config's `levels` entry. */
export interface ProposedLevel {
  name: string
  model: string
  field: string
  idField: string
  /** lower level: the relation on its model to the upper level's model */
  parent?: string
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
  /** two levels: the level of `target`, so of this model */
  level?: string
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
  /** pairs of candidates (upper, lower) whose lower one holds a single-field key to the upper: `--levels` can name them */
  levelPairs: ReadonlyArray<readonly [string, string]> = []
  constructor(
    readonly why: string,
    readonly candidates: readonly string[],
    readonly ranking: readonly TenantCandidate[],
  ) {
    super(`the tenant model is not clear from the schema: ${why}`)
    this.name = 'TenantUnclearError'
  }
}

/** What the team said instead of letting init read the schema (init's flags). */
export interface Given {
  tenantModel?: string
  tenantField?: string
  /** two levels, upper first (`--levels Organization,Project`) */
  levels?: readonly string[]
}

/**
 * The tenant model (`Tenant`, `Team`, `Organization`) is read from the relations (see
 * chooseTenant); the tenant field is the name its single-field foreign keys share most.
 * Either can be given instead. When the top candidate sits above the one model the data is keyed
 * on, and that model holds a required key to it, the schema has two levels (see twoLevels): init
 * proposes both, unless --tenant-model names one.
 */
export function proposeConfig(datamodel: DataModel, given: Given = {}): Proposal {
  const names = Object.keys(datamodel.models)
  if (names.length === 0) throw new InitError('the Prisma schema has no model')
  const relations = new Map(names.map((n) => [n, relationFields(datamodel, n)]))
  const keyed = (m: string) => relations.get(m)!.filter((r) => r.relationFromFields.length > 0 && !r.isList)

  const ranking = rankTenantCandidates(datamodel)
  if (given.levels !== undefined && (given.tenantModel !== undefined || given.tenantField !== undefined)) {
    throw new InitError('give either --levels (two levels of tenancy) or --tenant-model/--tenant-field (one level), not both')
  }
  if (given.levels !== undefined && given.levels.length !== 2) {
    throw new InitError(`--levels takes two models, the upper level first (such as --levels Organization,Project); it names ${given.levels.length}: ${given.levels.join(', ') || 'none'}`)
  }
  const named: Array<[string, string | undefined]> = [['--tenant-model', given.tenantModel], ...(given.levels ?? []).map((l): [string, string] => ['--levels', l])]
  for (const [flag, model] of named) {
    if (model === undefined || datamodel.models[model]) continue
    const hint = closest(model, names)
    const best = ranking.slice(0, 3).map((c) => c.model)
    throw new InitError(
      `${flag} names "${model}", which the schema does not have${hint ? `: did you mean "${hint}"?` : '.'}` +
        `${best.length ? ` Best-supported candidates: ${best.join(', ')}.` : ''} Models: ${names.join(', ')}`,
    )
  }

  let pair: { upper: string; lower: string; parent: string } | undefined
  let tenantModel = given.tenantModel
  if (given.levels !== undefined) pair = givenLevels(datamodel, given.levels[0]!, given.levels[1]!)
  else if (tenantModel === undefined) {
    const from = reachers(datamodel)
    pair = twoLevels(datamodel, ranking, from)
    if (pair === undefined) {
      try {
        tenantModel = chooseTenant(ranking, from)
      } catch (err) {
        if (err instanceof TenantUnclearError) err.levelPairs = levelPairs(datamodel, err.candidates)
        throw err
      }
    }
  }

  // The levels as the classification reads them: one (the tenant), or the upper then the lower.
  const keysTo = (model: string) => names.flatMap((m) => keyed(m).filter((r) => r.type === model && r.relationFromFields.length === 1))
  const levelOfModel = (model: string, name: string, field: string | undefined) => {
    const toLevel = keysTo(model)
    const f = field ?? mostCommon(toLevel.map((r) => r.relationFromFields[0]!))
    if (!f) {
      const hint = pair ? 'it cannot be a level' : 'pass --tenant-field <name>'
      throw new InitError(`no model points at ${model} with a single-field foreign key, so the ${pair ? `${name} level's field` : 'tenant field'} cannot be read from the schema; ${hint}`)
    }
    const idField = mostCommon(toLevel.map((r) => r.relationToFields[0]!).filter(Boolean)) ?? primaryKey(datamodel, model) ?? 'id'
    return { name, model, field: f, idField }
  }
  const levels: ProposedLevel[] = pair
    ? [levelOfModel(pair.upper, levelName(pair.upper), undefined), { ...levelOfModel(pair.lower, levelName(pair.lower), undefined), parent: pair.parent }]
    : [levelOfModel(tenantModel!, 'tenant', given.tenantField)]
  const lowest = levels[levels.length - 1]!
  if (pair && levels[0]!.field === lowest.field) {
    throw new InitError(
      `the keys to ${pair.upper} and to ${pair.lower} have the same name "${lowest.field}", so a model's field cannot tell its level; ` +
        `pass --tenant-model ${pair.lower} (one level) and classify the ${pair.upper} rows by hand`,
    )
  }
  if (!pair && given.tenantField !== undefined && !names.some((m) => datamodel.models[m]!.fields.some((f) => f.kind === 'scalar' && f.name === lowest.field))) {
    // A config whose tenant field no model has checks nothing: refuse, naming the keys to the tenant.
    const toTenant = keysTo(lowest.model)
    const keyNames = [...new Set(toTenant.map((r) => r.relationFromFields[0]!))]
    const scalars = [...new Set(names.flatMap((m) => datamodel.models[m]!.fields.filter((f) => f.kind === 'scalar').map((f) => f.name)))]
    const hint = (keyNames.length ? closest(given.tenantField, keyNames) : undefined) ?? closest(given.tenantField, scalars)
    const keys = keyNames.map((k) => `${k} (${toTenant.filter((r) => r.relationFromFields[0] === k).length} models)`)
    throw new InitError(
      `--tenant-field names "${given.tenantField}", which no model has${hint ? `: did you mean "${hint}"?` : '.'}` +
        ` Foreign keys to ${lowest.model}: ${keys.join(', ') || 'none'}`,
    )
  }
  const isLevelModel = (m: string) => levels.some((l) => l.model === m)

  // The key a model holds to a level: the level's field, or its own key to the level's row under
  // another name (Program.workspaceId where the rest say projectId: the config's per-model `field`).
  const heldKey = (m: string, l: ProposedLevel): string | undefined => {
    if (datamodel.models[m]!.fields.some((f) => f.kind === 'scalar' && f.name === l.field)) return l.field
    const keys = keyed(m).filter((r) => r.type === l.model && r.relationFromFields.length === 1 && r.relationToFields[0] === l.idField)
    return keys.sort((a, b) => Number(b.isRequired) - Number(a.isRequired))[0]?.relationFromFields[0]
  }
  const ownFields: Record<string, string> = {}
  const levelOf: Record<string, string> = {}
  const bothKeys: string[] = []
  const fieldScoped: string[] = []
  for (const m of names) {
    if (isLevelModel(m)) continue
    const held = levels.filter((l) => heldKey(m, l) !== undefined)
    // A row that names a level's row of each level belongs to the lower one: the stricter, it needs its project.
    const level = held[held.length - 1]
    if (level === undefined) continue
    fieldScoped.push(m)
    levelOf[m] = level.name
    if (held.length > 1) bothKeys.push(m)
    const key = heldKey(m, level)!
    if (key !== level.field) ownFields[m] = key
  }

  const owned = new Map<string, { depth: number; level: string }>(fieldScoped.map((m) => [m, { depth: 0, level: levelOf[m]! }]))
  const relationScoped: RelationScoped[] = []
  // Breadth first, so each model takes the shortest chain to a field-scoped model: first through
  // required keys only (an optional key leaves the rows without it in no tenant), then through any
  // key, and last, for a model that holds no key at all, through a one-to-one whose unique key its
  // owner holds (it is owned through the row that points at it). With two levels, required chains
  // to the lower level come first: a row that reaches a project through required keys is a project's.
  const passes: Array<{ requiredOnly: boolean; level?: string }> = pair
    ? [{ requiredOnly: true, level: lowest.name }, { requiredOnly: true }, { requiredOnly: false }]
    : [{ requiredOnly: true }, { requiredOnly: false }]
  const rank = (level: string) => levels.length - levels.findIndex((l) => l.name === level) // the lower level first
  const preference = (a: RelationField, b: RelationField) =>
    Number(b.isRequired) - Number(a.isRequired) || rank(owned.get(a.type)!.level) - rank(owned.get(b.type)!.level) || owned.get(a.type)!.depth - owned.get(b.type)!.depth
  let depth = 1
  for (const { requiredOnly, level } of passes) {
    for (let grew = true; grew; depth++) {
      grew = false
      const found: RelationScoped[] = []
      for (const m of names) {
        if (isLevelModel(m) || owned.has(m)) continue
        const candidates = keyed(m).filter(
          (r) => owned.has(r.type) && owned.get(r.type)!.depth < depth && (r.isRequired || !requiredOnly) && (level === undefined || owned.get(r.type)!.level === level),
        )
        if (candidates.length > 0) {
          const best = [...candidates].sort(preference)[0]!
          const others = keyed(m).filter((r) => r !== best && owned.has(r.type))
          const alternatives = others.map((c) => `${c.name} (${c.type})`)
          found.push({ model: m, via: best.name, target: best.type, optional: !best.isRequired, alternatives, ...(pair ? { level: owned.get(best.type)!.level } : {}) })
          continue
        }
        if (requiredOnly || keyed(m).some((r) => owned.has(r.type))) continue
        const backs = ownerSideOneToOnes(datamodel, m).filter((b) => owned.has(b.owner) && owned.get(b.owner)!.depth < depth)
        if (backs.length > 0) {
          const [best, ...others] = backs
          const alternatives = others.map((b) => `${b.field} (${b.owner}.${b.key})`)
          const via = { model: m, via: best!.field, target: best!.owner, optional: true, alternatives, ownerKey: best!.key }
          found.push(pair ? { ...via, level: owned.get(best!.owner)!.level } : via)
        }
      }
      for (const f of found) owned.set(f.model, { depth, level: f.level ?? lowest.name })
      relationScoped.push(...found)
      grew = found.length > 0
    }
  }

  const globalCandidates = names
    .filter((m) => !isLevelModel(m) && !owned.has(m))
    .map((m) => {
      const reached = relations.get(m)!.filter((r) => owned.has(r.type) || isLevelModel(r.type))
      const note = reached.length
        ? `related to ${reached.map((r) => r.type).join(', ')} only from their side: review whether its rows are shared`
        : 'no tenant field and no relation to tenant-owned data'
      return { model: m, note }
    })
  const tenant = { model: lowest.model, field: lowest.field, idField: lowest.idField }
  const proposal: Proposal = { tenant, ranking, fieldScoped, ownFields, relationScoped, globalCandidates }
  if (!pair) return proposal
  for (const r of relationScoped) levelOf[r.model] = r.level!
  return { ...proposal, levels: [levels[0]!, levels[1]!], levelOf, bothKeys }
}

/** A level's name from its model's (Organization → organization): the context key of its id. */
function levelName(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1)
}

/**
 * The relations on `lower` that make it a level under `upper`: a single-field foreign key it holds
 * to `upper` (Project.organization on orgId). Required ones only when there are any.
 */
export function parentRelations(datamodel: DataModel, lower: string, upper: string): RelationField[] {
  const all = relationFields(datamodel, lower).filter((r) => r.type === upper && !r.isList && r.relationFromFields.length === 1)
  const required = all.filter((r) => r.isRequired)
  return required.length ? required : all
}

/**
 * Two levels of tenancy, read from the relations: the top candidate sits above exactly one
 * candidate that more models hold a key to (Organization above Project), that candidate holds one
 * required single-field key to it (Project.orgId: every project is in an organisation), other
 * models hold a key to the top one too (memberships, billing: it has rows of its own), and nothing
 * else leaves the choice open (no close runner-up beside them, no membership joining the top one
 * to another candidate). Anything else (three levels, two unrelated candidates) is not guessed.
 */
export function twoLevels(
  datamodel: DataModel,
  ranking: readonly TenantCandidate[],
  from: ReadonlyMap<string, ReadonlySet<string>>,
): { upper: string; lower: string; parent: string } | undefined {
  const open = openChoices(ranking, from)
  if (open === undefined || open.keyedBelow.length !== 1 || open.close.length > 0 || open.joined.length > 0) return undefined
  const { top } = open
  const lower = open.keyedBelow[0]!
  if (top.direct < 2) return undefined
  const parents = parentRelations(datamodel, lower.model, top.model)
  if (parents.length !== 1 || !parents[0]!.isRequired) return undefined
  return { upper: top.model, lower: lower.model, parent: parents[0]!.name }
}

/** `--levels Upper,Lower`: the lower model must hold a single-field key to the upper one (its parent). */
function givenLevels(datamodel: DataModel, upper: string, lower: string): { upper: string; lower: string; parent: string } {
  if (upper === lower) throw new InitError(`--levels names ${upper} twice; name the upper level's model, then the lower level's`)
  const parents = parentRelations(datamodel, lower, upper)
  if (parents.length === 1) return { upper, lower, parent: parents[0]!.name }
  if (parents.length > 1) {
    throw new InitError(`--levels: ${lower} holds ${parents.length} keys to ${upper} (${parents.map((r) => r.name).join(', ')}), so its parent is not clear from the schema; write levels[1].parent by hand`)
  }
  const reverse = parentRelations(datamodel, upper, lower)[0]
  if (reverse) {
    throw new InitError(`--levels lists ${upper} above ${lower}, but ${upper} holds the key (${upper}.${reverse.name} → ${lower}): list the upper level first: --levels ${lower},${upper}`)
  }
  const rels = relationFields(datamodel, lower).map((r) => `${r.name} → ${r.type}`)
  throw new InitError(
    `--levels: ${lower} holds no single-field foreign key to ${upper}, so it cannot be the level under it (each ${lower} row must name its ${upper}). ` +
      `Relations of ${lower}: ${rels.join(', ') || 'none'}`,
  )
}

/** The candidate pairs (upper, lower) that `--levels` could name: the lower holds a single-field key to the upper. */
function levelPairs(datamodel: DataModel, candidates: readonly string[]): Array<readonly [string, string]> {
  return candidates.flatMap((upper) => candidates.filter((lower) => lower !== upper && parentRelations(datamodel, lower, upper).length === 1).map((lower) => [upper, lower] as const))
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
  const open = openChoices(ranking, from)
  if (!open) {
    const hint = 'pass --tenant-model <Model> and --tenant-field <field>'
    throw new InitError(`no required relation with a foreign key in the schema, so the tenant model cannot be read from it; ${hint}`)
  }
  const { top, keyedBelow, close, joined } = open
  if (keyedBelow.length) {
    const below = keyedBelow.map((c) => `${c.model} (${c.direct})`).join(', ')
    const why = `${top.model} sits above ${keyedBelow.map((c) => c.model).join(' and ')}: it reaches the most models (${top.reach}), but more of them hold a key to ${below} than to ${top.model} (${top.direct})`
    throw new TenantUnclearError(why, [top.model, ...keyedBelow.map((c) => c.model)], ranking)
  }
  if (close.length) {
    const why = `${close.map((c) => `${c.model} (${c.reach})`).join(', ')} reach${close.length === 1 ? 'es' : ''} nearly as many models as ${top.model} (${top.reach}) without sitting under it`
    throw new TenantUnclearError(why, [top.model, ...close.map((c) => c.model)], ranking)
  }
  if (joined.length) {
    const why =
      `${joined.map((c) => `${c.model} (${c.reach})`).join(', ')} and ${top.model} (${top.reach}) are joined by a model holding required keys to both ` +
      '(a membership): the data may hang off either side'
    throw new TenantUnclearError(why, [top.model, ...joined.map((c) => c.model)], ranking)
  }
  return top.model
}

/** The three reasons chooseTenant does not take the top candidate (see there); undefined with no candidate. */
function openChoices(ranking: readonly TenantCandidate[], from: ReadonlyMap<string, ReadonlySet<string>>) {
  const top = ranking[0]
  if (!top) return undefined
  const under = (c: TenantCandidate) => from.get(top.model)!.has(c.model)
  const rest = ranking.slice(1)
  return {
    top,
    keyedBelow: rest.filter((c) => under(c) && c.direct > top.direct),
    close: rest.filter((c) => !under(c) && c.reach * 4 >= top.reach * 3),
    joined: rest.filter((c) => !under(c) && !from.get(c.model)!.has(top.model) && c.reach * 2 >= top.reach && joins(from, top.model, c.model)),
  }
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
export type RelationField = DataModelField & { relationFromFields: readonly string[]; relationToFields: readonly string[]; isList: boolean; isRequired: boolean }

/** The model's relation fields with their keys (parseSchema reads them from the schema). */
function relationFields(datamodel: DataModel, model: string): RelationField[] {
  return (datamodel.models[model]?.fields ?? [])
    .filter((f) => f.kind === 'object' && datamodel.models[f.type])
    .map((f) => ({ ...f, relationFromFields: f.relationFromFields ?? [], relationToFields: f.relationToFields ?? [], isList: f.isList === true, isRequired: f.isRequired === true }))
}
