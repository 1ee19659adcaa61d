// Ground truth for the differential fuzz test, taken from the database and never from the rule:
// a query leaks when, run on the plain client inside a transaction that is rolled back, it
//   - returned a row of another tenant (each returned object mapped back to its model and row),
//   - changed what belongs to another tenant (their rows, or a row linked to one of theirs), or
//   - gave an answer that depends on other tenants' rows (run again after deleting them, and after
//     altering them: a count, a filter, a cursor or an error that changes is an oracle).
import { runWithTenant } from '../../src/index.ts'
import {
  otherTenantsFootprint,
  ownFootprint,
  ownership,
  runtimeModels,
  tenantOfRow,
  seedIsolation,
  tableOf,
  type AnyClient,
  type Ownership,
  type Tables,
} from './isolation-db.ts'
import { DEMO } from './isolation-demo.ts'
import { isWrite, type GenQuery } from './isolation-gen.ts'
import {
  contextOf,
  modelOf,
  sqlValue,
  visibleOwners,
  type IsolationSchema,
  type RowId,
  type TenantId,
} from './isolation-schema.ts'

export type Outcome =
  { ok: true; value: unknown } | { ok: false; error: string; blocked?: { model: string; violation: string } }

class Rollback {
  constructor(readonly value: unknown) {}
}

/** Run fn in an interactive transaction of this client and roll it back, returning fn's value. */
export async function rolledBack<T>(client: AnyClient, fn: (tx: AnyClient) => Promise<T>): Promise<T> {
  try {
    await client.$transaction(
      async (tx: AnyClient) => {
        throw new Rollback(await fn(tx))
      },
      { timeout: 20_000, maxWait: 20_000 },
    )
  } catch (e) {
    if (e instanceof Rollback) return e.value as T
    throw e
  }
  throw new Error('unreachable: the transaction was not rolled back')
}

export function errorKey(e: unknown): string {
  const err = e as { code?: unknown; name?: unknown; meta?: unknown; message?: unknown }
  if (err?.code === 'TENANT_CONTEXT_REQUIRED') return 'TENANT_CONTEXT_REQUIRED'
  if (typeof err?.code === 'string') {
    // the driver's error, shortened to what tells errors apart (kind, constraint, table)
    const meta = { ...(err.meta as Record<string, unknown> | undefined) }
    const cause = (meta.driverAdapterError as { cause?: Record<string, unknown> } | undefined)?.cause
    if (cause) meta.driverAdapterError = { kind: cause.kind, constraint: cause.constraint, table: cause.table }
    return `${err.code} ${JSON.stringify(meta)}`
  }
  return String(err?.name ?? 'Error')
}

export async function settle(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await fn() }
  } catch (e) {
    const err = e as { code?: unknown; model?: unknown; violation?: unknown }
    if (err?.code === 'TENANT_CONTEXT_REQUIRED')
      return {
        ok: false,
        error: 'TENANT_CONTEXT_REQUIRED',
        blocked: { model: String(err.model), violation: String(err.violation) },
      }
    return { ok: false, error: errorKey(e) }
  }
}

/**
 * A fresh copy of query arguments: plain objects and arrays copied, every other object kept as it is.
 * structuredClone would turn `Prisma.skip` (an instance of the runtime's Skip class, which Prisma drops
 * like undefined) into a plain `{}`, which Prisma reads as an empty filter or rejects.
 */
export function cloneArgs<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneArgs) as T
  if (v === null || typeof v !== 'object') return v
  const proto = Object.getPrototypeOf(v) as unknown
  if (proto !== Object.prototype && proto !== null) return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) out[k] = cloneArgs(x)
  return out as T
}

/** The query on this client (a fresh copy of its arguments each time: nothing may share them). */
export function runQuery(client: AnyClient, q: GenQuery, schema: IsolationSchema = DEMO): Promise<unknown> {
  return client[modelOf(schema, q.model).prop][q.op](cloneArgs(q.args))
}

const DAY = 86_400_000
/** Comparable text of an outcome: timestamps set by the database to "now" are the same across runs. */
export function normalize(o: Outcome): string {
  const now = Date.now()
  const body = o.ok ? o.value : { error: o.error }
  return canonicalIds(
    JSON.stringify(body, function (k, v: unknown) {
      const raw = (this as Record<string, unknown>)[k]
      if (raw instanceof Date) return Math.abs(raw.getTime() - now) < DAY ? 'Date(now)' : `Date(${raw.toISOString()})`
      if (typeof v === 'bigint') return `${v}n`
      return v
    }),
  )
}

/** A cuid() that the database's default gave a new row (the seeds' ids never look like one). */
const CUID = /\bc[0-9a-z]{24}\b/g
/**
 * Text in which each generated cuid is replaced by `new#n`, n counting first appearances: two runs of
 * one write create rows with different random ids, in the same order (cuids grow with time).
 */
export function canonicalIds(text: string): string {
  const seen = new Map<string, string>()
  return text.replace(CUID, (id) => {
    if (!seen.has(id)) seen.set(id, `new#${seen.size}`)
    return seen.get(id)!
  })
}

