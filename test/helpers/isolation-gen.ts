// Random Prisma queries over a schema description (the demo's by default) for the differential fuzz
// test: where trees (AND/OR/NOT, some/every/none/is/isNot, pins of the request's tenant, of another
// tenant, none, undefined values), include/select/_count trees, orderBy, cursors, and writes with
// nested writes and foreign keys at every depth, many-to-many links and the back side of 1:1
// relations. Scoped-looking and leaking shapes alike; the generator knows nothing of the rule.
// Issue 18's shapes too: Prisma.skip where undefined may stand (filters, update data, relation
// filters), `{ set: x, increment: undefined | skip }`, integer keys changed by arithmetic
// (`id: { increment: 2 }`, nested too) and links to keys no row holds.
import { skip } from '@prisma/client/runtime/client'
import { tenantOfRow } from './isolation-db.ts'
import { DEMO } from './isolation-demo.ts'
import { mutate } from './isolation-mutate.ts'
import {
  modelOf,
  type IsolationSchema,
  type ModelInfo,
  type Relation,
  type Row,
  type RowId,
  type Tables,
  type TenantId,
  tenantFieldOf,
  visibleOwners,
} from './isolation-schema.ts'

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }
}

export interface GenQuery {
  model: string
  op: string
  args: Record<string, unknown>
}

export const READ_OPS = ['findMany', 'findFirst', 'findUnique', 'count', 'aggregate', 'groupBy'] as const
export const WRITE_OPS = [
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'upsert',
  'delete',
  'deleteMany',
] as const
/** Writes the generator does not draw but hand-written queries use (a write runs in a transaction rolled back). */
const OTHER_WRITES = ['updateManyAndReturn']
export const isWrite = (op: string) => (WRITE_OPS as readonly string[]).includes(op) || OTHER_WRITES.includes(op)

type Obj = Record<string, unknown>

/** The first string inside a filter value (`{ in: ['a'] }` → 'a'), or undefined (Prisma then drops the key). */
function firstString(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (v && typeof v === 'object')
    for (const x of Object.values(v)) {
      const s = firstString(x)
      if (s !== undefined) return s
    }
  return undefined
}
const MAX_DEPTH = 2

interface CreateOpts {
  inherited?: string
  without?: string
  flat?: boolean
  checked?: boolean
}

/**
 * Each query is drawn at a risk level: every tenant-relevant choice (a pin, its value, an id, a
 * quantifier, a cursor) is the tenant-1 one unless a draw at that risk says otherwise. Low risk gives
 * scoped-looking queries with one cross-tenant twist somewhere deep (the near misses a rule gets
 * wrong); high risk gives the broad mix.
 */
const RISK_LEVELS = [0.05, 0.12, 0.12, 0.25, 0.5] as const

/** Writes that carry nested writes and foreign keys (create, update, upsert) come up more often. */
const WEIGHTED_WRITES = [...WRITE_OPS, 'create', 'update', 'update', 'update', 'upsert']

export class QueryGenerator {
  private fresh = 0
  private risk = 0.5
  private readonly tenants: Readonly<Record<string, readonly TenantId[]>>
  private readonly visible: ReadonlySet<unknown>
  constructor(
    private readonly g: Rng,
    private readonly s: IsolationSchema = DEMO,
  ) {
    this.tenants = s.fieldTenants ?? { [s.tenantField]: [s.request.tenantId, ...s.others] }
    this.visible = visibleOwners(s)
  }

  /** The tenant field of a model (two levels: its level's). */
  private tf(m: string): string {
    return tenantFieldOf(this.s, this.model(m))
  }

  private tenantsOf(field: string): readonly TenantId[] {
    const t = this.tenants[field]
    if (!t) throw new Error(`${this.s.name}: no tenant values for the field ${field} (fieldTenants)`)
    return t
  }

  private model(name: string): ModelInfo {
    return modelOf(this.s, name)
  }

  /** The other side of a list relation: the relation on the target that holds the foreign key (none: many-to-many). */
  private inverseOf(from: string, rel: Relation): Relation | undefined {
    const target = this.model(rel.model)
    if (rel.inverse) return target.relations.find((r) => r.name === rel.inverse && r.fk)
    return target.relations.find((r) => r.model === from && r.fk)
  }

