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
  /** two levels of tenancy: the level whose check found it (set by the composition, levels-inspect.ts) */
  readonly level?: string
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
/** A query's findings stop at this many (the composition of levels must know when a list was cut). */
export const MAX_FINDINGS = 10

/**
 * `Prisma.skip`: an instance of the runtime's Skip class, which Prisma drops like `undefined`. Known
 * by its shape (no own data, an `ifUndefined` method), not by identity: the app's Prisma runtime is
 * not necessarily the copy tenantfence would import.
 */
export function isSkip(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { ifUndefined?: unknown }).ifUndefined === 'function' && Object.keys(v).length === 0
}
/** A key Prisma leaves out of the query: `undefined` or `Prisma.skip`. */
const absent = (v: unknown): boolean => v === undefined || (typeof v === 'object' && v !== null && isSkip(v))

/** An update operator other than a plain `set` (increment, multiply, ...): the value written is not known before the query. */
const OPERATOR = Symbol('an update operator')
/**
 * The value an update writes to a scalar field: the literal, or the `set` of `{ set: x }` once the
 * keys Prisma drops are left out (`{ set: 1, increment: undefined }` writes 1); OPERATOR for
 * arithmetic (`{ increment: 100 }`) or several operators; undefined when it writes nothing.
 */
function written(v: unknown): unknown {
  if (absent(v)) return undefined
  if (!isObj(v)) return v
  let out: unknown
  let n = 0
  for (const k in v) {
    if (absent(v[k])) continue
    n++
    out = k === 'set' ? v[k] : OPERATOR
  }
  return n === 0 ? undefined : n === 1 ? out : OPERATOR
}

