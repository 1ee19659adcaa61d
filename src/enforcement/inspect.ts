// The heart: is every tenant-guarded row this query reads, writes, links, unlinks or filters
// through provably the request's tenant's? (docs/isolation.md is the rule, in words.)
// Pure: no Prisma client, no telemetry. It walks the whole argument tree along the data model's
// relations and answers with the violations it found and the foreign keys that only a lookup can
// prove. A shape it does not recognise is unproven: a wrong "proven" here is a data leak.
import type { Severity } from '../config/schema.ts'
import type { ViolationKind } from '../telemetry/metric-names.ts'
import { CREATE_OPERATIONS, DELETE_OPERATIONS, MODEL_RAW_OPERATIONS, RAW_OPERATIONS, READ_OPERATIONS, UPDATE_OPERATIONS, UPSERT_OPERATION } from './operations.ts'
import type { ModelPolicy, Policy, Relation } from './policy.ts'

export interface Finding {
  /** the model whose rows the violation exposes (`$raw` for SQL the check cannot see) */
  readonly model: string
  readonly severity: Severity
  readonly violation: ViolationKind
  /** the tenant(s) the query named, when it named another one */
  readonly queryTenantIds?: readonly string[]
  /** where in the query's arguments (`where.OR.user`, `data.userRoles.create.role.connect`) */
  readonly path: string
}

/** A row the query links to without proving its tenant: the extension looks it up (references: 'verify'). */
export interface ReferenceCheck {
  /** the referenced (guarded) model */
  readonly model: string
  /** the row(s) to look up: a connect's unique filter, or the foreign key's referenced values */
  readonly where: Readonly<Record<string, unknown>>
  /** for a foreign key: the referenced fields and values (a row that does not exist is unverified) */
  readonly key?: { readonly fields: readonly string[]; readonly values: readonly unknown[] }
  /** the model a wrong answer exposes, when not the referenced one (a row moved by its own tenant source) */
  readonly blame?: string
  readonly path: string
}

export interface Inspection {
  readonly findings: readonly Finding[]
  readonly references: readonly ReferenceCheck[]
  /** the tenant the query was judged against: the request's, or outside a request the one the query names */
  readonly tenant: unknown
}

/** A primitive tenant value the query pins, CONFLICT when it names several, undefined when none. */
type Pin = string | number | bigint | typeof CONFLICT | undefined
const CONFLICT = Symbol('several tenants')
/** Outside a request, a create of the tenant model makes a tenant that no existing row belongs to. */
export const NEW_TENANT = Symbol('a tenant this query creates')

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
const NONE: readonly never[] = Object.freeze([])
const MAX_FINDINGS = 10

export function sameTenant(a: unknown, b: unknown): boolean {
  if (typeof a === 'symbol' || typeof b === 'symbol') return false
  return a === b || String(a) === String(b)
}

function isTenantValue(v: unknown): v is string | number | bigint {
  const t = typeof v
  return t === 'number' || t === 'string' || t === 'bigint'
}

/** Both pins must hold (AND): agreeing pins stay, differing ones match nothing but name two tenants. */
function conj(a: Pin, b: Pin): Pin {
  if (a === undefined) return b
  if (b === undefined) return a
  if (a === CONFLICT || b === CONFLICT) return CONFLICT
  return sameTenant(a, b) ? a : CONFLICT
}

/** A scalar filter on the tenant field: `1`, `{ equals: 1 }`, `{ in: [1] }`. Never `not`, ranges, null, undefined. */
function pinOfFieldFilter(value: unknown): Pin {
  if (isTenantValue(value)) return value
  if (!isObj(value)) return undefined
  // Case-insensitive equality can match another tenant's id that differs in case.
  if (value.mode === 'insensitive') return undefined
  let pin: Pin = isTenantValue(value.equals) ? value.equals : undefined
  const list = value.in
  if (Array.isArray(list) && list.length > 0) {
    let listPin: Pin = isTenantValue(list[0]) ? list[0] : undefined
    for (let i = 1; i < list.length && listPin !== undefined; i++) listPin = isTenantValue(list[i]) ? conj(listPin, list[i] as Pin) : undefined
    // `in: [1, 2]` spans two tenants: not scoped to one.
    if (listPin === CONFLICT) return CONFLICT
    pin = conj(pin, listPin)
  }
  return pin
}