  /** The relation on a to-one relation's target that leads back (Prisma leaves it out of nested data). */
  private backRelation(from: string, rel: Relation): string | undefined {
    if (rel.inverse) return rel.inverse
    return this.model(rel.model).relations.find((r) => r.model === from && !r.fk)?.name
  }

  private seedIds(m: string): RowId[] {
    return (this.s.seed[m] ?? []).map((r) => r.id)
  }

  /** true when this choice takes the cross-tenant (or unpinned) branch */
  private risky(): boolean {
    return this.g.chance(this.risk)
  }

  /** A near miss (a scoped template, twisted) or a query drawn from scratch. */
  query(): GenQuery {
    if (this.g.chance(0.4)) return mutate(this.g, this.g.pick(this.s.gen.templates), this.s)
    this.risk = this.g.pick(RISK_LEVELS)
    const m = this.g.pick(this.s.gen.weightedModels)
    const op = this.g.chance(0.4) ? this.g.pick(READ_OPS) : this.g.pick(WEIGHTED_WRITES)
    return { model: m, op, args: isWrite(op) ? this.writeArgs(m, op) : this.readArgs(m, op) }
  }

  // ---- values ----------------------------------------------------------------------------------

  /** A tenant value in a filter: mostly the request's, sometimes another, a list, an operator, undefined. */
  private tenantFilterValue(field: string): unknown {
    const g = this.g
    const [t1, t2, t3] = this.tenantsOf(field)
    if (!this.risky()) return g.pick<unknown>([t1, t1, t1, { equals: t1 }, { in: [t1] }])
    const r = g.next()
    if (r < 0.5) return t1
    if (r < 0.6) return t2
    if (r < 0.64) return t3
    if (r < 0.68) return { equals: t1 }
    if (r < 0.72) return { in: [t1] }
    if (r < 0.76) return { in: [t1, t2] }
    if (r < 0.8) return { not: t2 }
    if (r < 0.85) return this.g.chance(0.5) ? undefined : skip
    if (r < 0.88) return { gte: t1, lte: t1 }
    if (r < 0.9) return { in: [] }
    if (r < 0.94) return { equals: t1, not: t2 }
    return { equals: t2 }
  }

  /** A tenant value in write data or a compound unique input: a plain id. */
  private tenantValue(field: string): TenantId {
    const [t1, t2, t3] = this.tenantsOf(field)
    return this.risky() ? this.g.pick([t2!, t3!, t1!]) : t1!
  }

  /** an id of this model: the request tenant's row (or a global one) unless risky, then any row or one that does not exist */
  private id(m: string): RowId {
    if (!this.risky()) {
      const own = this.model(m).scope.kind === 'global' ? this.seedIds(m) : this.ownedIds(m)
      if (own.length) return this.g.pick(own)
    }
    return this.g.chance(0.1) ? this.s.gen.missingId : this.g.pick(this.seedIds(m))
  }

  /** Seed rows of this model the request may touch (its tenant's; two levels: its project's and its organisation's). */
  private ownedIds(m: string): RowId[] {
    const rows = this.s.seed as Record<string, readonly Row[]>
    return (rows[m] ?? []).filter((r) => this.visible.has(tenantOfRow(rows as Tables, m, r, this.s))).map((r) => r.id)
  }

  private freshString(prefix: string): string {
    this.fresh += 1
    return `${prefix}${this.fresh}-${this.g.int(1e6)}`
  }

  // ---- filters ---------------------------------------------------------------------------------

  /** What pins this model to a tenant (the rule's proof), built for a random tenant value. */
  private pin(m: string): Obj {
    const info = this.model(m)
    // two levels: a model may be pinned other ways too (a project by its id, a row through its project)
    const extra = this.s.gen.extraPins?.(m, (field) => this.tenantFilterValue(field)) ?? []
    if (extra.length && this.g.chance(0.5)) return this.g.pick(extra)
    switch (info.scope.kind) {
      case 'field':
        return { [this.tf(m)]: this.tenantFilterValue(this.tf(m)) }
      case 'tenant':
        return { id: this.tenantFilterValue(this.tf(m)) }
      case 'global':
        return {}
      case 'via':
      case 'owner': {
        const rel = info.scope.relation
        const inner = this.pin(info.relations.find((r) => r.name === rel)!.model)
        const shapes = [inner, { is: inner }, { is: undefined, ...inner }, { is: skip, ...inner }]
        return { [rel]: this.g.pick(this.risky() ? [...shapes, { isNot: inner }] : shapes) }
      }
    }
  }