// ---- snapshots -----------------------------------------------------------------------------------

const snapshotSql = new WeakMap<IsolationSchema, string>()
/**
 * One statement that reads every table as JSON, under the database's own names (@@map, @map), keyed
 * by the schema's field names; the schema's volatile fields (set by the database to now) left out.
 */
function tablesSql(client: AnyClient, schema: IsolationSchema): string {
  const cached = snapshotSql.get(schema)
  if (cached) return cached
  const models = runtimeModels(client)
  const parts = schema.insertOrder.map((name) => {
    const cols = models[name]!.fields.filter((f) => f.kind === 'scalar' && !schema.volatile.includes(f.name)).map(
      (f) => `'${f.name}', "${f.dbName ?? f.name}"`,
    )
    const table = tableOf(client, name)
    return `(SELECT json_group_array(json_object(${cols.join(', ')})) FROM (SELECT * FROM "${table}" ORDER BY "id")) AS "${name}"`
  })
  for (const l of schema.linkTables)
    parts.push(
      `(SELECT json_group_array(json_object('A', "A", 'B', "B")) FROM (SELECT * FROM "${l.table}" ORDER BY "A", "B")) AS "${l.table}"`,
    )
  const sql = `SELECT ${parts.join(', ')}`
  snapshotSql.set(schema, sql)
  return sql
}

/** Every table of the demo's database (round 1's tests map over clients with it: one parameter). */
export function snapshot(client: AnyClient): Promise<Tables> {
  return snapshotOf(client, DEMO)
}

/** Every table of this schema's database, join tables included. */
export async function snapshotOf(client: AnyClient, schema: IsolationSchema): Promise<Tables> {
  const [row] = (await client.$queryRawUnsafe(tablesSql(client, schema))) as Array<Record<string, string>>
  const out: Tables = {}
  for (const name of [...schema.insertOrder, ...schema.linkTables.map((l) => l.table)])
    out[name] = JSON.parse(row![name]!)
  return out
}

/** Delete every row of the other tenants (the schema says how: its foreign keys cascade). */
export async function deleteOthers(client: AnyClient, schema: IsolationSchema = DEMO): Promise<void> {
  for (const sql of schema.deleteOthers(sqlValue(schema.request.tenantId))) await client.$executeRawUnsafe(sql)
}

/** Change every attribute of the other tenants' rows that a filter could test. */
export async function alterOthers(client: AnyClient, schema: IsolationSchema = DEMO): Promise<void> {
  for (const sql of schema.alterOthers(sqlValue(schema.request.tenantId))) await client.$executeRawUnsafe(sql)
}

// ---- verdicts ------------------------------------------------------------------------------------

/** Rows (model, id) of tenants other than the request's among the objects a query returned. */
export function foreignRowsIn(
  value: unknown,
  modelName: string,
  owners: Ownership[],
  schema: IsolationSchema = DEMO,
  /** tenants the query itself created */
  created: ReadonlySet<unknown> = new Set(),
): string[] {
  const mine = visibleOwners(schema)
  const found: string[] = []
  const walk = (v: unknown, m: string) => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, m))
    if (!v || typeof v !== 'object' || v instanceof Date) return
    const obj = v as Record<string, unknown>
    if (typeof obj.id === 'number' || typeof obj.id === 'string') {
      const owner = owners.map((o) => o.get(m)?.get(obj.id as RowId)).find((x) => x !== undefined)
      if (owner !== null && owner !== undefined && !mine.has(owner) && !created.has(owner)) found.push(`${m}#${obj.id} (tenant ${owner})`)
    }
    for (const rel of modelOf(schema, m).relations) if (rel.name in obj) walk(obj[rel.name], rel.model)
  }
  walk(value, modelName)
  return found
}

export interface Truth {
  outcome: Outcome
  /** why the query leaks (empty: it does not) */
  leaks: string[]
  /** Prisma rejected the shape before running it (validation error): nothing was read or written */
  invalid: boolean
}

/**
 * The seeded database as the request sees it, and two copies seeded the same way in which the other
 * tenants' rows were deleted, or altered. Perturbed once at start rather than per query: each query
 * then runs once per database, reads directly, writes inside a transaction that is rolled back.
 */
export interface TruthDatabases {
  schema: IsolationSchema
  original: AnyClient
  deleted: AnyClient
  altered: AnyClient
  /** the original's rows (reads leave them as they are) */
  seed: Tables
  close(): Promise<void>
}

export async function openTruthDatabases(original: AnyClient, schema: IsolationSchema = DEMO): Promise<TruthDatabases> {
  const copies: Array<{ close(): Promise<void> }> = []
  const perturbed = async (perturb: (c: AnyClient, s: IsolationSchema) => Promise<void>) => {
    const copy = await schema.open()
    copies.push(copy)
    await seedIsolation(copy.prisma, schema)
    await perturb(copy.prisma, schema)
    return copy.prisma as AnyClient
  }
  return {
    schema,
    original,
    deleted: await perturbed(deleteOthers),
    altered: await perturbed(alterOthers),
    seed: await snapshotOf(original, schema),
    async close() {
      for (const c of copies) await c.close()
    },
  }
}

