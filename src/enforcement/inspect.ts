// The heart: does this query's filter or data pin exactly one tenant, and is it the request's?
// Pure: no Prisma client, no telemetry. A wrong "scoped" here is a data leak, so every shape
// the rules below do not recognise is unscoped (DESIGN.md "What counts as scoped").
import type { Severity } from '../config/schema.ts'
import type { ViolationKind } from '../telemetry/metric-names.ts'
import { CREATE_OPERATIONS, DELETE_OPERATIONS, READ_OPERATIONS, UPDATE_OPERATIONS, UPSERT_OPERATION } from './operations.ts'
import type { ModelPolicy, Policy } from './policy.ts'

export interface Finding {
  /** the model whose rows the violation exposes (a nested read names the nested model) */
  readonly model: string
  readonly severity: Severity
  readonly violation: ViolationKind
  /** the tenant(s) the query named, when it named any */
  readonly queryTenantIds?: readonly string[]
}

/** A primitive tenant value the query pins, CONFLICT when it names several, undefined when none. */
type Pin = string | number | bigint | typeof CONFLICT | undefined
const CONFLICT = Symbol('several tenants')

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)

function same(a: unknown, b: unknown): boolean {
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
  return same(a, b) ? a : CONFLICT
}

/** A scalar filter on the tenant field: `1`, `{ equals: 1 }`, `{ in: [1] }`. Never `not`, ranges, null, undefined. */
function pinOfFieldFilter(value: unknown): Pin {
  if (isTenantValue(value)) return value
  if (!isObj(value)) return undefined
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

/** The tenant a `where` (or where-unique) input pins for rows of model p. */
export function pinOfWhere(where: unknown, p: ModelPolicy): Pin {
  if (!isObj(where)) return undefined
  let pin: Pin
  if (p.kind === 'field' || p.kind === 'root') {
    pin = pinOfFieldFilter(where[p.field])
    if (pin === undefined) pin = pinOfCompoundKey(where, p.field)
  } else if (p.kind === 'relation' && p.target) {
    const rel = where[p.via]
    // `user: { tenantId }` or `user: { is: { tenantId } }`; never `isNot`.
    if (isObj(rel)) pin = pinOfWhere('is' in rel ? rel.is : rel, p.target)
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

/** `tenantId_email: { tenantId: 1, email }`: a compound unique input whose name lists the tenant field. */
function pinOfCompoundKey(where: Obj, field: string): Pin {
  for (const key in where) {
    if (key.indexOf('_') < 1) continue
    const v = where[key]
    if (isObj(v) && namesField(key, field)) {
      const pin = pinOfFieldFilter(v[field])
      if (pin !== undefined) return pin
    }
  }
  return undefined
}

/** Does a compound key name (`tenantId_email`) list the field? Without allocating: this runs per query. */
function namesField(key: string, field: string): boolean {
  for (let at = key.indexOf(field); at !== -1; at = key.indexOf(field, at + 1)) {
    const end = at + field.length
    if ((at === 0 || key.charCodeAt(at - 1) === 95) && (end === key.length || key.charCodeAt(end) === 95)) return true
  }
  return false
}

/** The tenant a create's data puts the row in. */
function pinOfCreateData(data: unknown, p: ModelPolicy): Pin {
  if (!isObj(data)) return undefined
  if (p.kind === 'field' || p.kind === 'root') {
    const v = data[p.field]
    if (isTenantValue(v)) return v
    if (p.tenantRelation) return pinOfTenantConnect(data[p.tenantRelation])
    return undefined
  }
  if (p.kind === 'relation' && p.target) {
    // Only a relation write can prove the tenant: a bare foreign key (`userId: 5`) cannot,
    // without a query of our own, so it is unscoped.
    const rel = data[p.via]
    if (!isObj(rel)) return undefined
    if (rel.connect !== undefined) return pinOfWhere(rel.connect, p.target)
    if (rel.create !== undefined) return pinOfCreateData(rel.create, p.target)
    if (isObj(rel.connectOrCreate)) return conj(pinOfWhere(rel.connectOrCreate.where, p.target), pinOfCreateData(rel.connectOrCreate.create, p.target)) ?? undefined
  }
  return undefined
}

function pinOfTenantConnect(rel: unknown): Pin {
  if (!isObj(rel)) return undefined
  const connect = rel.connect ?? (isObj(rel.connectOrCreate) ? rel.connectOrCreate.where : undefined)
  if (!isObj(connect)) return undefined
  for (const k in connect) if (isTenantValue(connect[k])) return connect[k] as string | number
  return undefined
}

/** Does update data move the row to another tenant (or to a tenant we cannot verify)? */
function movesTenant(data: unknown, p: ModelPolicy, expected: Pin): boolean {
  if (!isObj(data)) return false
  if (p.kind === 'field' || p.kind === 'root') {
    if (p.field in data && data[p.field] !== undefined) {
      let v = data[p.field]
      if (isObj(v)) v = v.set
      if (!isTenantValue(v) || expected === undefined || expected === CONFLICT || !same(v, expected)) return true
    }
    if (p.tenantRelation && data[p.tenantRelation] !== undefined) {
      const v = pinOfTenantConnect(data[p.tenantRelation])
      if (v === undefined || expected === undefined || expected === CONFLICT || !same(v, expected)) return true
    }
    return false
  }
  if (p.kind === 'relation' && p.target) {
    // Re-pointing the row at another parent: by relation (verifiable) or foreign key (not).
    if (data[`${p.via}Id`] !== undefined) return true
    const rel = data[p.via]
    if (rel !== undefined) {
      const v = isObj(rel) && rel.connect !== undefined ? pinOfWhere(rel.connect, p.target) : undefined
      if (v === undefined || v === CONFLICT || expected === undefined || expected === CONFLICT || !same(v, expected)) return true
    }
  }
  return false
}

function missing(p: ModelPolicy): ViolationKind {
  return p.kind === 'relation' ? 'missing_relation_filter' : 'missing_tenant_id'
}

function finding(p: ModelPolicy, violation: ViolationKind, pin?: Pin): Finding {
  if (pin === undefined || pin === CONFLICT) return { model: p.name, severity: p.severity, violation }
  return { model: p.name, severity: p.severity, violation, queryTenantIds: [String(pin)] }
}

/** A pinned tenant must be the request's: another one is tenant_mismatch. */
function checkPin(p: ModelPolicy, pin: Pin, tenantId: unknown, hasTenant: boolean): Finding | null {
  if (pin === undefined) return finding(p, missing(p))
  if (pin === CONFLICT) return finding(p, hasTenant ? 'tenant_mismatch' : missing(p))
  if (hasTenant && !same(pin, tenantId)) return finding(p, 'tenant_mismatch', pin)
  return null
}

/**
 * Inspect one model query. Returns null when it is scoped to the request's tenant (or the model
 * is global and reads nothing tenant-owned), else the first violation found.
 * `tenantId` is the request's tenant (undefined outside a request: a query that pins one tenant
 * is then allowed, one that pins none is not).
 */
export function inspect(policy: Policy, model: string, operation: string, args: unknown, tenantId: unknown): Finding | null {
  const p = policy.models.get(model)
  if (!p) return null
  const a = isObj(args) ? args : undefined
  const hasTenant = tenantId !== undefined && tenantId !== null
  if (p.kind === 'global') return p.reachesTenantData && a ? nestedReads(policy, p, a, false, tenantId, hasTenant) ?? nestedWrites(policy, p, a.data, undefined, tenantId, hasTenant) : null
  if (p.kind === 'root') {
    // The tenant model is not tenant-owned itself; what it includes is, and is scoped when the
    // query pins the request's tenant by id.
    if (!p.reachesTenantData || !a) return null
    const rootPin = CREATE_OPERATIONS.has(operation) ? pinOfCreateData(a.data, p) : pinOfWhere(a.where, p)
    const scoped = rootPin !== undefined && rootPin !== CONFLICT && (!hasTenant || same(rootPin, tenantId))
    const writePin = scoped ? rootPin : undefined
    return nestedWrites(policy, p, a.data, writePin, tenantId, hasTenant) ?? nestedWrites(policy, p, a.create, writePin, tenantId, hasTenant) ?? nestedWrites(policy, p, a.update, writePin, tenantId, hasTenant) ?? nestedReads(policy, p, a, scoped, tenantId, hasTenant)
  }

  let pin: Pin
  if (READ_OPERATIONS.has(operation) || DELETE_OPERATIONS.has(operation)) {
    pin = pinOfWhere(a?.where, p)
  } else if (UPDATE_OPERATIONS.has(operation)) {
    pin = pinOfWhere(a?.where, p)
    const bad = checkPin(p, pin, tenantId, hasTenant)
    if (bad) return bad
    const rows = a?.data
    if (movesTenant(rows, p, hasTenant ? (tenantId as Pin) : pin)) return finding(p, 'tenant_mismatch')
    return nestedWrites(policy, p, rows, pin, tenantId, hasTenant) ?? nestedReads(policy, p, a, pin !== undefined, tenantId, hasTenant)
  } else if (CREATE_OPERATIONS.has(operation)) {
    const data = a?.data
    if (Array.isArray(data)) {
      if (data.length === 0) return null
      for (const row of data) {
        const rowPin = pinOfCreateData(row, p)
        const bad = checkPin(p, rowPin, tenantId, hasTenant) ?? nestedWrites(policy, p, row, rowPin, tenantId, hasTenant)
        if (bad) return bad
      }
      return nestedReads(policy, p, a, true, tenantId, hasTenant)
    }
    pin = pinOfCreateData(data, p)
    return checkPin(p, pin, tenantId, hasTenant) ?? nestedWrites(policy, p, data, pin, tenantId, hasTenant) ?? nestedReads(policy, p, a, true, tenantId, hasTenant)
  } else if (operation === UPSERT_OPERATION) {
    pin = pinOfWhere(a?.where, p)
    const created = pinOfCreateData(a?.create, p)
    const bad = checkPin(p, pin, tenantId, hasTenant) ?? checkPin(p, created, tenantId, hasTenant)
    if (bad) return bad
    if (!same(pin, created)) return finding(p, 'tenant_mismatch')
    if (movesTenant(a?.update, p, pin)) return finding(p, 'tenant_mismatch')
    return nestedWrites(policy, p, a?.create, pin, tenantId, hasTenant) ?? nestedWrites(policy, p, a?.update, pin, tenantId, hasTenant) ?? nestedReads(policy, p, a, true, tenantId, hasTenant)
  } else {
    // An operation this version does not know: unscoped until someone teaches it.
    return finding(p, missing(p))
  }
  return checkPin(p, pin, tenantId, hasTenant) ?? nestedReads(policy, p, a, true, tenantId, hasTenant)
}

/**
 * include/select under a parent: tenant-owned relations read under an unscoped or global parent
 * must carry their own scoped `where`. A global model in between (Permission) breaks the chain:
 * its relations reach every tenant again.
 */
function nestedReads(policy: Policy, parent: ModelPolicy, args: Obj | undefined, parentScoped: boolean, tenantId: unknown, hasTenant: boolean): Finding | null {
  if (!args || parent.relations.size === 0) return null
  return walkSelection(policy, parent, args.include, parentScoped, tenantId, hasTenant) ?? walkSelection(policy, parent, args.select, parentScoped, tenantId, hasTenant)
}

function walkSelection(policy: Policy, parent: ModelPolicy, selection: unknown, parentScoped: boolean, tenantId: unknown, hasTenant: boolean): Finding | null {
  if (!isObj(selection)) return null
  for (const key in selection) {
    const v = selection[key]
    if (!v) continue
    if (key === '_count') {
      // Counting a tenant-owned relation under an unscoped parent leaks how many rows other tenants have.
      if (parentScoped) continue
      const counted = isObj(v) && isObj(v.select) ? Object.keys(v.select).filter((k) => v.select && (v.select as Obj)[k]) : [...parent.relations.keys()]
      for (const rel of counted) {
        const target = policy.models.get(parent.relations.get(rel) ?? '')
        if (target && (target.kind === 'field' || target.kind === 'relation')) return finding(target, 'unscoped_nested_read')
      }
      continue
    }
    const targetName = parent.relations.get(key)
    if (targetName === undefined) continue
    const target = policy.models.get(targetName)
    if (!target) continue
    let childScoped = parentScoped
    if (target.kind === 'field' || target.kind === 'relation') {
      if (!parentScoped) {
        const own = isObj(v) ? pinOfWhere(v.where, target) : undefined
        if (own === undefined) return finding(target, 'unscoped_nested_read')
        const bad = checkPin(target, own, tenantId, hasTenant)
        if (bad) return bad
        childScoped = true
      }
    } else if (target.kind === 'global') {
      childScoped = false
    }
    if (isObj(v)) {
      const bad = walkSelection(policy, target, v.include, childScoped, tenantId, hasTenant) ?? walkSelection(policy, target, v.select, childScoped, tenantId, hasTenant)
      if (bad) return bad
    }
  }
  return null
}

const ATTACH_OPS = ['connect', 'set'] as const

/**
 * Nested writes in create/update data: rows attached to or created under a parent. Attaching
 * (connect, set, connectOrCreate) must pin the tenant in its unique filter; a created child
 * inherits the parent's tenant when it is scoped through the parent (or the parent is the
 * tenant), else it must carry its own tenant field.
 */
function nestedWrites(policy: Policy, parent: ModelPolicy, data: unknown, parentPin: Pin, tenantId: unknown, hasTenant: boolean): Finding | null {
  if (!isObj(data) || !parent.reachesTenantData) return null
  for (const key in data) {
    const targetName = parent.relations.get(key)
    if (targetName === undefined) continue
    const target = policy.models.get(targetName)
    const ops = data[key]
    if (!target || (target.kind !== 'field' && target.kind !== 'relation') || !isObj(ops)) continue
    // The child's tenant comes with the parent when its scope runs through this parent.
    const inherits = (target.kind === 'relation' && target.target === parent) || (target.kind === 'field' && parent.kind === 'root')
    const expected: Pin = hasTenant ? (tenantId as Pin) : parentPin
    for (const op of ATTACH_OPS) {
      const v = ops[op]
      if (v === undefined) continue
      for (const w of Array.isArray(v) ? v : [v]) {
        const pin = pinOfWhere(w, target)
        if (pin === undefined || pin === CONFLICT || (expected !== undefined && expected !== CONFLICT && !same(pin, expected))) return finding(target, 'unscoped_nested_write', pin)
      }
    }
    const coc = ops.connectOrCreate
    if (coc !== undefined) {
      for (const c of Array.isArray(coc) ? coc : [coc]) {
        const pin = isObj(c) ? pinOfWhere(c.where, target) : undefined
        if (pin === undefined || pin === CONFLICT || (expected !== undefined && expected !== CONFLICT && !same(pin, expected))) return finding(target, 'unscoped_nested_write', pin)
      }
    }
    if (!inherits) {
      const created = ops.create
      const many = isObj(ops.createMany) ? ops.createMany.data : undefined
      for (const rows of [created, many]) {
        if (rows === undefined) continue
        for (const row of Array.isArray(rows) ? rows : [rows]) {
          const pin = pinOfCreateData(row, target)
          if (pin === undefined || pin === CONFLICT || (expected !== undefined && expected !== CONFLICT && !same(pin, expected))) return finding(target, 'unscoped_nested_write', pin)
        }
      }
    }
  }
  return null
}