  where(m: string, depth: number, pinBias = 0.6): Obj {
    const w: Obj = {}
    if (!this.risky() || this.g.chance(pinBias)) Object.assign(w, this.pin(m))
    const n = this.g.int(3)
    for (let i = 0; i < n; i++) Object.assign(w, this.condition(m, depth))
    return w
  }

  private scalarCondition(m: string): Obj {
    const info = this.model(m)
    const g = this.g
    const options: Array<() => Obj> = [
      () => ({
        id: g.pick([
          this.id(m),
          { in: [this.id(m), this.id(m)] },
          { gt: this.s.gen.idBound(g.int(5)) },
          { not: this.id(m) },
        ]),
      }),
    ]
    for (const [field, values] of Object.entries(info.strings)) {
      options.push(() => ({
        [field]: g.pick([
          g.pick(values),
          { contains: g.pick(['a', 'c', '@acme', 'o']) },
          { startsWith: g.pick(values).slice(0, 2) },
          { in: [...values] },
        ]),
      }))
    }
    for (const b of info.booleans) options.push(() => ({ [b]: g.pick([true, false, { not: true }]) }))
    const tf = this.tf(m)
    if (info.scope.kind === 'field') options.push(() => ({ [tf]: this.tenantFilterValue(tf) }))
    for (const rel of info.relations)
      if (rel.fk && rel.fk !== tf)
        options.push(() => ({
          [rel.fk!]: g.pick([this.id(rel.model), { in: [this.id(rel.model), this.id(rel.model)] }]),
        }))
    return g.pick(options)()
  }

  private condition(m: string, depth: number): Obj {
    const g = this.g
    const info = this.model(m)
    const r = g.next()
    if (r < 0.4 || depth >= MAX_DEPTH) return this.scalarCondition(m)
    if (r < 0.75 && info.relations.length) return this.relationFilter(m, g.pick(info.relations), depth)
    if (r < 0.83)
      return {
        AND: g.chance(0.5)
          ? [this.where(m, depth + 1, 0.3), this.where(m, depth + 1, 0.3)]
          : this.where(m, depth + 1, 0.5),
      }
    if (r < 0.93) return { OR: [this.where(m, depth + 1, 0.6), this.where(m, depth + 1, 0.6)] }
    return { NOT: this.where(m, depth + 1, 0.5) }
  }

  private relationFilter(_m: string, rel: Relation, depth: number): Obj {
    const g = this.g
    const inner = this.where(rel.model, depth + 1, 0.5)
    if (rel.list)
      return { [rel.name]: { [g.pick(this.risky() ? ['some', 'every', 'none'] : ['some', 'none'])]: inner } }
    const shapes: unknown[] = [inner, { is: inner }, { is: undefined, ...inner }, { is: skip, ...inner }]
    if (this.risky()) shapes.push({ isNot: inner })
    if (rel.optional && this.risky()) shapes.push(null, { is: null }, { isNot: null })
    return { [rel.name]: g.pick(shapes) }
  }

  /** A filter with scalars only (nested updateMany/deleteMany take no relation filters). */
  private scalarWhere(m: string, depth = 0): Obj {
    const w: Obj = {}
    const n = 1 + this.g.int(2)
    for (let i = 0; i < n; i++) Object.assign(w, this.scalarCondition(m))
    if (depth < 1 && this.g.chance(0.2)) w.OR = [this.scalarWhere(m, depth + 1), this.scalarWhere(m, depth + 1)]
    if (depth < 1 && this.g.chance(0.1)) w.NOT = this.scalarWhere(m, depth + 1)
    return w
  }