/** The inner filter of a to-one relation filter that can pin: `{ is: X }` or the bare form; never `isNot`. */
function toOneInner(rel: unknown): unknown {
  if (!isObj(rel)) return undefined
  if (rel.is !== undefined) return rel.is
  if (rel.isNot !== undefined) return undefined
  return rel
}

/** The tenant a `where` (or where-unique) input pins for rows of model p. */
export function pinOfWhere(where: unknown, p: ModelPolicy): Pin {
  if (!isObj(where)) return undefined
  let pin: Pin
  if (p.kind === 'field' || p.kind === 'root') {
    pin = pinOfFieldFilter(where[p.field])
    for (const key of p.tenantKeys) {
      const compound = where[key]
      if (isObj(compound)) pin = conj(pin, pinOfFieldFilter(compound[p.field]))
    }
    if (p.tenantTarget !== undefined && where[p.tenantRelation!] !== undefined) {
      // `tenant: { id: 1 }` / `tenant: { is: { id: 1 } }`: the tenant relation pins its key field.
      pin = conj(pin, pinOfWhere(toOneInner(where[p.tenantRelation!]), p.tenantTarget))
    }
  } else if (p.kind === 'relation' && p.target) {
    const rel = where[p.via]
    if (rel !== undefined) pin = pinOfWhere(toOneInner(rel), p.target)
  }
  const and = where.AND
  if (Array.isArray(and)) for (const c of and) pin = conj(pin, pinOfWhere(c, p))
  else if (isObj(and)) pin = conj(pin, pinOfWhere(and, p))
  const or = where.OR
  if (Array.isArray(or) && or.length > 0) {
    // Every branch must pin, or one branch can read any tenant.
    let orPin: Pin = pinOfWhere(or[0], p)
    for (let i = 1; i < or.length && orPin !== undefined; i++) {
      const b = pinOfWhere(or[i], p)
      orPin = b === undefined ? undefined : conj(orPin, b)
    }
    pin = conj(pin, orPin)
  }
  return pin
}

// ---- the walk ---------------------------------------------------------------------------------

/**
 * The state of one inspection. inspect() is synchronous and never re-entered, so one module-level
 * object is reset per call: a query that is proven allocates nothing.
 */
const W = {
  policy: undefined as unknown as Policy,
  /** T: the request's tenant; outside a request, undefined until the query names one */
  tenant: undefined as unknown,
  /** T came from the request context */
  fixed: false,
  findings: undefined as Finding[] | undefined,
  refs: undefined as ReferenceCheck[] | undefined,
}

function missing(p: ModelPolicy): ViolationKind {
  return p.kind === 'relation' ? 'missing_relation_filter' : 'missing_tenant_id'
}

function report(model: { readonly name: string; readonly severity: Severity }, violation: ViolationKind, path: string, pin?: Pin): false {
  const list = (W.findings ??= [])
  if (list.length < MAX_FINDINGS) {
    const named = pin !== undefined && pin !== CONFLICT ? { queryTenantIds: [String(pin)] } : undefined
    list.push({ model: model.name, severity: model.severity, violation, path, ...named })
  }
  return false
}

