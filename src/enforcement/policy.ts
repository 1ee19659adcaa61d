// Compile the config and the data model into the lookup tables the inspector walks: done once
// per client, so a query costs property reads, not config lookups.
import { TenantConfigError } from '../config/define.ts'
import type { Severity, TenantFenceConfig } from '../config/schema.ts'
import { describeInvalid } from '../config/suggest.ts'
import type { DataModel, DataModelField } from './datamodel.ts'

/** field: own tenant column; relation: through `via`; root: the tenant model; global: nobody's rows. */
export type ScopeKind = 'field' | 'relation' | 'root' | 'global'

/** What to do with a foreign key in write data that the query itself does not prove. */
export type ReferencePolicy = 'verify' | 'violation'

export interface Relation {
  /** the relation field's name on its model */
  readonly name: string
  readonly target: string
  readonly isList: boolean
  /** this model's foreign key fields; empty on the side that does not hold the key */
  readonly fields: readonly string[]
  /** the target's fields the key points at */
  readonly references: readonly string[]
  /** the relation field on the target that is the other side of this one */
  readonly back: string | undefined
  /** the foreign key includes the tenant field on both sides: the database keeps both rows in one tenant */
  readonly tenantBound: boolean
  /** a row created through this relation under a proven parent belongs to the parent's tenant */
  readonly inherits: boolean
}

export interface ModelPolicy {
  readonly name: string
  readonly kind: ScopeKind
  readonly severity: Severity
  /** kind field: the tenant column; kind root: the id column of the tenant model */
  readonly field: string
  /** kind relation: the relation that leads to the tenant */
  readonly via: string
  /** kind relation: the policy of the relation's target */
  readonly target: ModelPolicy | undefined
  /**
   * kind relation: `via` is the back side of a 1:1 whose foreign key the owner holds (Envelope.documentMetaId
   * → DocumentMeta, scoped `via: 'envelope'`). Such a row can exist before any owner links it: it then
   * belongs to no tenant, and only the request or transaction that created it may link it (a claim).
   */
  readonly viaBack: boolean
  /** the primary key fields (how a row this request created is remembered) */
  readonly primaryKey: readonly string[]
  /** field, relation or root: its rows belong to a tenant */
  readonly guarded: boolean
  /** every relation field, by name */
  readonly relations: ReadonlyMap<string, Relation>
  /** relations whose foreign key this model holds and that point at guarded models (checked in write data) */
  readonly references: readonly Relation[]
  /** kind field: the relation to the tenant model whose key is the tenant field, if any */
  readonly tenantRelation: string | undefined
  /** kind field with a tenantRelation: the tenant model's policy (`tenant: { id }` filters) */
  readonly tenantTarget: ModelPolicy | undefined
  /** the model's scalar and enum field names */
  readonly scalars: ReadonlySet<string>
  /** compound unique inputs that contain the tenant field (`tenantId_email`), from the schema's own keys */
  readonly tenantKeys: readonly string[]
  /** guarded models holding a foreign key to this one: deleting its rows reaches theirs */
  readonly dependents: readonly string[]
  /** for each guarded model holding a foreign key to this one, the fields of this model it references (re-keying cascades) */
  readonly referencedBy: ReadonlyArray<{ readonly model: string; readonly fields: readonly string[] }>
  /**
   * Unique keys of a guarded model that do not contain its tenant (the tenant field, or the `via`
   * foreign key): a write that sets one to a value another tenant's row holds fails on the unique
   * constraint, which tells that the row exists. With references: 'verify' such a write is looked up.
   */
  readonly crossTenantKeys: ReadonlyArray<readonly string[]>
  /** every unique key of the model (the primary key included): how a linked row is looked up */
  readonly uniqueKeys: ReadonlyArray<readonly string[]>
  /** kind field: relations whose foreign key this model holds and includes the tenant field (a filter on them pins the tenant) */
  readonly boundRelations: ReadonlyArray<{ readonly name: string; readonly target: ModelPolicy }>
  /** some relation leads to a guarded model (directly or through global models), or guarded rows depend on this one */
  readonly reachesTenantData: boolean
}