  /** A unique filter: by id (with or without a pin and extra conditions) or a compound unique input. */
  uniqueWhere(m: string, pinBias = 0.6): Obj {
    const g = this.g
    const info = this.model(m)
    const compound = info.uniques.length && g.chance(0.3) ? g.pick(info.uniques) : undefined
    if (compound) {
      const values: Obj = {}
      for (const f of compound.fields) {
        if (f === this.tf(m)) values[f] = this.tenantValue(f)
        else if (info.strings[f]) values[f] = g.pick(info.strings[f])
        else if (f === 'id') values[f] = this.id(m)
        else values[f] = this.id(info.relations.find((r) => r.fk === f)!.model)
      }
      return compound.fields.length === 1 ? values : { [compound.name]: values }
    }
    const w: Obj = {}
    // the tenant model's pin is its id, which a unique filter must give as a plain value
    if (info.scope.kind !== 'tenant' && (!this.risky() || g.chance(pinBias))) Object.assign(w, this.pin(m))
    if (g.chance(0.2)) Object.assign(w, this.scalarCondition(m))
    w.id = this.id(m)
    // beside the id, a field unique on its own takes a plain value in a unique filter, never an operator
    for (const f of info.plainInUnique ?? []) if (w[f] !== null && typeof w[f] === 'object') w[f] = firstString(w[f])
    return w
  }

  /**
   * A cursor: an id, with the tenant field pinned or not. Prisma 7's engine fails on a cursor with a
   * relation filter (`cursor: { id, user: { tenantId } }`), so relation-scoped models get the id alone.
   */
  private cursor(m: string): Obj {
    const tf = this.tf(m)
    const w: Obj = this.model(m).scope.kind === 'field' && !this.risky() ? { [tf]: this.tenantFilterValue(tf) } : {}
    w.id = this.id(m)
    return w
  }

  // ---- reads -----------------------------------------------------------------------------------

  private orderBy(m: string): Obj {
    const g = this.g
    const info = this.model(m)
    const options: Array<() => Obj> = [() => ({ id: g.pick(['asc', 'desc']) })]
    for (const field of Object.keys(info.strings)) options.push(() => ({ [field]: g.pick(['asc', 'desc']) }))
    for (const rel of info.relations) {
      if (rel.list) options.push(() => ({ [rel.name]: { _count: g.pick(['asc', 'desc']) } }))
      else if (rel.fk) {
        const target = this.model(rel.model)
        const field = g.pick(['id', ...Object.keys(target.strings)])
        options.push(() => ({ [rel.name]: { [field]: g.pick(['asc', 'desc']) } }))
      }
    }
    return g.pick(options)()
  }

  private countSelect(m: string, depth: number): unknown {
    const lists = this.model(m).relations.filter((r) => r.list)
    if (!lists.length) return undefined
    if (this.risky()) return true
    const select: Obj = {}
    for (const rel of lists)
      if (this.g.chance(0.6))
        select[rel.name] = this.g.chance(0.5) ? true : { where: this.where(rel.model, depth + 1, 0.6) }
    return Object.keys(select).length ? { select } : true
  }

  /** include or select (or nothing), nested to depth 2, with where/orderBy/take on lists and _count. */
  readShape(m: string, depth: number): Obj {
    const g = this.g
    const info = this.model(m)
    if (depth >= MAX_DEPTH || g.chance(0.35)) return {}
    const useSelect = g.chance(0.4)
    const shape: Obj = {}
    if (useSelect) {
      shape.id = true
      for (const f of [...Object.keys(info.strings), ...info.booleans]) if (g.chance(0.4)) shape[f] = true
      if (info.scope.kind === 'field' && g.chance(0.5)) shape[this.tf(m)] = true
    }
    for (const rel of info.relations) {
      if (!g.chance(0.4)) continue
      if (g.chance(0.3)) {
        shape[rel.name] = true
        continue
      }
      const nested: Obj = { ...this.readShape(rel.model, depth + 1) }
      if (rel.list) {
        if (!this.risky() || g.chance(0.6)) nested.where = this.where(rel.model, depth + 1, 0.5)
        if (g.chance(0.3)) nested.orderBy = this.orderBy(rel.model)
        if (g.chance(0.2)) nested.take = 1 + g.int(2)
        if (g.chance(0.15)) {
          nested.cursor = this.cursor(rel.model)
          nested.take = 1 + g.int(2)
        }
      }
      shape[rel.name] = Object.keys(nested).length ? nested : true
    }
    if (g.chance(0.25)) {
      const count = this.countSelect(m, depth)
      if (count !== undefined) shape._count = count
    }
    const keys = Object.keys(shape)
    if (!keys.length || (useSelect && keys.length === 1 && !g.chance(0.5))) return {}
    return useSelect ? { select: shape } : { include: shape }
  }

