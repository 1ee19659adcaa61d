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
  /**
   * For a link between two rows (a connect, a foreign key): the model at the other end. A link
   * across tenants exposes both ends, so the flags of both decide (selective mode).
   */
  readonly linked?: string
  /**
   * What the reader needs to fix it, in words and without a value: for a row owned through a
   * relation, the owner relation, and whether the row belongs to no tenant yet.
   */
  readonly detail?: string
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
  /** the model at the other end of the link (see Finding.linked) */
  readonly linked?: string
  /**
   * A unique key the write sets (`id: 'd_b1'`): a row of another tenant holding it would answer
   * with a unique-constraint error, telling that it exists. Found in another tenant: a mismatch;
   * not found or the tenant's own: nothing to say. `create`: the row is created by this query (a
   * later query of the same batch transaction may reference it).
   */
  readonly collision?: 'create' | 'update'
}

export interface Inspection {
  readonly findings: readonly Finding[]
  readonly references: readonly ReferenceCheck[]
  /** the tenant the query was judged against: the request's, or outside a request the one the query names */
  readonly tenant: unknown
  /**
   * The query creates, at its top level, rows of a model owned through a back-side `via` that no
   * owner links yet: they belong to no tenant, and the extension remembers their keys so that this
   * request (or transaction) alone may link them to an owner.
   */
  readonly unownedCreate?: true
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
    for (const b of p.boundRelations) {
      // A foreign key that includes the tenant field: a row whose related row is T's is T's.
      const rel = where[b.name]
      if (rel !== undefined && rel !== null) pin = conj(pin, pinOfWhere(toOneInner(rel), b.target))
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
 * object is reset per call, and the path into the arguments is a stack of keys joined only when a
 * finding is written: a query that is proven allocates nothing.
 */
const W = {
  policy: undefined as unknown as Policy,
  /** T: the request's tenant; outside a request, undefined until the query names one */
  tenant: undefined as unknown,
  /** T came from the request context */
  fixed: false,
  findings: undefined as Finding[] | undefined,
  refs: undefined as ReferenceCheck[] | undefined,
  /** see Inspection.unownedCreate */
  unowned: false,
  /** the operation is a create/createMany(AndReturn): its rows are the top-level ones */
  topCreate: false,
  /** createRow calls in progress (0: the next one is a top-level row when topCreate) */
  rowDepth: 0,
}
const PATH: string[] = []
const enter = (key: string): void => void PATH.push(key)
const leave = (): void => void PATH.pop()
const here = (): string => PATH.join('.')

function missing(p: ModelPolicy): ViolationKind {
  return p.kind === 'relation' ? 'missing_relation_filter' : 'missing_tenant_id'
}

function report(model: { readonly name: string; readonly severity: Severity }, violation: ViolationKind, pin?: Pin, linked?: string): false {
  const list = (W.findings ??= [])
  if (list.length < MAX_FINDINGS) {
    const named = pin !== undefined && pin !== CONFLICT ? { queryTenantIds: [String(pin)] } : undefined
    list.push({ model: model.name, severity: model.severity, violation, path: here(), ...named, ...(linked !== undefined && linked !== model.name ? { linked } : undefined) })
  }
  return false
}

/** report() at path + key */
function reportAt(key: string, model: ModelPolicy, violation: ViolationKind): false {
  enter(key)
  report(model, violation)
  leave()
  return false
}

/** A pinned tenant must be T (outside a request the first pin becomes T). `linked`: see Finding.linked. */
function judgePin(p: ModelPolicy, pin: Pin, missingKind: ViolationKind, linked?: string): boolean {
  if (pin === undefined) return report(p, missingKind, undefined, linked)
  if (pin === CONFLICT) return report(p, 'tenant_mismatch', undefined, linked)
  if (W.tenant === undefined && !W.fixed) {
    W.tenant = pin
    return true
  }
  return sameTenant(pin, W.tenant) || report(p, 'tenant_mismatch', pin, linked)
}

/** A top-level create of the tenant model inside a request that config tenant.createInRequest allows. */
const newTenantInRequest = (top: boolean): boolean => top && W.fixed && W.policy.createInRequest === 'allow'

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
  W.unowned = false
  W.topCreate = CREATE_OPERATIONS.has(operation)
  W.rowDepth = 0
  const a = isObj(args) ? args : {}
  const walk = WALKS.get(operation)
  try {
    if (walk !== undefined) walk(p, a)
    else report(p.guarded ? p : firstGuarded(policy, p), 'unknown_operation')
  } finally {
    // enter/leave pair up; only a throw leaves keys behind (writing length costs a runtime call)
    if (PATH.length !== 0) PATH.length = 0
  }
  const findings = W.findings
  const refs = W.refs
  W.findings = undefined
  W.refs = undefined
  if (findings === undefined && refs === undefined && !W.unowned) return null
  return { findings: findings ?? NONE, references: refs ?? NONE, tenant: W.tenant, ...(W.unowned ? { unownedCreate: true as const } : undefined) }
}

/** The walk of each model operation (one lookup on the hot path). */
const WALKS: ReadonlyMap<string, (p: ModelPolicy, a: Obj) => void> = new Map([
  ...[...READ_OPERATIONS].map((op) => [op, read] as const),
  ...[...CREATE_OPERATIONS].map((op) => [op, create] as const),
  ...[...UPDATE_OPERATIONS].map((op) => [op, update] as const),
  ...[...DELETE_OPERATIONS].map((op) => [op, remove] as const),
  [UPSERT_OPERATION, upsert] as const,
])

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

/** The top-level `where` of a read, update or delete: proven when it pins the tenant. */
function topWhere(p: ModelPolicy, where: unknown): boolean {
  enter('where')
  const proven = p.guarded && judgePin(p, pinOfWhere(where, p), missing(p))
  walkWhere(where, p, proven)
  leave()
  return proven
}

function read(p: ModelPolicy, a: Obj): void {
  const proven = topWhere(p, a.where)
  walkCursor(a.cursor, p)
  walkOrderBy(a.orderBy, p, proven)
  walkSelection(a, p, proven)
}

function remove(p: ModelPolicy, a: Obj): void {
  const proven = topWhere(p, a.where)
  if (!proven) cascade(p)
  walkSelection(a, p, proven)
}

function update(p: ModelPolicy, a: Obj): void {
  const proven = topWhere(p, a.where)
  enter('data')
  walkUpdateData(a.data, p, proven)
  leave()
  walkSelection(a, p, proven)
}

function upsert(p: ModelPolicy, a: Obj): void {
  const proven = topWhere(p, a.where)
  enter('create')
  const created = createRow(a.create, p, false)
  leave()
  enter('update')
  walkUpdateData(a.update, p, proven)
  leave()
  walkSelection(a, p, proven && created)
}

function create(p: ModelPolicy, a: Obj): void {
  let all = true
  const rows = a.data
  enter('data')
  if (Array.isArray(rows)) {
    for (const row of rows) all = createRow(row, p, false) && all
  } else {
    all = createRow(rows, p, false)
  }
  leave()
  walkSelection(a, p, all)
}

/** Deleting rows that are not proven reaches the guarded rows that depend on them. */
function cascade(p: ModelPolicy): void {
  for (const d of p.dependents) report(W.policy.models.get(d)!, 'unscoped_nested_write')
}

// ---- writes -----------------------------------------------------------------------------------

/**
 * A row being created (top level or nested). `inherited`: it is created through a relation that
 * gives it a proven parent's tenant. Proves where the row's tenant comes from, then checks its
 * other foreign keys and nested writes. Returns whether the row is proven the tenant's.
 */
function createRow(row: unknown, p: ModelPolicy, inherited: boolean): boolean {
  if (!isObj(row)) return p.guarded ? report(p, missing(p)) : false
  // A row of the create operation itself (not nested): where a new tenant or an unowned row may start.
  const top = W.topCreate && W.rowDepth === 0
  W.rowDepth++
  let proven = false
  let source: string | undefined // the relation that is the row's tenant source, walked here
  if (p.kind === 'field' || p.kind === 'root') {
    const v = row[p.field]
    const tr = p.tenantRelation !== undefined ? row[p.tenantRelation] : undefined
    if (v !== undefined) {
      const fresh = p.kind === 'root' && isTenantValue(v) && newTenantInRequest(top) && (W.tenant === NEW_TENANT || !sameTenant(v, W.tenant))
      enter(p.field)
      if (fresh) {
        // A new tenant whose id the app chose: an existing tenant's id would answer with a unique-key
        // error (telling that it exists), so it is looked up, and found it is a mismatch.
        W.tenant = NEW_TENANT
        ;(W.refs ??= []).push({ model: p.name, where: { [p.field]: v }, key: { fields: [p.field], values: [v] }, path: here(), collision: 'create' })
        proven = true
      } else proven = isTenantValue(v) ? judgePin(p, v, missing(p)) : report(p, missing(p))
      leave()
    }
    if (tr !== undefined) {
      source = p.tenantRelation!
      enter(source)
      const linked = linkParent(p, p.relations.get(source)!, tr)
      leave()
      proven = v === undefined ? linked : proven && linked
    }
    if (v === undefined && tr === undefined) {
      if (inherited) proven = true
      else if (p.kind === 'root' && ((!W.fixed && W.tenant === undefined) || newTenantInRequest(top))) {
        // A new tenant outside any request (a signup), or inside one (a signed-in user creates a
        // team; config tenant.createInRequest): what it creates inherits it, nothing existing may join it.
        W.tenant = NEW_TENANT
        proven = true
      } else proven = report(p, p.kind === 'root' ? 'tenant_mismatch' : missing(p))
    }
  } else if (p.kind === 'relation') {
    const via = p.relations.get(p.via)!
    const ops = row[p.via]
    const key = via.fields.length > 0 ? keyValues(row, via) : undefined
    source = p.via
    if (ops === undefined && key === undefined) {
      // A row owned through a back-side `via` may exist before its owner (created first, then the
      // owner takes its key): it belongs to no tenant until then, and only its creator may link it.
      if (inherited) proven = true
      else if (p.viaBack) {
        if (top) W.unowned = true
        proven = true
      } else proven = report(p, 'missing_relation_filter')
    }
    else {
      proven = true
      if (ops !== undefined) {
        enter(p.via)
        proven = linkParent(p, via, ops)
        leave()
      }
      if (key !== undefined) proven = verifyKey(via, key, p, p) && proven
    }
  }
  if (p.crossTenantKeys.length > 0) collisionKeys(row, p, 'create')
  walkReferences(row, p, proven, source)
  walkNested(row, p, proven, source)
  W.rowDepth--
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
function verifyKey(r: Relation, values: unknown[], blame: ModelPolicy | undefined, holder: ModelPolicy): boolean {
  const target = W.policy.models.get(r.target)!
  const who = blame ?? target
  const linked = blame ? target.name : holder.name
  if (values.every((v) => v === null)) return true // unlinking
  enter(r.fields.join('+'))
  let ok = true
  if (values.some((v) => !isTenantValue(v))) ok = report(who, 'unverified_reference', undefined, linked)
  else if (W.tenant === NEW_TENANT && !target.viaBack) ok = report(who, 'tenant_mismatch', undefined, linked)
  else if (W.policy.references === 'violation') ok = report(who, 'unverified_reference', undefined, linked)
  else {
    const where: Obj = {}
    for (let i = 0; i < r.references.length; i++) where[r.references[i]!] = values[i]
    ;(W.refs ??= []).push({ model: target.name, blame: blame?.name, linked, where, key: { fields: r.references, values }, path: here() })
  }
  leave()
  return ok
}

/**
 * Unique keys a write sets that do not hold the tenant (`id: 'd_b1'`): another tenant's row with
 * the same key would answer with a unique-constraint error. Looked up (references: 'verify').
 */
function collisionKeys(data: Obj, p: ModelPolicy, kind: 'create' | 'update'): void {
  if (W.policy.references !== 'verify' || W.tenant === NEW_TENANT) return
  for (const key of p.crossTenantKeys) {
    let values: unknown[] | undefined
    for (let i = 0; i < key.length; i++) {
      let v = data[key[i]!]
      if (isObj(v) && Object.keys(v).length === 1 && 'set' in v) v = v.set
      if (!isTenantValue(v)) {
        values = undefined
        break
      }
      ;(values ??= new Array<unknown>(key.length))[i] = v
    }
    if (values === undefined) continue
    const where: Obj = {}
    for (let i = 0; i < key.length; i++) where[key[i]!] = values[i]
    enter(key.join('+'))
    ;(W.refs ??= []).push({ model: p.name, where, key: { fields: key, values }, path: here(), collision: kind })
    leave()
  }
}

/**
 * An existing row linked by a unique filter (`connect`, `set`, `connectOrCreate.where`) is the
 * tenant's. `blame` as in verifyKey: the linking row's model when the link is its tenant source.
 */
function linkRow(target: ModelPolicy, unique: unknown, blame: ModelPolicy | undefined, holder: ModelPolicy): boolean {
  const who = blame ?? target
  const linked = blame ? target.name : holder.name
  if (!isObj(unique)) return report(who, 'unscoped_nested_write', undefined, linked)
  const pin = pinOfWhere(unique, target)
  let ok: boolean
  if (pin !== undefined) ok = judgePin(who, pin, 'unscoped_nested_write', linked)
  // A new tenant owns nothing yet; a back-side-owned row its request created (and no owner holds) may join it.
  else if (W.tenant === NEW_TENANT && !target.viaBack) ok = report(who, 'tenant_mismatch', undefined, linked)
  else if (W.policy.references === 'violation') ok = report(who, 'unverified_reference', undefined, linked)
  else {
    const where = uniqueLookup(unique, target)
    if (where === undefined) ok = report(who, 'unverified_reference', undefined, linked)
    else {
      ;(W.refs ??= []).push({ model: target.name, blame: blame?.name, linked, where, path: here() })
      ok = true
    }
  }
  walkWhere(unique, target, ok)
  return ok
}

/**
 * How a linked row is looked up: by the unique keys its filter names, and nothing else. Its other
 * filters (`{ id: 2, isActive: false }`) would be judged on another tenant's row: a connectOrCreate
 * that connects or creates by them answers whether that row matches (an oracle), so a row with the
 * key in another tenant is a mismatch whatever else the filter says. Several keys: any of them.
 * undefined: the filter names no unique key the check can read (not provable).
 */
function uniqueLookup(unique: Obj, p: ModelPolicy): Obj | undefined {
  const flat = flattenUnique(unique, p)
  let keys: Obj[] | undefined
  for (const key of p.uniqueKeys) {
    let where: Obj | undefined = {}
    for (const f of key) {
      const v = flat[f]
      if (v === undefined || v === null || isObj(v) || Array.isArray(v)) {
        where = undefined
        break
      }
      where[f] = v
    }
    if (where !== undefined) (keys ??= []).push(where)
  }
  return keys === undefined ? undefined : keys.length === 1 ? keys[0] : { OR: keys }
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
function linkParent(p: ModelPolicy, r: Relation, ops: unknown): boolean {
  const target = W.policy.models.get(r.target)!
  if (!isObj(ops)) return report(p, missing(p))
  let any = false
  let ok = true
  for (const key in ops) {
    const v = ops[key]
    if (v === undefined) continue
    enter(key)
    if (key === 'connect') ok = linkRow(target, v, p, p) && ok
    else if (key === 'create') ok = createRow(v, target, false) && ok
    else if (key === 'connectOrCreate') {
      const c = isObj(v) ? v : {}
      enter('where')
      ok = linkRow(target, c.where, p, p) && ok
      leave()
      enter('create')
      ok = createRow(c.create, target, false) && ok
      leave()
    } else ok = report(target, 'unknown_operation')
    leave()
    any = true
  }
  return any ? ok : report(p, missing(p))
}

/** Foreign keys a write sets on p's row(s): each must point at a row of the tenant. */
function walkReferences(data: Obj, p: ModelPolicy, rowsProven: boolean, source: string | undefined): void {
  for (const r of p.references) {
    if (r.name === source) continue
    const values = keyValues(data, r)
    if (values === undefined) continue
    // A composite key with the tenant field: the database keeps both rows in the row's tenant.
    if (r.tenantBound && rowsProven) continue
    // Re-pointing the row's own tenant source moves the row: it is the row's model that leaks.
    const blame = r.name === p.via ? p : undefined
    if (values.some((v) => v === undefined)) {
      reportAt(r.fields.join('+'), blame ?? W.policy.models.get(r.target)!, 'unverified_reference')
      continue
    }
    verifyKey(r, values, blame, p)
  }
}

/** Update data of p's rows: the tenant never moves, references point inside it, nested writes are checked. */
function walkUpdateData(data: unknown, p: ModelPolicy, rowsProven: boolean): void {
  if (!isObj(data)) return
  if (p.kind === 'field' || p.kind === 'root') {
    const v = data[p.field]
    if (v !== undefined) {
      const to = isObj(v) && Object.keys(v).length === 1 && 'set' in v ? v.set : v
      enter(p.field)
      if (!isTenantValue(to)) report(p, 'tenant_mismatch')
      else judgePin(p, to, 'tenant_mismatch')
      leave()
    }
  }
  if (!p.guarded || !rowsProven) {
    // Re-keying rows that are not proven (a global row's above all) cascades into every tenant's
    // rows that reference them (Prisma's default onUpdate is Cascade; Restrict would answer with an error).
    for (const d of p.referencedBy) if (d.fields.some((f) => data[f] !== undefined)) report(W.policy.models.get(d.model)!, 'unscoped_nested_write')
  }
  if (p.crossTenantKeys.length > 0) collisionKeys(data, p, 'update')
  walkReferences(data, p, rowsProven, undefined)
  walkNested(data, p, rowsProven, undefined)
}

/** Relation keys in create or update data: nested writes on each relation. */
function walkNested(data: Obj, p: ModelPolicy, rowsProven: boolean, source: string | undefined): void {
  if (p.relations.size === 0) return
  for (const key in data) {
    if (key === source) continue
    const r = p.relations.get(key)
    const ops = data[key]
    if (r === undefined || ops === undefined) continue
    // Linking through the row's own tenant source (its `via` or tenant relation) moves the row.
    const blame = key === p.via || key === p.tenantRelation ? p : undefined
    enter(key)
    nestedOps(r, ops, rowsProven, blame, p)
    leave()
  }
}

/** Nested operations on relation r of parent rows of model `holder` (proven or not). */
function nestedOps(r: Relation, ops: unknown, parentProven: boolean, blame: ModelPolicy | undefined, holder: ModelPolicy): void {
  const b = W.policy.models.get(r.target)!
  if (!isObj(ops)) return
  const inherit = parentProven && r.inherits
  for (const op in ops) {
    const v = ops[op]
    if (v === undefined) continue
    enter(op)
    switch (op) {
      case 'create':
        for (const row of list(v)) if (!createRow(row, b, inherit) && blame) report(blame, 'tenant_mismatch')
        break
      case 'createMany':
        for (const row of list(isObj(v) ? v.data : undefined)) createRow(row, b, inherit)
        break
      case 'connect':
      case 'set':
        // set first unlinks every current row: those must be the tenant's too.
        if (op === 'set' && b.guarded && !parentProven) report(b, 'unscoped_nested_write')
        for (const u of list(v)) {
          if (b.guarded) linkRow(b, u, blame, holder)
          else walkWhere(u, b, false)
        }
        break
      case 'connectOrCreate':
        for (const c of list(v)) {
          const o = isObj(c) ? c : {}
          enter('where')
          if (b.guarded) linkRow(b, o.where, blame, holder)
          else walkWhere(o.where, b, false)
          leave()
          enter('create')
          createRow(o.create, b, inherit)
          leave()
        }
        break
      case 'disconnect':
      case 'delete':
        for (const u of list(v)) {
          const pin = isObj(u) && b.guarded ? pinOfWhere(u, b) : undefined
          const own = pin !== undefined && judgePin(b, pin, 'unscoped_nested_write')
          if (b.guarded && !parentProven && !own) report(b, 'unscoped_nested_write')
          if (isObj(u)) walkWhere(u, b, parentProven || own)
          if (op === 'delete' && !(b.guarded && (parentProven || own))) cascade(b)
        }
        break
      case 'deleteMany':
        for (const u of list(v)) {
          const proven = rowsReached(b, u, parentProven)
          walkWhere(u, b, proven)
          if (!proven) cascade(b)
        }
        break
      case 'update':
      case 'updateMany':
        for (const item of list(v)) {
          for (const [where, data] of splitWhereData(item, r, b, op === 'updateMany')) {
            const proven = rowsReached(b, where, parentProven)
            walkWhere(where, b, proven)
            enter('data')
            walkUpdateData(data, b, proven)
            leave()
          }
        }
        break
      case 'upsert':
        for (const item of list(v)) {
          const o = isObj(item) ? item : {}
          const proven = rowsReached(b, o.where, parentProven)
          walkWhere(o.where, b, proven)
          enter('create')
          createRow(o.create, b, inherit)
          leave()
          enter('update')
          walkUpdateData(o.update, b, proven)
          leave()
        }
        break
      default:
        report(b.guarded ? b : firstGuarded(W.policy, b), 'unknown_operation')
    }
    leave()
  }
}

/**
 * Rows an existing-row nested operation acts on: the parent's linked rows (proven when the parent
 * is), narrowed by its own filter (which may pin the tenant itself under an unproven parent).
 */
function rowsReached(b: ModelPolicy, where: unknown, parentProven: boolean): boolean {
  if (!b.guarded) return false
  if (parentProven) {
    namesNoOtherTenant(b, where)
    return true
  }
  const pin = pinOfWhere(where, b)
  return pin !== undefined ? judgePin(b, pin, 'unscoped_nested_write') : report(b, 'unscoped_nested_write')
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
function walkWhere(where: unknown, p: ModelPolicy, proven: boolean): void {
  if (!isObj(where) || p.relations.size === 0) return
  for (const key in where) {
    const v = where[key]
    if (v === undefined) continue
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      if (Array.isArray(v)) for (const c of v) walkWhere(c, p, proven)
      else walkWhere(v, p, proven)
      continue
    }
    const r = p.relations.get(key)
    if (r === undefined) continue
    enter(key)
    relationFilter(r, v, proven)
    leave()
  }
}

const RELATION_FILTER_OPS = ['some', 'every', 'none', 'is', 'isNot'] as const

function relationFilter(r: Relation, v: unknown, proven: boolean): void {
  const b = W.policy.models.get(r.target)!
  if (v === null) {
    if (b.guarded && !proven) report(b, 'unscoped_relation_filter')
    return
  }
  if (!isObj(v)) return
  let operator = false
  for (const op of RELATION_FILTER_OPS) {
    const inner = v[op]
    if (inner === undefined) continue
    operator = true
    filterThrough(b, inner, op, proven)
  }
  if (!operator) filterThrough(b, v, 'is', proven)
}

/** Under proven rows nothing more is needed, but a filter that names another tenant is a mismatch all the same. */
function namesNoOtherTenant(b: ModelPolicy, where: unknown): void {
  const pin = pinOfWhere(where, b)
  if (pin !== undefined) judgePin(b, pin, 'tenant_mismatch')
}

function filterThrough(b: ModelPolicy, inner: unknown, op: string, proven: boolean): void {
  if (!b.guarded) return walkWhere(inner, b, false)
  if (proven) {
    namesNoOtherTenant(b, inner)
    return walkWhere(inner, b, true)
  }
  // From an unproven or global row the filter reaches every tenant's rows: it must pin the tenant,
  // and `every`/`isNot`/`null` answer for rows outside any pin.
  if (op === 'every' || op === 'isNot' || !isObj(inner)) {
    report(b, 'unscoped_relation_filter')
    return walkWhere(inner, b, false)
  }
  const ok = judgePin(b, pinOfWhere(inner, b), 'unscoped_relation_filter')
  walkWhere(inner, b, ok)
}

/** Sorting by a relation's field or count reveals the related rows: from an unproven row, every tenant's. */
function walkOrderBy(orderBy: unknown, p: ModelPolicy, proven: boolean): void {
  if (orderBy === undefined || p.relations.size === 0) return
  if (Array.isArray(orderBy)) {
    for (const o of orderBy) walkOrderBy(o, p, proven)
    return
  }
  if (!isObj(orderBy)) return
  for (const key in orderBy) {
    const r = p.relations.get(key)
    if (r === undefined || orderBy[key] === undefined) continue
    const b = W.policy.models.get(r.target)!
    enter(key)
    if (b.guarded && !proven) report(b, 'unscoped_relation_filter')
    else walkOrderBy(orderBy[key], b, b.guarded && proven)
    leave()
  }
}

/** Prisma looks a cursor row up by its unique key alone: it must pin the tenant itself. */
function walkCursor(cursor: unknown, p: ModelPolicy): void {
  if (cursor === undefined || !p.guarded) return
  enter('cursor')
  judgePin(p, pinOfWhere(cursor, p), missing(p))
  leave()
}

/** include/select (and _count): relations read from p's rows. */
function walkSelection(args: Obj, p: ModelPolicy, proven: boolean): void {
  if (p.relations.size === 0) return
  if (args.include !== undefined) {
    enter('include')
    selection(args.include, p, proven)
    leave()
  }
  if (args.select !== undefined) {
    enter('select')
    selection(args.select, p, proven)
    leave()
  }
}

/** A to-many relation read from unproven rows needs its own `where` pinning the tenant (a to-one cannot have one). */
function provenChild(b: ModelPolicy, parentProven: boolean, where: unknown): boolean {
  if (!b.guarded) return false
  if (parentProven) {
    if (where !== undefined) namesNoOtherTenant(b, where)
    return true
  }
  return where !== undefined ? judgePin(b, pinOfWhere(where, b), 'unscoped_nested_read') : report(b, 'unscoped_nested_read')
}

function selection(sel: unknown, p: ModelPolicy, proven: boolean): void {
  if (!isObj(sel)) return
  for (const key in sel) {
    const v = sel[key]
    if (!v) continue
    if (key === '_count') {
      enter(key)
      countSelection(v, p, proven)
      leave()
      continue
    }
    const r = p.relations.get(key)
    if (r === undefined) continue
    const b = W.policy.models.get(r.target)!
    const o = isObj(v) ? v : undefined
    enter(key)
    const childProven = provenChild(b, proven, o?.where)
    if (o !== undefined) {
      walkWhere(o.where, b, childProven)
      walkCursor(o.cursor, b)
      walkOrderBy(o.orderBy, b, childProven)
      walkSelection(o, b, childProven)
    }
    leave()
  }
}

/** `_count: true` counts every relation; `_count: { select: { rel: { where } } }` one, with its own filter. */
function countSelection(v: unknown, p: ModelPolicy, proven: boolean): void {
  if (v === true) {
    if (proven) return
    for (const r of p.relations.values()) {
      const b = W.policy.models.get(r.target)!
      if (b.guarded) reportAt(r.name, b, 'unscoped_nested_read')
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
    enter(key)
    walkWhere(where, b, provenChild(b, proven, where))
    leave()
  }
}
