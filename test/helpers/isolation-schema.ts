// A schema as the isolation tests see it: which rows belong to which tenant, how models link, the
// seed, and what the fuzz generator needs to write valid queries over it. Written by hand from each
// schema, not read from tenantfence: the tests judge the extension, so they must not borrow its
// reading of the data model. Two descriptions exist: the demo's (helpers/isolation-demo.ts) and a
// multi-team app's (helpers/isolation-app.ts, schema in test/fixtures/isolation-app).
import type { TenantContext } from '../../src/enforcement/context.ts'
import type { GenQuery, Rng } from './isolation-gen.ts'

export type TenantId = number | string
export type RowId = number | string

export type Scope =
  | { kind: 'field'; field?: string } // its own tenant column (`field`, default the schema's tenantField)
  | { kind: 'via'; relation: string } // the row its relation points at
  | { kind: 'owner'; relation: string; model: string; fk: string } // the `model` row whose `fk` holds its id (a 1:1 whose key the owner holds; `relation` is the back side); none: no tenant yet
  | { kind: 'tenant'; field?: string } // the tenant model: its id is the tenant (of `field`, default the schema's tenantField)
  | { kind: 'global' } // nobody's

export interface Relation {
  name: string
  model: string
  list: boolean
  /** nullable to-one (can be disconnected, set to null, compared to null) */
  optional: boolean
  /** the foreign-key scalar on this side that holds the target's id, when this side holds it */
  fk?: string
  /** the foreign key also includes the tenant field on both sides (it cannot leave the row's tenant) */
  composite?: boolean
  /** the other side's relation, when finding it by model and foreign key is ambiguous (self-relations) */
  inverse?: string
}

export interface ModelInfo {
  name: string
  /** Prisma client property (user, refreshToken, ...) */
  prop: string
  scope: Scope
  /** scalars a filter or an update may use, with a few values each (shared across tenants on purpose) */
  strings: Record<string, readonly string[]>
  booleans: readonly string[]
  relations: readonly Relation[]
  /** unique inputs: name and fields (a single field is given bare, several under the name) */
  uniques: ReadonlyArray<{ name: string; fields: readonly string[] }>
  /** string fields that updates set to a fresh value (unique columns: a shared value would only collide) */
  fresh?: readonly string[]
  /** fields unique on their own, which a unique filter (`where` of findUnique, connect) takes as a plain value only */
  plainInUnique?: readonly string[]
}

/** The join table of an implicit many-to-many: column A holds an `a` row's id, column B a `b` row's. */
export interface LinkTable {
  table: string
  a: string
  b: string
}

export type Row = Record<string, unknown> & { id: RowId }
export type Tables = Record<string, Row[]>
type Obj = Record<string, unknown>

/** What the generator needs beyond the shape: values it cannot guess from the description. */
export interface GenHooks {
  /** required scalars of a new row (no foreign key, no tenant) */
  newScalars(model: string, g: Rng, fresh: (prefix: string) => string): Obj
  /** a new tenant row with this id (a connectOrCreate's create) */
  newTenant(id: TenantId, fresh: (prefix: string) => string, model: string): Obj
  /** what update data may set the tenant field to (the request's, others', operators) */
  tenantUpdates: readonly unknown[]
  /** an id no row has */
  missingId: RowId
  /** the n-th of five id bounds, in increasing order (a range filter `id: { gt }`) */
  idBound(n: number): RowId
  /** other tenants' ids that widen a filter (a twist: `{ OR: [filter, { id }] }`) */
  widenIds: readonly RowId[]
  /** models drawn for a query from scratch (repeats weigh) */
  weightedModels: readonly string[]
  /** scoped queries of the request's tenant, twisted into near misses */
  templates: readonly GenQuery[]
  /** more ways to pin a model than its scope gives (a lower-level model by its own id, a row through its project), built with `value(field)` */
  extraPins?(model: string, value: (field: string) => unknown): readonly Obj[]
  /** a template value that is an id or a tenant (twisted more often than the shape around it) */
  twistable(key: string | number, value: unknown): boolean
  /** another id or tenant in its place */
  twist(key: string | number, value: unknown, g: Rng): unknown
}

export interface IsolationSchema {
  name: string
  models: Record<string, ModelInfo>
  /** the tenant column of field-scoped models */
  tenantField: string
  /** the request of every test */
  request: { tenantId: TenantId; userId: TenantId; endpoint: string; method: string }
  /** the other tenants of the seed */
  others: readonly TenantId[]
  /** Two levels: what runWithTenant gets (`tenantIds`, `scope`). Default: `request`. */
  context?: TenantContext
  /** the owners whose rows the request may read and write besides global rows (default: the request's tenant) */
  visible?: readonly TenantId[]
  /** the values of each tenant field, the request's first (default: the tenantField's, request then others) */
  fieldTenants?: Readonly<Record<string, readonly TenantId[]>>
  /** models whose rows a create makes into new tenants (default: the models of scope `tenant`) */
  tenantModels?: readonly string[]
  seed: Record<string, readonly Row[]>
  /** models in an order that satisfies foreign keys when inserting (reverse it to delete) */
  insertOrder: readonly string[]
  linkTables: readonly LinkTable[]
  /** rows of the link tables, by table: [a id, b id] */
  linkSeed: Record<string, ReadonlyArray<readonly [RowId, RowId]>>
  /** scalars the snapshot leaves out (the database sets them to now) */
  volatile: readonly string[]
  /** SQL that deletes every row of the tenants other than this one (an SQL literal); global rows stay */
  deleteOthers(tenantSql: string): string[]
  /** SQL that changes every attribute of the other tenants' rows that a filter could test */
  alterOthers(tenantSql: string): string[]
  /** a plain client on a new empty database with the schema's tables */
  open(): Promise<{ prisma: unknown; close(): Promise<void> }>
  gen: GenHooks
}

/** The model of this schema named `name` (throws on a typo, so a wrong test cannot pass quietly). */
export function modelOf(schema: IsolationSchema, name: string): ModelInfo {
  const m = schema.models[name]
  if (!m)
    throw new Error(`unknown model ${name}; models of ${schema.name} are ${Object.keys(schema.models).join(', ')}`)
  return m
}

/** The relation of `from` named `name`. */
export function relationOf(schema: IsolationSchema, from: string, name: string): Relation {
  const r = modelOf(schema, from).relations.find((x) => x.name === name)
  if (!r) throw new Error(`${from} has no relation ${name}`)
  return r
}

/** SQL text of a value (ids and tenants are integers or strings). */
export function sqlValue(v: TenantId): string {
  return typeof v === 'number' ? String(v) : `'${v.replaceAll("'", "''")}'`
}

/** The tenant column of a model scoped by its own field. */
export function tenantFieldOf(schema: IsolationSchema, info: ModelInfo): string {
  return (info.scope.kind === 'field' || info.scope.kind === 'tenant' ? info.scope.field : undefined) ?? schema.tenantField
}

/** The owners whose rows the request may touch (global rows aside). */
export function visibleOwners(schema: IsolationSchema): ReadonlySet<unknown> {
  return new Set(schema.visible ?? [schema.request.tenantId])
}

/** The context runWithTenant gets for this schema's request. */
export function contextOf(schema: IsolationSchema): TenantContext {
  return schema.context ?? schema.request
}