  private readArgs(m: string, op: string): Obj {
    const g = this.g
    const info = this.model(m)
    switch (op) {
      case 'findUnique':
        return { where: this.uniqueWhere(m), ...this.readShape(m, 0) }
      case 'count':
        return g.chance(0.9) ? { where: this.where(m, 0) } : {}
      case 'aggregate':
        return { where: this.where(m, 0), _count: { _all: true }, _max: { id: true } }
      case 'groupBy': {
        const by = g.pick([...(info.scope.kind === 'field' ? [this.tf(m)] : []), 'id', ...Object.keys(info.strings)])
        return { by: [by], where: this.where(m, 0), _count: { _all: true }, orderBy: { [by]: 'asc' } }
      }
      default: {
        const args: Obj = { ...this.readShape(m, 0) }
        if (g.chance(0.85)) args.where = this.where(m, 0)
        if (g.chance(0.4)) args.orderBy = g.chance(0.7) ? this.orderBy(m) : [this.orderBy(m), { id: 'asc' }]
        const take = () => (op === 'findFirst' ? g.pick([1, -1]) : 1 + g.int(3))
        if (g.chance(0.2)) {
          args.cursor = this.cursor(m)
          args.take = take()
        } else if (g.chance(0.2)) args.take = take()
        if (g.chance(0.1)) args.skip = 1
        return args
      }
    }
  }

  // ---- writes ----------------------------------------------------------------------------------

  /** Required scalars of a new row (no foreign keys, no tenant). */
  private newScalars(m: string): Obj {
    return this.s.gen.newScalars(m, this.g, (prefix) => this.freshString(prefix))
  }

  /** A unique filter that links an existing row (connect, set, connectOrCreate.where). */
  private linkWhere(m: string): Obj {
    if (this.g.chance(0.2)) return this.uniqueWhere(m, 0.4)
    // by id, often unpinned: a row of the request's tenant then needs the lookup to pass, another's to fail
    const w: Obj = this.model(m).scope.kind !== 'tenant' && this.g.chance(0.4) ? this.pin(m) : {}
    // a key no row holds: refused like another tenant's (the two answers would tell the rows apart)
    w.id = this.g.chance(0.06) ? this.s.gen.missingId : this.id(m)
    return w
  }

  /**
   * Data of a new row. `inherited` is the relation the parent provides (not given in data), `without`
   * the back-relation Prisma leaves out when the row is created from its child; `flat` forbids nested
   * writes (createMany rows); `checked` chooses relation writes over bare foreign keys.
   */
  createData(m: string, depth: number, opts: CreateOpts = {}): Obj {
    const g = this.g
    const info = this.model(m)
    const { inherited, without, flat = false } = opts
    const checked = opts.checked ?? (!flat && g.chance(0.5))
    const d: Obj = { ...this.newScalars(m) }
    const tf = this.tf(m)
    const tenantRel = info.relations.find((r) => r.fk === tf)
    // a composite key to the parent carries the tenant too: Prisma's unchecked input leaves it out
    const tenantInherited =
      !checked && inherited !== undefined && info.relations.find((r) => r.name === inherited)?.composite
    if (info.scope.kind === 'field' && (!tenantRel || inherited !== tenantRel.name) && !tenantInherited) {
      if (tenantRel && checked) {
        const id = this.tenantValue(tf)
        d[tenantRel.name] = g.chance(0.7)
          ? { connect: { id } }
          : {
              connectOrCreate: {
                where: { id },
                create: this.s.gen.newTenant(id, (p) => this.freshString(p), tenantRel.model),
              },
            }
      } else if (g.chance(0.97)) d[tf] = this.tenantValue(tf)
    }
    for (const rel of info.relations) {
      if (!rel.fk || rel.fk === tf || rel.name === inherited) continue
      if (rel.optional && g.chance(0.5)) continue
      if (!checked) d[rel.fk] = this.id(rel.model)
      else d[rel.name] = this.toOneCreateWrite(m, rel, depth)
    }
    if (!flat && depth < MAX_DEPTH && g.chance(0.5)) {
      const lists = info.relations.filter((r) => r.list && r.name !== without)
      if (lists.length) {
        const rel = g.pick(lists)
        d[rel.name] = this.toManyCreateWrite(m, rel, depth)
      }
    }
    // the back side of a 1:1 (Team.settings): no key here, the other row holds it
    const backs = info.relations.filter((r) => !r.list && !r.fk && r.name !== without)
    if (!flat && depth < MAX_DEPTH && backs.length && g.chance(0.4)) {
      const rel = g.pick(backs)
      d[rel.name] = this.toOneBackWrite(m, rel, depth, false)
    }
    return d
  }