const TENANT_CREATES = new Set(['create', 'createMany', 'createManyAndReturn'])

/** What the query does on the plain client, for a request of the schema's tenant. */
export async function groundTruth(dbs: TruthDatabases, q: GenQuery): Promise<Truth> {
  const { schema } = dbs
  const tenant: TenantId = schema.request.tenantId
  const snap = (c: AnyClient) => snapshotOf(c, schema)
  const run = (c: AnyClient) => runQuery(c, q, schema)
  const own = (t: Tables) => canonicalIds(ownFootprint(t, tenant, schema))
  const write = isWrite(q.op)
  const { outcome, before, after } = write
    ? await rolledBack(dbs.original, async (tx) => {
        const before = await snap(tx)
        const outcome = await settle(() => run(tx))
        // a query that fails closes Prisma's interactive transaction; it changed nothing in any case
        const after = outcome.ok ? await snap(tx) : before
        return { outcome, before, after }
      })
    : { outcome: await settle(() => run(dbs.original)), before: dbs.seed, after: dbs.seed }
  const invalid = !outcome.ok && outcome.error === 'PrismaClientValidationError'
  const leaks: string[] = []
  // A top-level create of the tenant model makes a new tenant of the request's own (tenant.createInRequest:
  // 'allow'): its rows are not another tenant's. Rows it takes from any existing tenant still are.
  const created = new Set<unknown>()
  const tenantModels = schema.tenantModels ?? schema.insertOrder.filter((m) => modelOf(schema, m).scope.kind === 'tenant')
  const topCreate = TENANT_CREATES.has(q.op) && tenantModels.includes(q.model)
  // Two levels (tenantModels given): a new project of the request's organisation is the
  // organisation's new tenant whatever the write that creates it (a project created under its
  // organisation row), and so are the projects of a new organisation; a new organisation only by a
  // top-level create; a new project of another organisation is that organisation's row.
  if (outcome.ok && (topCreate || schema.tenantModels)) {
    const mine = visibleOwners(schema)
    for (const m of tenantModels) {
      const own = modelOf(schema, m).scope.kind === 'tenant'
      if (own && !topCreate) continue
      const existed = new Set((before[m] ?? []).map((r) => r.id))
      for (const r of after[m] ?? []) {
        if (existed.has(r.id)) continue
        const owner = own ? r.id : tenantOfRow(after, m, r, schema)
        if (own || mine.has(owner) || created.has(owner)) created.add(r.id)
      }
    }
  }
  const others = (t: Tables) => otherTenantsFootprint(t, tenant, schema, created)
  // A failed write changes nothing outside this wrapper transaction (Prisma runs it atomically).
  if (outcome.ok && others(before) !== others(after))
    leaks.push(`changed other tenants' rows:\n${diff(others(before), others(after))}`)
  if (outcome.ok) {
    const rows = foreignRowsIn(outcome.value, q.model, [ownership(after, schema), ownership(before, schema)], schema, created)
    if (rows.length) leaks.push(`returned ${rows.join(', ')}`)
  }
  if (leaks.length || invalid) return { outcome, leaks, invalid }

  const ownAfter = write ? own(after) : ''
  for (const [name, client] of [
    ['deleted', dbs.deleted],
    ['altered', dbs.altered],
  ] as const) {
    const other = write
      ? await rolledBack(client, async (tx) => {
          const o = await settle(() => run(tx))
          // a failed query changed nothing, and the perturbation left the tenant's own rows alone
          return { outcome: o, own: o.ok ? own(await snap(tx)) : own(before) }
        })
      : { outcome: await settle(() => run(client)), own: '' }
    if (normalize(other.outcome) !== normalize(outcome)) {
      leaks.push(
        `answer depends on other tenants' rows: with them ${name} it is ${normalize(other.outcome).slice(0, 400)} instead of ${normalize(outcome).slice(0, 400)}`,
      )
      break
    }
    if (other.own !== ownAfter) {
      leaks.push(`effect depends on other tenants' rows (with them ${name}):\n${diff(ownAfter, other.own)}`)
      break
    }
  }
  return { outcome, leaks, invalid }
}

/** The query through tenantfence as the schema's request: reads directly or in a transaction, writes in one rolled back. */
export async function fencedRun(
  prisma: AnyClient,
  q: GenQuery,
  direct: boolean,
  schema: IsolationSchema = DEMO,
): Promise<Outcome> {
  // two levels: the context names one id per level (and the scope)
  const ctx = contextOf(schema)
  if (direct && !isWrite(q.op)) return runWithTenant(ctx, () => settle(() => runQuery(prisma, q, schema)))
  return runWithTenant(ctx, () => settle(() => rolledBack(prisma, (tx) => runQuery(tx, q, schema))))
}

function diff(a: string, b: string): string {
  const left = new Set(a.split('\n'))
  const right = new Set(b.split('\n'))
  const gone = [...left].filter((l) => !right.has(l)).map((l) => `  - ${l}`)
  const added = [...right].filter((l) => !left.has(l)).map((l) => `  + ${l}`)
  return [...gone, ...added].slice(0, 12).join('\n')
}