export interface Policy {
  readonly models: ReadonlyMap<string, ModelPolicy>
  /** the tenant model's policy, when the config names one */
  readonly root: ModelPolicy | undefined
  /** tenant-owned model names, in config order */
  readonly tenantOwned: readonly string[]
  readonly rawSeverity: Severity
  readonly rawPolicy: 'violation' | 'allow'
  readonly references: ReferencePolicy
  /** a create of the tenant model inside a request: 'allow' makes a new tenant (config tenant.createInRequest) */
  readonly createInRequest: 'allow' | 'violation'
}

export interface PolicyOptions {
  /** foreign keys in write data: verify with a lookup (default) or report as unverified_reference */
  references?: ReferencePolicy
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

export function compilePolicy(config: TenantFenceConfig, datamodel: DataModel, options: PolicyOptions = {}): Policy {
  const schemaModels = Object.keys(datamodel.models)
  const problems: string[] = []
  for (const name of Object.keys(config.models)) {
    if (!datamodel.models[name]) problems.push(`models: ${describeInvalid('the config', name, schemaModels)}`)
  }
  const root = config.tenant.model
  if (root && !datamodel.models[root]) problems.push(`tenant.model: ${describeInvalid('the schema', root, schemaModels)}`)

  const fieldsOf = (name: string): readonly DataModelField[] => datamodel.models[name]?.fields ?? []
  const keyless = schemaModels.flatMap((m) => fieldsOf(m).filter((f) => f.kind === 'object' && datamodel.models[f.type] && !f.relationFromFields).map((f) => `${m}.${f.name}`))
  if (keyless.length) {
    // Without each relation's own keys a foreign key in write data would go unseen: refuse rather than guess.
    throw new TenantConfigError(`tenantfence needs each relation's fields/references; this data model has none for ${keyless.slice(0, 3).join(', ')}${keyless.length > 3 ? ', …' : ''}. Pass parseSchema(<schema.prisma text>) as \`datamodel\`.`)
  }
  const models = new Map<string, Mutable<ModelPolicy>>()
  for (const name of schemaModels) {
    const cfg = config.models[name]
    const kind: ScopeKind = cfg ? (cfg.via ? 'relation' : 'field') : root === name ? 'root' : 'global'
    const field = kind === 'root' ? config.tenant.idField : (cfg?.field ?? config.tenant.field)
    const fields = fieldsOf(name)
    if ((kind === 'field' || kind === 'root') && !fields.some((f) => f.name === field)) {
      const fieldList = fields.map((f) => f.name).join(', ')
      if (kind === 'root') problems.push(`tenant.idField: the tenant model ${name} has no field "${field}" (fields: ${fieldList})`)
      else problems.push(`models.${name}: has no field "${field}"; give "field" or "via" (fields: ${fieldList})`)
    }
    const objectFields = fields.filter((f) => f.kind === 'object' && datamodel.models[f.type])
    if (kind === 'relation') {
      const via = objectFields.find((f) => f.name === cfg!.via)
      if (!via) problems.push(`models.${name}.via: ${describeInvalid(name, cfg!.via!, objectFields.map((f) => f.name))}`)
      else if (via.isList) problems.push(`models.${name}.via: "${via.name}" is a list of ${via.type}; scope through a relation to one parent row`)
      else if ((via.relationFromFields?.length ?? 0) === 0) {
        const problem = backViaProblem(name, via, datamodel)
        if (problem) problems.push(`models.${name}.via: ${problem}`)
      }
    }
    models.set(name, {
      name,
      kind,
      severity: kind === 'root' ? config.tenant.severity : (cfg?.severity ?? 'LOW'),
      field,
      via: cfg?.via ?? '',
      target: undefined,
      viaBack: kind === 'relation' && (objectFields.find((f) => f.name === cfg!.via)?.relationFromFields?.length ?? 1) === 0,
      primaryKey: datamodel.models[name]?.primaryKey ?? datamodel.models[name]?.uniques?.[0]?.fields ?? [],
      guarded: kind !== 'global',
      relations: new Map(),
      references: [],
      tenantRelation: undefined,
      tenantTarget: undefined,
      scalars: new Set(fields.filter((f) => f.kind !== 'object').map((f) => f.name)),
      tenantKeys: (datamodel.models[name]?.uniques ?? []).filter((u) => u.fields.length > 1 && u.fields.includes(field)).map((u) => u.name),
      dependents: [],
      referencedBy: [],
      crossTenantKeys: [],
      uniqueKeys: (datamodel.models[name]?.uniques ?? []).map((u) => u.fields),
      boundRelations: [],
      reachesTenantData: false,
    })
  }
  if (problems.length) throw new TenantConfigError(`tenantfence config does not match the Prisma schema:\n${problems.map((p) => `  ✖ ${p}`).join('\n')}`)

  for (const p of models.values()) {
    const own = fieldsOf(p.name).filter((f) => f.kind === 'object' && models.has(f.type))
    const relations = new Map<string, Relation>()
    for (const f of own) relations.set(f.name, relationOf(p, f, models, fieldsOf))
    p.relations = relations
    if (p.kind === 'field' && root) {
      p.tenantRelation = [...relations.values()].find((r) => r.target === root && r.fields.length === 1 && r.fields[0] === p.field)?.name
      if (p.tenantRelation !== undefined) p.tenantTarget = models.get(root)
    }
    p.references = [...relations.values()].filter((r) => r.fields.length > 0 && models.get(r.target)!.guarded && r.name !== p.tenantRelation)
  }
  for (const p of models.values()) {
    if (p.kind !== 'field') continue
    p.boundRelations = [...p.relations.values()].filter((r) => r.tenantBound && r.fields.length > 0).map((r) => ({ name: r.name, target: models.get(r.target)! }))
  }
  for (const p of models.values()) {
    if (p.kind === 'relation') {
      const target = models.get(p.relations.get(p.via)!.target)!
      if (!target.guarded) {
        throw new TenantConfigError(`models.${p.name}.via: relation "${p.via}" leads to ${target.name}, which is not tenant-owned; scope through a tenant-owned model`)
      }
      p.target = target
    }
    for (const r of p.relations.values()) {
      // p holds a key to r.target: deleting or re-keying a target row reaches p's rows.
      if (r.fields.length > 0 && p.guarded) {
        const t = models.get(r.target)!
        if (!t.dependents.includes(p.name)) t.dependents = [...t.dependents, p.name]
        t.referencedBy = [...t.referencedBy, { model: p.name, fields: r.references }]
      }
    }
    if (p.guarded) {
      // A key that holds the tenant (or the parent that proves it) cannot collide with another tenant's row.
      const tenantish = p.kind === 'relation' ? (p.relations.get(p.via)?.fields ?? []) : [p.field]
      const holdsTenant = (key: readonly string[]) => tenantish.length > 0 && tenantish.every((f) => key.includes(f))
      p.crossTenantKeys = (datamodel.models[p.name]?.uniques ?? []).map((u) => u.fields).filter((key) => !(p.kind === 'root' && key.length === 1 && key[0] === p.field) && !holdsTenant(key))
    }
  }
  for (const p of models.values()) {
    p.reachesTenantData = p.dependents.length > 0 || [...p.relations.values()].some((r) => models.get(r.target)!.guarded)
  }
  // Through a chain of global models too (Plan → Feature → Note): `plan.findMany({ include: { features:
  // { include: { notes: true } } } })` reads tenant rows, so a query on Plan must be walked.
  for (let grew = true; grew; ) {
    grew = false
    for (const p of models.values()) {
      if (p.reachesTenantData || ![...p.relations.values()].some((r) => models.get(r.target)!.reachesTenantData)) continue
      p.reachesTenantData = true
      grew = true
    }
  }
  // A cycle of `via` relations would never reach a tenant field.
  for (const p of models.values()) {
    let cur: ModelPolicy | undefined = p
    for (let hops = 0; cur?.kind === 'relation'; hops++) {
      if (hops > models.size) throw new TenantConfigError(`models.${p.name}.via: the "via" relations form a cycle and never reach a tenant field`)
      cur = cur.target
    }
  }
  const rootPolicy = root ? models.get(root) : undefined
  return {
    models,
    root: rootPolicy,
    tenantOwned: [...Object.keys(config.models), ...(root ? [root] : [])],
    rawSeverity: config.rawQueries.severity,
    rawPolicy: config.rawQueries.policy,
    references: options.references ?? 'verify',
    createInRequest: config.tenant.createInRequest,
  }
}

/**
 * A `via` on the side that does not hold the key (DocumentMeta.envelope, the key Envelope.documentMetaId)
 * proves a row through its owner only when one owner at most can hold it: the owner's key must be
 * unique (a 1:1). Returns what is wrong, or undefined.
 */
function backViaProblem(name: string, via: DataModelField, datamodel: DataModel): string | undefined {
  const owner = datamodel.models[via.type]
  const holder = owner?.fields.find((g) => g.kind === 'object' && g.type === name && g.relationName === via.relationName && g.name !== via.name && (g.relationFromFields?.length ?? 0) > 0)
  if (!holder) return `"${via.name}" names no foreign key on either side (neither ${name} nor ${via.type} holds one); scope through a relation with @relation(fields, references)`
  const key = holder.relationFromFields!
  const uniques = owner!.uniques
  if (uniques !== undefined && !uniques.some((u) => u.fields.length === key.length && u.fields.every((f) => key.includes(f)))) {
    return `"${via.name}" is the back side of ${via.type}.${holder.name} (${key.join(', ')}), which is not unique: several ${via.type} rows could hold one ${name}; make ${key.join(', ')} @unique (a 1:1), or scope ${name} by its own field`
  }
  return undefined
}

/** A relation field of model p, with its other side and what it proves. */
function relationOf(p: ModelPolicy, f: DataModelField, models: ReadonlyMap<string, ModelPolicy>, fieldsOf: (m: string) => readonly DataModelField[]): Relation {
  const target = models.get(f.type)!
  // The other side: same relation name on the target (for a self-relation, the other field).
  const back = fieldsOf(f.type).find((g) => g.kind === 'object' && g.type === p.name && g.relationName === f.relationName && g.name !== f.name)
  const holder = (f.relationFromFields?.length ?? 0) > 0 ? { model: p, fields: f.relationFromFields!, refs: f.relationToFields ?? [] } : back && (back.relationFromFields?.length ?? 0) > 0 ? { model: target, fields: back.relationFromFields!, refs: back.relationToFields ?? [] } : undefined
  const referenced = holder?.model === p ? target : p
  const tenantBound =
    holder !== undefined &&
    holder.model.kind === 'field' &&
    (referenced.kind === 'field' || referenced.kind === 'root') &&
    holder.fields.some((hf, i) => hf === holder.model.field && holder.refs[i] === referenced.field)
  // A row created under p through f gets p's tenant when its own scope runs back through f.
  const inherits =
    (target.kind === 'relation' && back !== undefined && target.via === back.name) ||
    (tenantBound && holder!.model === target) ||
    (p.kind === 'root' && target.kind === 'field' && back !== undefined && (back.relationFromFields ?? []).length === 1 && back.relationFromFields![0] === target.field)
  return {
    name: f.name,
    target: f.type,
    isList: f.isList === true,
    fields: f.relationFromFields ?? [],
    references: f.relationToFields ?? [],
    back: back?.name,
    tenantBound,
    inherits,
  }
}