  private toOneCreateWrite(m: string, rel: Relation, depth: number): Obj {
    const g = this.g
    const r = g.next()
    const target = () => this.createData(rel.model, depth + 1, { without: this.backRelation(m, rel) })
    if (r < 0.6 || depth >= MAX_DEPTH) return { connect: this.linkWhere(rel.model) }
    if (r < 0.8) return { create: target() }
    return { connectOrCreate: { where: this.linkWhere(rel.model), create: target() } }
  }

  /** Options of a child created under a list relation: it inherits the parent, or (many-to-many) proves its own scope. */
  private childOpts(m: string, rel: Relation, inv: Relation | undefined, checked?: boolean): CreateOpts {
    return inv ? { inherited: inv.name, checked } : { without: this.backRelation(m, rel), checked }
  }

  private toManyCreateWrite(m: string, rel: Relation, depth: number): Obj {
    const g = this.g
    const inv = this.inverseOf(m, rel)
    // one style for every child of a list: Prisma does not take checked and unchecked rows mixed
    const checked = g.chance(0.5)
    const child = () => this.createData(rel.model, depth + 1, this.childOpts(m, rel, inv, checked))
    // Prisma has no nested createMany on a many-to-many relation
    const ops = inv
      ? ['create', 'create', 'createMany', 'connect', 'connectOrCreate']
      : ['create', 'create', 'connect', 'connectOrCreate']
    switch (g.pick(ops)) {
      case 'create':
        return { create: g.chance(0.5) ? child() : [child(), child()] }
      case 'createMany':
        return { createMany: { data: [this.createData(rel.model, MAX_DEPTH, { inherited: inv!.name, flat: true })] } }
      case 'connect':
        return { connect: g.chance(0.5) ? this.linkWhere(rel.model) : [this.linkWhere(rel.model)] }
      default:
        return { connectOrCreate: { where: this.linkWhere(rel.model), create: child() } }
    }
  }

  /** A write on the back side of a 1:1 (Team.settings), in create data or in update data. */
  private toOneBackWrite(m: string, rel: Relation, depth: number, update: boolean): Obj {
    const g = this.g
    const inv = this.inverseOf(m, rel)!
    const child = () => this.createData(rel.model, depth + 1, { inherited: inv.name })
    const ops = ['create', 'connect', 'connectOrCreate']
    if (update) ops.push('update', 'update', 'upsert', 'delete', 'disconnect')
    const op = g.pick(ops)
    switch (op) {
      case 'create':
        return { create: child() }
      case 'connect':
        return { connect: this.linkWhere(rel.model) }
      case 'connectOrCreate':
        return { connectOrCreate: { where: this.linkWhere(rel.model), create: child() } }
      case 'update': {
        const data = this.updateData(rel.model, depth + 1, inv.name)
        return { update: g.chance(0.5) ? data : { where: this.where(rel.model, depth + 1, 0.4), data } }
      }
      case 'upsert':
        return { upsert: { create: child(), update: this.updateData(rel.model, depth + 1, inv.name) } }
      default:
        return { [op]: g.chance(0.7) ? true : this.where(rel.model, depth + 1, 0.4) }
    }
  }