/** A pinned tenant must be T (outside a request the first pin becomes T). */
function judgePin(p: ModelPolicy, pin: Pin, path: string, missingKind: ViolationKind): boolean {
  if (pin === undefined) return report(p, missingKind, path)
  if (pin === CONFLICT) return report(p, 'tenant_mismatch', path)
  if (W.tenant === undefined && !W.fixed) {
    W.tenant = pin
    return true
  }
  return sameTenant(pin, W.tenant) || report(p, 'tenant_mismatch', path, pin)
}

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`)
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : v === undefined ? NONE : [v])

/**
 * Inspect one query. Returns null when every guarded row it touches is proven the tenant's (or
 * it touches none), else its violations and the references only a lookup can prove.
 * `tenantId` is the request's tenant (undefined outside a request: the query must then name
 * exactly one tenant, which plays the request's part).
 */
export function inspect(policy: Policy, model: string | undefined, operation: string, args: unknown, tenantId: unknown): Inspection | null {
  if (model === undefined) {
    if (RAW_OPERATIONS.has(operation)) return policy.rawPolicy === 'allow' ? null : single(policy, 'raw_query', tenantId)
    return single(policy, 'unknown_operation', tenantId)
  }
  const p = policy.models.get(model)
  if (p === undefined) return null
  if (MODEL_RAW_OPERATIONS.has(operation)) return policy.rawPolicy === 'allow' ? null : single(policy, 'raw_query', tenantId)
  if (!p.guarded && !p.reachesTenantData) return null

  W.policy = policy
  W.fixed = tenantId !== undefined && tenantId !== null
  W.tenant = W.fixed ? tenantId : undefined
  W.findings = undefined
  W.refs = undefined
  const a = isObj(args) ? args : {}
  if (READ_OPERATIONS.has(operation)) read(p, a)
  else if (CREATE_OPERATIONS.has(operation)) create(p, a)
  else if (UPDATE_OPERATIONS.has(operation)) update(p, a)
  else if (DELETE_OPERATIONS.has(operation)) remove(p, a)
  else if (operation === UPSERT_OPERATION) upsert(p, a)
  else report(p.guarded ? p : firstGuarded(policy, p), 'unknown_operation', '')
  const findings = W.findings
  const refs = W.refs
  W.findings = undefined
  W.refs = undefined
  if (findings === undefined && refs === undefined) return null
  return { findings: findings ?? NONE, references: refs ?? NONE, tenant: W.tenant }
}

function single(policy: Policy, violation: ViolationKind, tenantId: unknown): Inspection {
  return { findings: [{ model: '$raw', severity: policy.rawSeverity, violation, path: '' }], references: NONE, tenant: tenantId }
}

/** The guarded model a global model's unknown operation could reach, to name it in the finding. */
function firstGuarded(policy: Policy, p: ModelPolicy): ModelPolicy {
  for (const r of p.relations.values()) {
    const t = policy.models.get(r.target)!
    if (t.guarded) return t
  }
  return policy.models.get(p.dependents[0]!) ?? p
}

function read(p: ModelPolicy, a: Obj): void {
  const proven = p.guarded && judgePin(p, pinOfWhere(a.where, p), 'where', missing(p))
  walkWhere(a.where, p, proven, 'where')
  walkCursor(a.cursor, p, 'cursor')
  walkOrderBy(a.orderBy, p, proven, 'orderBy')
  walkSelection(a, p, proven, '')
}

function remove(p: ModelPolicy, a: Obj): void {
  const proven = p.guarded && judgePin(p, pinOfWhere(a.where, p), 'where', missing(p))
  walkWhere(a.where, p, proven, 'where')
  if (!proven) cascade(p, 'where')
  walkSelection(a, p, proven, '')
}

function update(p: ModelPolicy, a: Obj): void {
  const proven = p.guarded && judgePin(p, pinOfWhere(a.where, p), 'where', missing(p))
  walkWhere(a.where, p, proven, 'where')
  walkUpdateData(a.data, p, proven, 'data')
  walkSelection(a, p, proven, '')
}

function upsert(p: ModelPolicy, a: Obj): void {
  const proven = p.guarded && judgePin(p, pinOfWhere(a.where, p), 'where', missing(p))
  walkWhere(a.where, p, proven, 'where')
  const created = createRow(a.create, p, false, 'create')
  walkUpdateData(a.update, p, proven, 'update')
  walkSelection(a, p, proven && created, '')
}

function create(p: ModelPolicy, a: Obj): void {
  let all = true
  const rows = a.data
  if (Array.isArray(rows)) {
    for (const row of rows) all = createRow(row, p, false, 'data') && all
  } else {
    all = createRow(rows, p, false, 'data')
  }
  walkSelection(a, p, all, '')
}

/** Deleting rows that are not proven reaches the guarded rows that depend on them. */
function cascade(p: ModelPolicy, path: string): void {
  for (const d of p.dependents) report(W.policy.models.get(d)!, 'unscoped_nested_write', path)
}

// ---- writes -----------------------------------------------------------------------------------

/**
 * A row being created (top level or nested). `inherited`: it is created through a relation that
 * gives it a proven parent's tenant. Proves where the row's tenant comes from, then checks its
 * other foreign keys and nested writes. Returns whether the row is proven the tenant's.
 */
function createRow(row: unknown, p: ModelPolicy, inherited: boolean, path: string): boolean {
  if (!isObj(row)) return p.guarded ? report(p, missing(p), path) : false
  let proven = false
  let source: string | undefined // the relation that is the row's tenant source, walked here
  if (p.kind === 'field' || p.kind === 'root') {
    const v = row[p.field]
    const tr = p.tenantRelation !== undefined ? row[p.tenantRelation] : undefined
    if (v !== undefined) proven = isTenantValue(v) ? judgePin(p, v, join(path, p.field), missing(p)) : report(p, missing(p), join(path, p.field))
    if (tr !== undefined) {
      source = p.tenantRelation
      const linked = linkParent(p, p.relations.get(source!)!, tr, join(path, source!))
      proven = v === undefined ? linked : proven && linked
    }
    if (v === undefined && tr === undefined) {
      if (inherited) proven = true
      else if (p.kind === 'root' && !W.fixed && W.tenant === undefined) {
        // A new tenant outside any request (a signup): what it creates inherits it.
        W.tenant = NEW_TENANT
        proven = true
      } else proven = report(p, p.kind === 'root' ? 'tenant_mismatch' : missing(p), path)
    }
  } else if (p.kind === 'relation') {
    const via = p.relations.get(p.via)!
    const ops = row[p.via]
    const key = via.fields.length > 0 ? keyValues(row, via) : undefined
    source = p.via
    if (ops === undefined && key === undefined) proven = inherited || report(p, 'missing_relation_filter', path)
    else {
      proven = true
      if (ops !== undefined) proven = linkParent(p, via, ops, join(path, p.via))
      if (key !== undefined) proven = verifyKey(via, key, path, p) && proven
    }
  }
  walkReferences(row, p, proven, path, source)
  walkNested(row, p, proven, path, source)
  return proven
}

/** The scalar values a write gives a relation's foreign key: undefined when it sets none of them. */
function keyValues(data: Obj, r: Relation): unknown[] | undefined {
  let values: unknown[] | undefined
  for (let i = 0; i < r.fields.length; i++) {
    const v = data[r.fields[i]!]
    if (v === undefined) continue
    ;(values ??= new Array<unknown>(r.fields.length).fill(undefined))[i] = isObj(v) && 'set' in v ? v.set : v
  }
  return values
}

/**
 * A foreign key value tuple must point at a row of the tenant: looked up, or reported. `blame`:
 * the model a wrong answer exposes — the written row's own when the key is its tenant source
 * (a token moved to another tenant's user), else the referenced one (a role of another tenant).
 */
function verifyKey(r: Relation, values: unknown[], path: string, blame: ModelPolicy | undefined): boolean {
  const target = W.policy.models.get(r.target)!
  const who = blame ?? target
  if (values.every((v) => v === null)) return true // unlinking
  const at = join(path, r.fields.join('+'))
  if (values.some((v) => !isTenantValue(v))) return report(who, 'unverified_reference', at)
  if (W.tenant === NEW_TENANT) return report(who, 'tenant_mismatch', at)
  if (W.policy.references === 'violation') return report(who, 'unverified_reference', at)
  const where: Obj = {}
  for (let i = 0; i < r.references.length; i++) where[r.references[i]!] = values[i]
  ;(W.refs ??= []).push({ model: target.name, blame: blame?.name, where, key: { fields: r.references, values }, path: at })
  return true
}

/**
 * An existing row linked by a unique filter (`connect`, `set`, `connectOrCreate.where`) is the
 * tenant's. `blame` as in verifyKey: the linking row's model when the link is its tenant source.
 */
function linkRow(target: ModelPolicy, unique: unknown, path: string, blame?: ModelPolicy): boolean {
  const who = blame ?? target
  if (!isObj(unique)) return report(who, 'unscoped_nested_write', path)
  const pin = pinOfWhere(unique, target)
  let ok: boolean
  if (pin !== undefined) ok = judgePin(who, pin, path, 'unscoped_nested_write')
  else if (W.tenant === NEW_TENANT) ok = report(who, 'tenant_mismatch', path)
  else if (W.policy.references === 'violation') ok = report(who, 'unverified_reference', path)
  else {
    ;(W.refs ??= []).push({ model: target.name, blame: blame?.name, where: flattenUnique(unique, target), path })
    ok = true
  }
  walkWhere(unique, target, ok, path)
  return ok
}

/** A where-unique input as a plain where: compound keys (`tenantId_email: {…}`) spread into their fields. */
function flattenUnique(unique: Obj, p: ModelPolicy): Obj {
  let out: Obj | undefined
  for (const key in unique) {
    const v = unique[key]
    if (key.includes('_') && isObj(v) && !p.relations.has(key) && !isScalarFilter(v)) {
      out ??= { ...unique }
      delete out[key]
      Object.assign(out, v)
    }
  }
  return out ?? unique
}

const FILTER_KEYS = new Set(['equals', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte', 'not', 'contains', 'startsWith', 'endsWith', 'mode', 'search'])
function isScalarFilter(v: Obj): boolean {
  for (const k in v) if (FILTER_KEYS.has(k)) return true
  return false
}

/** The to-one ops of a create that say where row p's parent (or tenant) is: connect, create, connectOrCreate. */
function linkParent(p: ModelPolicy, r: Relation, ops: unknown, path: string): boolean {
  const target = W.policy.models.get(r.target)!
  if (!isObj(ops)) return report(p, missing(p), path)
  let any = false
  let ok = true
  if (ops.connect !== undefined) {
    any = true
    ok = linkRow(target, ops.connect, join(path, 'connect'), p) && ok
  }
  if (ops.create !== undefined) {
    any = true
    ok = createRow(ops.create, target, false, join(path, 'create')) && ok
  }
  if (ops.connectOrCreate !== undefined) {
    any = true
    const c = isObj(ops.connectOrCreate) ? ops.connectOrCreate : {}
    ok = linkRow(target, c.where, join(path, 'connectOrCreate.where'), p) && ok
    ok = createRow(c.create, target, false, join(path, 'connectOrCreate.create')) && ok
  }
  for (const key in ops) {
    if (key !== 'connect' && key !== 'create' && key !== 'connectOrCreate' && ops[key] !== undefined) {
      ok = report(target, 'unknown_operation', join(path, key))
    }
  }
  return any ? ok : report(p, missing(p), path)
}

/** Foreign keys a write sets on p's row(s): each must point at a row of the tenant. */
function walkReferences(data: Obj, p: ModelPolicy, rowsProven: boolean, path: string, source: string | undefined): void {
  for (const r of p.references) {
    if (r.name === source) continue
    const values = keyValues(data, r)
    if (values === undefined) continue
    // A composite key with the tenant field: the database keeps both rows in the row's tenant.
    if (r.tenantBound && rowsProven) continue
    if (values.some((v) => v === undefined)) {
      report(r.name === p.via ? p : W.policy.models.get(r.target)!, 'unverified_reference', join(path, r.fields.join('+')))
      continue
    }
    // Re-pointing the row's own tenant source moves the row: it is the row's model that leaks.
    verifyKey(r, values, path, r.name === p.via ? p : undefined)
  }
}

/** Update data of p's rows: the tenant never moves, references point inside it, nested writes are checked. */
function walkUpdateData(data: unknown, p: ModelPolicy, rowsProven: boolean, path: string): void {
  if (!isObj(data)) return
  if (p.kind === 'field' || p.kind === 'root') {
    const v = data[p.field]
    if (v !== undefined) {
      const to = isObj(v) && Object.keys(v).length === 1 && 'set' in v ? v.set : v
      if (!isTenantValue(to)) report(p, 'tenant_mismatch', join(path, p.field))
      else judgePin(p, to, join(path, p.field), 'tenant_mismatch')
    }
  } else if (!p.guarded && p.dependents.length > 0) {
    // Re-keying a global row cascades into every tenant's rows that reference it.
    for (const d of p.dependents) {
      const dep = W.policy.models.get(d)!
      for (const r of dep.references) {
        if (r.target === p.name && r.references.some((f) => data[f] !== undefined)) report(dep, 'unscoped_nested_write', path)
      }
    }
  }
  walkReferences(data, p, rowsProven, path, undefined)
  walkNested(data, p, rowsProven, path, undefined)
}

/** Relation keys in create or update data: nested writes on each relation. */
function walkNested(data: Obj, p: ModelPolicy, rowsProven: boolean, path: string, source: string | undefined): void {
  if (p.relations.size === 0) return
  for (const key in data) {
    if (key === source) continue
    const r = p.relations.get(key)
    const ops = data[key]
    if (r === undefined || ops === undefined) continue
    // Linking through the row's own tenant source (its `via` or tenant relation) moves the row.
    const blame = key === p.via || key === p.tenantRelation ? p : undefined
    nestedOps(r, ops, rowsProven, join(path, key), blame)
  }
}

/** Nested operations on relation r of parent rows (proven or not). */
function nestedOps(r: Relation, ops: unknown, parentProven: boolean, path: string, blame: ModelPolicy | undefined): void {
  const b = W.policy.models.get(r.target)!
  if (!isObj(ops)) return
  const inherit = parentProven && r.inherits
  for (const op in ops) {
    const v = ops[op]
    if (v === undefined) continue
    const at = join(path, op)
    switch (op) {
      case 'create':
        for (const row of list(v)) if (createRow(row, b, inherit, at) === false && blame) report(blame, 'tenant_mismatch', at)
        break
      case 'createMany':
        for (const row of list(isObj(v) ? v.data : undefined)) createRow(row, b, inherit, at)
        break
      case 'connect':
      case 'set':
        // set first unlinks every current row: those must be the tenant's too.
        if (op === 'set' && b.guarded && !parentProven) report(b, 'unscoped_nested_write', at)
        for (const u of list(v)) {
          if (b.guarded) linkRow(b, u, at, blame)
          else walkWhere(u, b, false, at)
        }
        break
      case 'connectOrCreate':
        for (const c of list(v)) {
          const o = isObj(c) ? c : {}
          if (b.guarded) linkRow(b, o.where, join(at, 'where'), blame)
          else walkWhere(o.where, b, false, join(at, 'where'))
          createRow(o.create, b, inherit, join(at, 'create'))
        }
        break
      case 'disconnect':
      case 'delete':
        for (const u of list(v)) {
          const own = isObj(u) && b.guarded && pinOfWhere(u, b) !== undefined && judgePin(b, pinOfWhere(u, b), at, 'unscoped_nested_write')
          if (b.guarded && !parentProven && !own) report(b, 'unscoped_nested_write', at)
          if (isObj(u)) walkWhere(u, b, parentProven || own, at)
          if (op === 'delete' && !(b.guarded && (parentProven || own))) cascade(b, at)
        }
        break
      case 'deleteMany':
        for (const u of list(v)) {
          const proven = rowsReached(b, u, parentProven, at)
          walkWhere(u, b, proven, at)
          if (!proven) cascade(b, at)
        }
        break
      case 'update':
      case 'updateMany':
        for (const item of list(v)) {
          for (const [where, data] of splitWhereData(item, r, b, op === 'updateMany')) {
            const proven = rowsReached(b, where, parentProven, at)
            walkWhere(where, b, proven, at)
            walkUpdateData(data, b, proven, join(at, 'data'))
          }
        }
        break
      case 'upsert':
        for (const item of list(v)) {
          const o = isObj(item) ? item : {}
          const proven = rowsReached(b, o.where, parentProven, at)
          walkWhere(o.where, b, proven, at)
          createRow(o.create, b, inherit, join(at, 'create'))
          walkUpdateData(o.update, b, proven, join(at, 'update'))
        }
        break
      default:
        report(b.guarded ? b : firstGuarded(W.policy, b), 'unknown_operation', at)
    }
  }
}

/**
 * Rows an existing-row nested operation acts on: the parent's linked rows (proven when the parent
 * is), narrowed by its own filter (which may pin the tenant itself under an unproven parent).
 */
function rowsReached(b: ModelPolicy, where: unknown, parentProven: boolean, path: string): boolean {
  if (!b.guarded || parentProven) return parentProven
  const pin = pinOfWhere(where, b)
  return pin !== undefined ? judgePin(b, pin, path, 'unscoped_nested_write') : report(b, 'unscoped_nested_write', path)
}

/**
 * A nested update item as (where, data) pairs. To-many: `{ where, data }`. To-one: the data itself,
 * or `{ where?, data }`; when the target has a field named `data` both readings are checked.
 */
function splitWhereData(item: unknown, r: Relation, b: ModelPolicy, many: boolean): Array<[unknown, unknown]> {
  if (!isObj(item)) return []
  if (r.isList || many) return [[item.where, item.data]]
  if (!isObj(item.data)) return [[undefined, item]]
  if (b.relations.has('data') || b.scalars.has('data')) return [[item.where, item.data], [undefined, item]]
  return [[item.where, item.data]]
}

// ---- reads and filters ------------------------------------------------------------------------

/** Relation filters anywhere in a where tree: from unproven rows they must pin the tenant themselves. */
function walkWhere(where: unknown, p: ModelPolicy, proven: boolean, path: string): void {
  if (!isObj(where) || p.relations.size === 0) return
  for (const key in where) {
    const v = where[key]
    if (v === undefined) continue
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      for (const c of list(v)) walkWhere(c, p, proven, path)
      continue
    }
    const r = p.relations.get(key)
    if (r !== undefined) relationFilter(r, v, proven, join(path, key))
  }
}

const RELATION_FILTER_OPS = ['some', 'every', 'none', 'is', 'isNot'] as const

function relationFilter(r: Relation, v: unknown, proven: boolean, path: string): void {
  const b = W.policy.models.get(r.target)!
  if (v === null) {
    if (b.guarded && !proven) report(b, 'unscoped_relation_filter', path)
    return
  }
  if (!isObj(v)) return
  let operator = false
  for (const op of RELATION_FILTER_OPS) {
    const inner = v[op]
    if (inner === undefined) continue
    operator = true
    filterThrough(b, inner, op, proven, path)
  }
  if (!operator) filterThrough(b, v, 'is', proven, path)
}

function filterThrough(b: ModelPolicy, inner: unknown, op: string, proven: boolean, path: string): void {
  if (!b.guarded) return walkWhere(inner, b, false, path)
  if (proven) return walkWhere(inner, b, true, path)
  // From an unproven or global row the filter reaches every tenant's rows: it must pin the tenant,
  // and `every`/`isNot`/`null` answer for rows outside any pin.
  if (op === 'every' || op === 'isNot' || !isObj(inner)) {
    report(b, 'unscoped_relation_filter', path)
    return walkWhere(inner, b, false, path)
  }
  const ok = judgePin(b, pinOfWhere(inner, b), path, 'unscoped_relation_filter')
  walkWhere(inner, b, ok, path)
}

/** Sorting by a relation's field or count reveals the related rows: from an unproven row, every tenant's. */
function walkOrderBy(orderBy: unknown, p: ModelPolicy, proven: boolean, path: string): void {
  if (orderBy === undefined || p.relations.size === 0) return
  for (const o of list(orderBy)) {
    if (!isObj(o)) continue
    for (const key in o) {
      const r = p.relations.get(key)
      if (r === undefined || o[key] === undefined) continue
      const b = W.policy.models.get(r.target)!
      if (b.guarded && !proven) {
        report(b, 'unscoped_relation_filter', join(path, key))
        continue
      }
      walkOrderBy(o[key], b, b.guarded && proven, join(path, key))
    }
  }
}

/** Prisma looks a cursor row up by its unique key alone: it must pin the tenant itself. */
function walkCursor(cursor: unknown, p: ModelPolicy, path: string): void {
  if (cursor === undefined || !p.guarded) return
  judgePin(p, pinOfWhere(cursor, p), path, missing(p))
}

/** include/select (and _count): relations read from p's rows. */
function walkSelection(args: Obj, p: ModelPolicy, proven: boolean, path: string): void {
  if (p.relations.size === 0) return
  selection(args.include, p, proven, path)
  selection(args.select, p, proven, path)
}

function selection(sel: unknown, p: ModelPolicy, proven: boolean, path: string): void {
  if (!isObj(sel)) return
  for (const key in sel) {
    const v = sel[key]
    if (!v) continue
    if (key === '_count') {
      countSelection(v, p, proven, join(path, key))
      continue
    }
    const r = p.relations.get(key)
    if (r === undefined) continue
    const b = W.policy.models.get(r.target)!
    const at = join(path, key)
    const o = isObj(v) ? v : undefined
    let childProven: boolean
    if (!b.guarded) childProven = false
    else if (proven) childProven = true
    else childProven = o?.where !== undefined ? judgePin(b, pinOfWhere(o.where, b), at, 'unscoped_nested_read') : report(b, 'unscoped_nested_read', at)
    if (o !== undefined) {
      walkWhere(o.where, b, childProven, join(at, 'where'))
      walkCursor(o.cursor, b, join(at, 'cursor'))
      walkOrderBy(o.orderBy, b, childProven, join(at, 'orderBy'))
      walkSelection(o, b, childProven, at)
    }
  }
}

/** `_count: true` counts every relation; `_count: { select: { rel: { where } } }` one, with its own filter. */
function countSelection(v: unknown, p: ModelPolicy, proven: boolean, path: string): void {
  if (v === true) {
    if (proven) return
    for (const r of p.relations.values()) {
      const b = W.policy.models.get(r.target)!
      if (b.guarded) report(b, 'unscoped_nested_read', join(path, r.name))
    }
    return
  }
  const sel = isObj(v) ? v.select : undefined
  if (!isObj(sel)) return
  for (const key in sel) {
    const val = sel[key]
    const r = p.relations.get(key)
    if (!val || r === undefined) continue
    const b = W.policy.models.get(r.target)!
    const where = isObj(val) ? val.where : undefined
    const at = join(path, key)
    let childProven: boolean
    if (!b.guarded) childProven = false
    else if (proven) childProven = true
    else childProven = where !== undefined ? judgePin(b, pinOfWhere(where, b), at, 'unscoped_nested_read') : report(b, 'unscoped_nested_read', at)
    walkWhere(where, b, childProven, at)
  }
}