/** `[0]`, `[1]`, …: path segments of list items, made once (a proven query allocates nothing). */
const INDEX = Array.from({ length: 32 }, (_, i) => `[${i}]`)
const idx = (i: number): string => INDEX[i] ?? `[${i}]`

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
  if (!absent(rel.is)) return rel.is
  if (!absent(rel.isNot)) return undefined
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
    if (p.tenantTarget !== undefined && !absent(where[p.tenantRelation!])) {
      // `tenant: { id: 1 }` / `tenant: { is: { id: 1 } }`: the tenant relation pins its key field.
      pin = conj(pin, pinOfWhere(toOneInner(where[p.tenantRelation!]), p.tenantTarget))
    }
    for (const b of p.boundRelations) {
      // A foreign key that includes the tenant field: a row whose related row is T's is T's.
      const rel = where[b.name]
      if (!absent(rel) && rel !== null) pin = conj(pin, pinOfWhere(toOneInner(rel), b.target))
    }
  } else if (p.kind === 'relation' && p.target) {
    const rel = where[p.via]
    if (!absent(rel)) pin = pinOfWhere(toOneInner(rel), p.target)
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
// List items join without a dot: `where.OR[1]`, `data.posts.create[2]` (only when a finding is written).
const here = (): string => PATH.join('.').replace(/\.\[/g, '[')

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

/**
 * judgePin of a filter's pin; a finding's path then names the part of the filter at fault: the OR
 * branch that pins nothing (`where.OR[1]`), the relation filter it goes through (`where.user.OR[0]`),
 * or the branch that names another tenant (`where.AND[1]`).
 */
function judgeWhere(p: ModelPolicy, where: unknown, missingKind: ViolationKind, linked?: string): boolean {
  const pin = pinOfWhere(where, p)
  const depth = PATH.length
  const fine = pin !== undefined && pin !== CONFLICT && ((W.tenant === undefined && !W.fixed) || sameTenant(pin, W.tenant))
  if (!fine) for (const k of culprit(where, p, pin === undefined)) enter(k)
  const ok = judgePin(p, pin, missingKind, linked)
  if (PATH.length !== depth) PATH.length = depth
  return ok
}

/** Path segments to the part of a filter that pins nothing (missing) or names another tenant (cold path: findings only). */
function culprit(where: unknown, p: ModelPolicy, missing: boolean): string[] {
  if (!isObj(where)) return []
  const bad = (pin: Pin) => (missing ? pin === undefined : pin !== undefined && (pin === CONFLICT || !sameTenant(pin, W.tenant)))
  const through = (key: string, rel: unknown, target: ModelPolicy): string[] => {
    const inner = toOneInner(rel)
    return [key, ...(isObj(rel) && !absent(rel.is) ? ['is'] : []), ...culprit(inner, target, missing)]
  }
  if (!missing) {
    // the tenant field itself (or a compound key) is named by the filter that holds it: no deeper segment
    if (p.kind === 'field' || p.kind === 'root') {
      const tr = p.tenantRelation
      const badVia = (key: string, target: ModelPolicy) => !absent(where[key]) && bad(pinOfWhere(toOneInner(where[key]), target))
      if (tr !== undefined && p.tenantTarget !== undefined && badVia(tr, p.tenantTarget)) return through(tr, where[tr], p.tenantTarget)
      for (const b of p.boundRelations) if (badVia(b.name, b.target)) return through(b.name, where[b.name], b.target)
    }
    const and = where.AND
    if (Array.isArray(and)) {
      for (let i = 0; i < and.length; i++) if (bad(pinOfWhere(and[i], p))) return ['AND', idx(i), ...culprit(and[i], p, false)]
    } else if (isObj(and) && bad(pinOfWhere(and, p))) return ['AND', ...culprit(and, p, false)]
  } else if (Array.isArray(where.AND)) {
    // no conjunct pins: name the one that tries to (it filters on the tenant field or the scoping relation)
    for (let i = 0; i < where.AND.length; i++) {
      const c: unknown = where.AND[i]
      const sub = culprit(c, p, true)
      if (sub.length > 0 || (isObj(c) && ((p.kind === 'relation' ? p.via : p.field) in c))) return ['AND', idx(i), ...sub]
    }
  }
  const or = where.OR
  if (Array.isArray(or)) for (let i = 0; i < or.length; i++) if (bad(pinOfWhere(or[i], p))) return ['OR', idx(i), ...culprit(or[i], p, missing)]
  if (p.kind === 'relation' && p.target && !absent(where[p.via])) {
    const rel = where[p.via]
    if (bad(pinOfWhere(toOneInner(rel), p.target))) return through(p.via, rel, p.target)
  }
  return []
}

const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : v === undefined ? NONE : [v])
/** Item i of list(v); when v is a list, its path segment (`create[2]`) is entered until leaveItem. */
function itemAt(v: unknown, items: readonly unknown[], i: number): unknown {
  if (items === v) enter(idx(i))
  return items[i]
}
const leaveItem = (v: unknown, items: readonly unknown[]): void => {
  if (items === v) leave()
}

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
  const proven = p.guarded && judgeWhere(p, where, missing(p))
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
    for (let i = 0; i < rows.length; i++) {
      enter(idx(i))
      all = createRow(rows[i], p, false) && all
      leave()
    }
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
    const v = absent(row[p.field]) ? undefined : row[p.field]
    const tr = p.tenantRelation !== undefined && !absent(row[p.tenantRelation]) ? row[p.tenantRelation] : undefined
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
    const ops = absent(row[p.via]) ? undefined : row[p.via]
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
    // `{ set: 5, increment: undefined }` sets 5; arithmetic (OPERATOR) cannot be verified
    const v = written(data[r.fields[i]!])
    if (v === undefined) continue
    ;(values ??= new Array<unknown>(r.fields.length).fill(undefined))[i] = v
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
 * the same key would answer with a unique-constraint error. Looked up (references: 'verify'). A key
 * whose new value cannot be known before the query (`id: { increment: 100 }`, or an update that sets
 * only part of a compound key) cannot be looked up: `unverified_reference` on the written model.
 */
function collisionKeys(data: Obj, p: ModelPolicy, kind: 'create' | 'update'): void {
  if (W.tenant === NEW_TENANT) return
  for (const key of p.crossTenantKeys) {
    let values: unknown[] | undefined
    let set = 0
    let unknown = false
    for (let i = 0; i < key.length; i++) {
      const v = written(data[key[i]!])
      if (v === undefined) continue
      set++
      if (!isTenantValue(v)) unknown = true
      else (values ??= new Array<unknown>(key.length))[i] = v
    }
    if (set === 0) continue
    if (unknown || set < key.length) {
      // A create leaves the other fields of a compound key to their defaults, known to no one: as before, not looked up.
      if (unknown || kind === 'update') reportAt(key.join('+'), p, 'unverified_reference')
      continue
    }
    if (W.policy.references !== 'verify' || values === undefined) continue
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
 * `connect` (connect, set): the row must exist in the tenant. A connect to a key no row holds would
 * fail in Prisma while one another tenant holds is refused: two answers that tell the rows apart, so
 * each key the filter names is looked up as a foreign key is (not found: unverified_reference). A
 * connectOrCreate creates the row when no row holds the key: only another tenant's row is refused.
 */
function linkRow(target: ModelPolicy, unique: unknown, blame: ModelPolicy | undefined, holder: ModelPolicy, connect: boolean): boolean {
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
    const keys = uniqueKeysNamed(unique, target)
    if (keys === undefined) ok = report(who, 'unverified_reference', undefined, linked)
    else if (connect) {
      for (const k of keys) {
        const key = { fields: k.fields, values: k.fields.map((f) => k.where[f]) }
        ;(W.refs ??= []).push({ model: target.name, blame: blame?.name, linked, where: k.where, key, path: here() })
      }
      ok = true
    } else {
      const where = keys.length === 1 ? keys[0]!.where : { OR: keys.map((k) => k.where) }
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
 * key in another tenant is a mismatch whatever else the filter says. Several keys: each of them.
 * undefined: the filter names no unique key the check can read (not provable).
 */
function uniqueKeysNamed(unique: Obj, p: ModelPolicy): Array<{ fields: readonly string[]; where: Obj }> | undefined {
  const flat = flattenUnique(unique, p)
  let keys: Array<{ fields: readonly string[]; where: Obj }> | undefined
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
    if (where !== undefined) (keys ??= []).push({ fields: key, where })
  }
  return keys
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
    if (absent(v)) continue
    enter(key)
    if (key === 'connect') ok = linkRow(target, v, p, p, true) && ok
    else if (key === 'create') ok = createRow(v, target, false) && ok
    else if (key === 'connectOrCreate') {
      const c = isObj(v) ? v : {}
      enter('where')
      ok = linkRow(target, c.where, p, p, false) && ok
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
    // `{ set: 1, increment: undefined }` and `Prisma.skip` are read as Prisma reads them
    const to = written(data[p.field])
    if (to !== undefined) {
      enter(p.field)
      if (!isTenantValue(to)) report(p, 'tenant_mismatch')
      else judgePin(p, to, 'tenant_mismatch')
      leave()
    }
  }
  if (!p.guarded || !rowsProven) {
    // Re-keying rows that are not proven (a global row's above all) cascades into every tenant's
    // rows that reference them (Prisma's default onUpdate is Cascade; Restrict would answer with an error).
    for (const d of p.referencedBy) if (d.fields.some((f) => !absent(data[f]))) report(W.policy.models.get(d.model)!, 'unscoped_nested_write')
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
    if (r === undefined || absent(ops)) continue
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
    if (absent(v)) continue
    enter(op)
    switch (op) {
      case 'create':
        for (let i = 0, xs = list(v); i < xs.length; i++) {
          if (!createRow(itemAt(v, xs, i), b, inherit) && blame) report(blame, 'tenant_mismatch')
          leaveItem(v, xs)
        }
        break
      case 'createMany': {
        const rows = isObj(v) && !absent(v.data) ? v.data : undefined
        enter('data')
        for (let i = 0, xs = list(rows); i < xs.length; i++) {
          createRow(itemAt(rows, xs, i), b, inherit)
          leaveItem(rows, xs)
        }
        leave()
        break
      }
      case 'connect':
      case 'set':
        // set first unlinks every current row: those must be the tenant's too. A row whose tenant
        // comes from its parent moves to the parent's tenant: under a parent not proven the
        // tenant's, linking it is a violation of its own (not only the parent's finding, which a
        // second level of tenancy may answer for the parent row alone: levels-inspect.ts).
        if (b.guarded && !parentProven && (op === 'set' || r.inherits)) report(b, 'unscoped_nested_write')
        for (let i = 0, xs = list(v); i < xs.length; i++) {
          const u = itemAt(v, xs, i)
          // connect and set link existing rows: one that is not the tenant's is refused, absent or not
          if (b.guarded) linkRow(b, u, blame, holder, true)
          else walkWhere(u, b, false)
          leaveItem(v, xs)
        }
        break
      case 'connectOrCreate':
        for (let i = 0, xs = list(v); i < xs.length; i++) {
          const c = itemAt(v, xs, i)
          const o = isObj(c) ? c : {}
          enter('where')
          if (b.guarded && !parentProven && r.inherits) report(b, 'unscoped_nested_write') // as connect: the row would move
          if (b.guarded) linkRow(b, o.where, blame, holder, false)
          else walkWhere(o.where, b, false)
          leave()
          enter('create')
          createRow(o.create, b, inherit)
          leave()
          leaveItem(v, xs)
        }
        break
      case 'disconnect':
      case 'delete':
        for (let i = 0, xs = list(v); i < xs.length; i++) {
          const u = itemAt(v, xs, i)
          const pin = isObj(u) && b.guarded ? pinOfWhere(u, b) : undefined
          const own = pin !== undefined && judgePin(b, pin, 'unscoped_nested_write')
          if (b.guarded && !parentProven && !own) report(b, 'unscoped_nested_write')
          if (isObj(u)) walkWhere(u, b, parentProven || own)
          if (op === 'delete' && !(b.guarded && (parentProven || own))) cascade(b)
          leaveItem(v, xs)
        }
        break
      case 'deleteMany':
        for (let i = 0, xs = list(v); i < xs.length; i++) {
          const u = itemAt(v, xs, i)
          const proven = rowsReached(b, u, parentProven)
          walkWhere(u, b, proven)
          if (!proven) cascade(b)
          leaveItem(v, xs)
        }
        break
      case 'update':
      case 'updateMany':
        for (let i = 0, xs = list(v); i < xs.length; i++) {
          const item = itemAt(v, xs, i)
          for (const [where, data] of splitWhereData(item, r, b, op === 'updateMany')) {
            const proven = rowsReached(b, where, parentProven)
            walkWhere(where, b, proven)
            enter('data')
            walkUpdateData(data, b, proven)
            leave()
          }
          leaveItem(v, xs)
        }
        break
      case 'upsert':
        for (let i = 0, xs = list(v); i < xs.length; i++) {
          const item = itemAt(v, xs, i)
          const o = isObj(item) ? item : {}
          const proven = rowsReached(b, o.where, parentProven)
          walkWhere(o.where, b, proven)
          enter('create')
          createRow(o.create, b, inherit)
          leave()
          enter('update')
          walkUpdateData(o.update, b, proven)
          leave()
          leaveItem(v, xs)
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
  return judgeWhere(b, where, 'unscoped_nested_write')
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
    // a skipped AND/OR/NOT has no keys to walk; a skipped relation filter is checked below
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      enter(key)
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          enter(idx(i))
          walkWhere(v[i], p, proven)
          leave()
        }
      } else walkWhere(v, p, proven)
      leave()
      continue
    }
    const r = p.relations.get(key)
    if (r === undefined || absent(v)) continue
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
    if (absent(inner)) continue
    operator = true
    enter(op)
    filterThrough(b, inner, op, proven)
    leave()
  }
  if (!operator) filterThrough(b, v, 'is', proven)
}

/** Under proven rows nothing more is needed, but a filter that names another tenant is a mismatch all the same. */
function namesNoOtherTenant(b: ModelPolicy, where: unknown): void {
  if (pinOfWhere(where, b) !== undefined) judgeWhere(b, where, 'tenant_mismatch')
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
  const ok = judgeWhere(b, inner, 'unscoped_relation_filter')
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
    if (r === undefined || absent(orderBy[key])) continue
    const b = W.policy.models.get(r.target)!
    enter(key)
    if (b.guarded && !proven) report(b, 'unscoped_relation_filter')
    else walkOrderBy(orderBy[key], b, b.guarded && proven)
    leave()
  }
}

/** Prisma looks a cursor row up by its unique key alone: it must pin the tenant itself. */
function walkCursor(cursor: unknown, p: ModelPolicy): void {
  if (absent(cursor) || !p.guarded) return
  enter('cursor')
  judgeWhere(p, cursor, missing(p))
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
  return !absent(where) ? judgeWhere(b, where, 'unscoped_nested_read') : report(b, 'unscoped_nested_read')
}

function selection(sel: unknown, p: ModelPolicy, proven: boolean): void {
  if (!isObj(sel)) return
  for (const key in sel) {
    const v = sel[key]
    if (!v || absent(v)) continue
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
    if (!val || r === undefined || absent(val)) continue
    const b = W.policy.models.get(r.target)!
    const where = isObj(val) ? val.where : undefined
    enter(key)
    walkWhere(where, b, provenChild(b, proven, where))
    leave()
  }
}