  /** Scalar changes only (updateMany data, nested updateMany data). `key`: an autoincrement id may be changed (not beside relation writes). */
  private scalarUpdate(m: string, key = true): Obj {
    const g = this.g
    const info = this.model(m)
    const d: Obj = {}
    for (const [field, values] of Object.entries(info.strings))
      if (g.chance(0.4)) d[field] = info.fresh?.includes(field) ? this.freshString('x') : g.pick(values)
    for (const b of info.booleans) if (g.chance(0.4)) d[b] = g.chance(0.5)
    if (info.scope.kind === 'tenant' && g.chance(0.5)) d.name = this.freshString('T')
    const tf = this.tf(m)
    if (info.scope.kind === 'field' && g.chance(0.15)) d[tf] = this.absentBeside(g.pick(this.tenantUpdates(tf)))
    else if (info.scope.kind === 'field' && g.chance(0.05)) d[tf] = skip
    const id = key ? this.keyChange(m) : undefined
    if (id !== undefined) d.id = id
    if (!Object.keys(d).length) {
      const f = Object.keys(info.strings)[0]
      if (f) d[f] = this.freshString('y')
    }
    return d
  }

  /** What update data may set a tenant field to: the schema's values for its tenant field, the request's and others' for another. */
  private tenantUpdates(field: string): readonly unknown[] {
    if (field === this.s.tenantField) return this.s.gen.tenantUpdates
    const [t1, t2, t3] = this.tenantsOf(field)
    return [t1, t2, { set: t1 }, { set: t2 }, { set: t3 }]
  }

  /** `{ set: x }` now and then with an absent key beside it (`increment: undefined` or Prisma.skip): it still sets x. */
  private absentBeside(v: unknown): unknown {
    const set = v !== null && typeof v === 'object' ? (v as Obj).set : v
    if (typeof set !== 'number' || !this.g.chance(0.3)) return v
    return { set, [this.g.pick(['increment', 'decrement', 'multiply'])]: this.g.chance(0.5) ? undefined : skip }
  }

  /**
   * An integer primary key changed in update data (`id: { increment: 2 }`, `{ set: 3, increment: skip }`):
   * a collision with another tenant's row answers P2002 where success would follow without that row.
   * Only where ids are integers and rarely (most such writes fail); string ids never (the class tests).
   */
  private keyChange(m: string): unknown {
    const g = this.g
    if (typeof this.s.gen.missingId !== 'number' || this.model(m).scope.kind === 'tenant' || !g.chance(0.15)) return undefined
    switch (g.int(6)) {
      case 0:
        return { increment: g.pick([1, 2, 3, 100]) }
      case 1:
        return { decrement: g.pick([1, 2]) }
      case 2:
        return { multiply: 2 }
      case 3:
        return { divide: 2 }
      default:
        return { set: this.risky() ? g.pick(this.seedIds(m)) : 100 + g.int(50), increment: g.chance(0.5) ? undefined : skip }
    }
  }

  /** Update data: scalars, tenant, foreign keys (bare or as relation writes), nested writes. */
  updateData(m: string, depth: number, inherited?: string, without?: string): Obj {
    const g = this.g
    const info = this.model(m)
    const checked = g.chance(0.5)
    // Prisma's checked update input (relation writes) has no autoincrement id
    const d: Obj = { ...this.scalarUpdate(m, !checked) }
    const tf = this.tf(m)
    const tenantRel = info.relations.find((r) => r.fk === tf)
    if (tenantRel && checked && inherited !== tenantRel.name) {
      delete d[tf]
      if (g.chance(0.2)) d[tenantRel.name] = { connect: { id: this.tenantValue(tf) } }
    }
    const compositeParent = inherited !== undefined && info.relations.find((r) => r.name === inherited)?.composite
    if (inherited === tenantRel?.name || (compositeParent && !checked)) delete d[tf]
    for (const rel of info.relations) {
      if (!rel.fk || rel.fk === tf || rel.name === inherited || !g.chance(0.5)) continue
      if (!checked) d[rel.fk] = rel.optional && g.chance(0.2) ? null : this.id(rel.model)
      else d[rel.name] = this.toOneUpdateWrite(m, rel, depth)
    }
    if (depth < MAX_DEPTH && g.chance(0.7)) {
      const lists = info.relations.filter((r) => r.list && r.name !== without)
      if (lists.length) {
        const rel = g.pick(lists)
        d[rel.name] = this.toManyUpdateWrite(m, rel, depth)
      }
    }
    const backs = info.relations.filter((r) => !r.list && !r.fk && r.name !== without)
    if (depth < MAX_DEPTH && backs.length && g.chance(0.4)) {
      const rel = g.pick(backs)
      d[rel.name] = this.toOneBackWrite(m, rel, depth, true)
    }
    return d
  }

  private toOneUpdateWrite(m: string, rel: Relation, depth: number): Obj {
    const g = this.g
    const without = this.backRelation(m, rel)
    const create = () => this.createData(rel.model, depth + 1, { without })
    const update = () => this.updateData(rel.model, depth + 1, undefined, without)
    const ops = ['connect', 'connect', 'create', 'connectOrCreate', 'update', 'upsert']
    if (rel.optional) ops.push('disconnect', 'delete')
    const op = depth >= MAX_DEPTH ? 'connect' : g.pick(ops)
    switch (op) {
      case 'connect':
        return { connect: this.linkWhere(rel.model) }
      case 'create':
        return { create: create() }
      case 'connectOrCreate':
        return { connectOrCreate: { where: this.linkWhere(rel.model), create: create() } }
      case 'update':
        return { update: g.chance(0.5) ? update() : { where: this.where(rel.model, depth + 1, 0.4), data: update() } }
      case 'upsert':
        return { upsert: { create: create(), update: update() } }
      default:
        return { [op]: true }
    }
  }

  private toManyUpdateWrite(m: string, rel: Relation, depth: number): Obj {
    const g = this.g
    const inv = this.inverseOf(m, rel)
    const ops = [
      'create',
      'createMany',
      'connect',
      'connectOrCreate',
      'update',
      'updateMany',
      'upsert',
      'delete',
      'deleteMany',
    ]
    // a many-to-many link (no inverse holding a key) can always be set or removed
    if (!inv || inv.optional) ops.push('set', 'disconnect')
    const op = g.pick(ops)
    const child = () => this.createData(rel.model, depth + 1, this.childOpts(m, rel, inv))
    const back = inv ? undefined : this.backRelation(m, rel)
    switch (op) {
      case 'create':
      case 'createMany':
      case 'connect':
      case 'connectOrCreate':
        return this.toManyCreateWrite(m, rel, depth)
      case 'update':
        return {
          update: {
            where: this.uniqueWhere(rel.model, 0.3),
            data: this.updateData(rel.model, depth + 1, inv?.name, back),
          },
        }
      case 'updateMany':
        return { updateMany: { where: this.scalarWhere(rel.model), data: this.scalarUpdate(rel.model) } }
      case 'upsert':
        return {
          upsert: {
            where: this.uniqueWhere(rel.model, 0.3),
            create: child(),
            update: this.updateData(rel.model, depth + 1, inv?.name, back),
          },
        }
      case 'delete':
        return { delete: this.uniqueWhere(rel.model, 0.3) }
      case 'deleteMany':
        return { deleteMany: g.chance(0.2) ? {} : this.scalarWhere(rel.model) }
      case 'set':
        return { set: g.chance(0.3) ? [] : [this.linkWhere(rel.model)] }
      default:
        return { disconnect: this.linkWhere(rel.model) }
    }
  }

  private writeArgs(m: string, op: string): Obj {
    const g = this.g
    const shape = () => (g.chance(0.3) ? this.readShape(m, 1) : {})
    switch (op) {
      case 'create':
        return { data: this.createData(m, 0), ...shape() }
      case 'createMany':
      case 'createManyAndReturn': {
        const n = 1 + g.int(2)
        return { data: Array.from({ length: n }, () => this.createData(m, MAX_DEPTH, { flat: true })) }
      }
      case 'update':
        return { where: this.uniqueWhere(m), data: this.updateData(m, 0), ...shape() }
      case 'updateMany':
        return { where: this.where(m, 0), data: this.scalarUpdate(m) }
      case 'upsert':
        return { where: this.uniqueWhere(m), create: this.createData(m, 0), update: this.updateData(m, 0), ...shape() }
      case 'delete':
        return { where: this.uniqueWhere(m), ...shape() }
      default:
        return g.chance(0.1) ? {} : { where: this.where(m, 0) }
    }
  }
}
