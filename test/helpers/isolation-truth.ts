// Ground truth for the differential fuzz test, taken from the database and never from the rule:
// a query leaks when, run on the plain client inside a transaction that is rolled back, it
//   - returned a row of another tenant (each returned object mapped back to its model and row),
//   - changed what belongs to another tenant (their rows, or a row linked to one of theirs), or
//   - gave an answer that depends on other tenants' rows (run again after deleting them, and after
//     altering them: a count, a filter, a cursor or an error that changes is an oracle).
import { openDatabase, type OpenDatabase } from '../../src/demo/db.ts'
import { runWithTenant } from '../../src/index.ts'
import {
  INSERT_ORDER,
  T1,
  otherTenantsFootprint,
  ownFootprint,
  ownership,
  seedIsolation,
  type AnyClient,
  type Tables,
} from './isolation-db.ts'
import { isWrite, type GenQuery } from './isolation-gen.ts'
import { model } from './isolation-schema.ts'

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

/** The query on this client (a fresh copy of its arguments each time: nothing may share them). */
export function runQuery(client: AnyClient, q: GenQuery): Promise<unknown> {
  return client[model(q.model).prop][q.op](structuredClone(q.args))
}

const DAY = 86_400_000
/** Comparable text of an outcome: timestamps set by the database to "now" are the same across runs. */
export function normalize(o: Outcome): string {
  const now = Date.now()
  const body = o.ok ? o.value : { error: o.error }
  return JSON.stringify(body, function (k, v: unknown) {
    const raw = (this as Record<string, unknown>)[k]
    if (raw instanceof Date) return Math.abs(raw.getTime() - now) < DAY ? 'Date(now)' : `Date(${raw.toISOString()})`
    if (typeof v === 'bigint') return `${v}n`
    return v
  })
}

// ---- snapshots -----------------------------------------------------------------------------------

let snapshotSql: string | undefined
/** One statement that reads every table as JSON (createdAt left out: the database sets it to now). */
function tablesSql(client: AnyClient): string {
  if (snapshotSql) return snapshotSql
  const dm = (
    client as { _runtimeDataModel: { models: Record<string, { fields: Array<{ name: string; kind: string }> }> } }
  )._runtimeDataModel
  const parts = INSERT_ORDER.map((name) => {
    const cols = dm.models[name]!.fields.filter((f) => f.kind === 'scalar' && f.name !== 'createdAt').map(
      (f) => `'${f.name}', "${f.name}"`,
    )
    return `(SELECT json_group_array(json_object(${cols.join(', ')})) FROM (SELECT * FROM "${name}" ORDER BY "id")) AS "${name}"`
  })
  snapshotSql = `SELECT ${parts.join(', ')}`
  return snapshotSql
}

export async function snapshot(client: AnyClient): Promise<Tables> {
  const [row] = (await client.$queryRawUnsafe(tablesSql(client))) as Array<Record<string, string>>
  const out: Tables = {}
  for (const name of INSERT_ORDER) out[name] = JSON.parse(row![name]!)
  return out
}

/** Delete every row of the other tenants (foreign keys cascade from users and roles). */
export async function deleteOthers(client: AnyClient, tenant = 1): Promise<void> {
  for (const sql of [
    `DELETE FROM "SecurityAlert" WHERE "tenantId" <> ${tenant}`,
    `DELETE FROM "AuditLog" WHERE "tenantId" <> ${tenant}`,
    `DELETE FROM "User" WHERE "tenantId" <> ${tenant}`,
    `DELETE FROM "Role" WHERE "tenantId" <> ${tenant}`,
    `DELETE FROM "Tenant" WHERE "id" <> ${tenant}`,
  ])
    await client.$executeRawUnsafe(sql)
}

/** Change every attribute of the other tenants' rows that a filter could test. */
export async function alterOthers(client: AnyClient, tenant = 1): Promise<void> {
  const theirUsers = `(SELECT "id" FROM "User" WHERE "tenantId" <> ${tenant})`
  for (const sql of [
    `UPDATE "User" SET "email" = 'zz-' || "email", "isActive" = NOT "isActive" WHERE "tenantId" <> ${tenant}`,
    `UPDATE "Role" SET "name" = 'zz-' || "name", "isActive" = NOT "isActive" WHERE "tenantId" <> ${tenant}`,
    `UPDATE "AuditLog" SET "action" = 'zz-' || "action", "userId" = NULL WHERE "tenantId" <> ${tenant}`,
    `UPDATE "SecurityAlert" SET "kind" = 'zz-' || "kind" WHERE "tenantId" <> ${tenant}`,
    `UPDATE "Tenant" SET "name" = 'zz-' || "name" WHERE "id" <> ${tenant}`,
    `UPDATE "RefreshToken" SET "tokenHash" = 'zz-' || "tokenHash" WHERE "userId" IN ${theirUsers}`,
    `UPDATE "PasswordResetToken" SET "tokenHash" = 'zz-' || "tokenHash" WHERE "userId" IN ${theirUsers}`,
    `UPDATE "MfaBackupCode" SET "codeHash" = 'zz-' || "codeHash", "usedAt" = 0 WHERE "userId" IN ${theirUsers}`,
  ])
    await client.$executeRawUnsafe(sql)
}

// ---- verdicts ------------------------------------------------------------------------------------

/** Rows (model, id) of tenants other than `tenant` among the objects a query returned. */
export function foreignRowsIn(
  value: unknown,
  modelName: string,
  owners: Array<ReturnType<typeof ownership>>,
  tenant = 1,
): string[] {
  const found: string[] = []
  const walk = (v: unknown, m: string) => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, m))
    if (!v || typeof v !== 'object' || v instanceof Date) return
    const obj = v as Record<string, unknown>
    if (typeof obj.id === 'number') {
      const owner = owners.map((o) => o.get(m)?.get(obj.id as number)).find((x) => x !== undefined)
      if (owner !== null && owner !== undefined && owner !== tenant) found.push(`${m}#${obj.id} (tenant ${owner})`)
    }
    for (const rel of model(m).relations) if (rel.name in obj) walk(obj[rel.name], rel.model)
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
  original: AnyClient
  deleted: AnyClient
  altered: AnyClient
  /** the original's rows (reads leave them as they are) */
  seed: Tables
  close(): Promise<void>
}

export async function openTruthDatabases(original: AnyClient, tenant = 1): Promise<TruthDatabases> {
  const copies: OpenDatabase[] = []
  const perturbed = async (perturb: (c: AnyClient, t: number) => Promise<void>) => {
    const copy = await openDatabase()
    copies.push(copy)
    await seedIsolation(copy.prisma)
    await perturb(copy.prisma, tenant)
    return copy.prisma as AnyClient
  }
  return {
    original,
    deleted: await perturbed(deleteOthers),
    altered: await perturbed(alterOthers),
    seed: await snapshot(original),
    async close() {
      for (const c of copies) await c.close()
    },
  }
}

/** What the query does on the plain client, for a request of `tenant` (1). */
export async function groundTruth(dbs: TruthDatabases, q: GenQuery, tenant = 1): Promise<Truth> {
  const write = isWrite(q.op)
  const { outcome, before, after } = write
    ? await rolledBack(dbs.original, async (tx) => {
        const before = await snapshot(tx)
        const outcome = await settle(() => runQuery(tx, q))
        // a query that fails closes Prisma's interactive transaction; it changed nothing in any case
        const after = outcome.ok ? await snapshot(tx) : before
        return { outcome, before, after }
      })
    : { outcome: await settle(() => runQuery(dbs.original, q)), before: dbs.seed, after: dbs.seed }
  const invalid = !outcome.ok && outcome.error === 'PrismaClientValidationError'
  const leaks: string[] = []
  // A failed write changes nothing outside this wrapper transaction (Prisma runs it atomically).
  if (outcome.ok && otherTenantsFootprint(before, tenant) !== otherTenantsFootprint(after, tenant))
    leaks.push(
      `changed other tenants' rows:\n${diff(otherTenantsFootprint(before, tenant), otherTenantsFootprint(after, tenant))}`,
    )
  if (outcome.ok) {
    const rows = foreignRowsIn(outcome.value, q.model, [ownership(after), ownership(before)], tenant)
    if (rows.length) leaks.push(`returned ${rows.join(', ')}`)
  }
  if (leaks.length || invalid) return { outcome, leaks, invalid }

  const ownAfter = write ? ownFootprint(after, tenant) : ''
  for (const [name, client] of [
    ['deleted', dbs.deleted],
    ['altered', dbs.altered],
  ] as const) {
    const other = write
      ? await rolledBack(client, async (tx) => {
          const o = await settle(() => runQuery(tx, q))
          // a failed query changed nothing, and the perturbation left the tenant's own rows alone
          return { outcome: o, own: o.ok ? ownFootprint(await snapshot(tx), tenant) : ownFootprint(before, tenant) }
        })
      : { outcome: await settle(() => runQuery(client, q)), own: '' }
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

/** The query through tenantfence as tenant 1: reads directly or in a transaction, writes in one rolled back. */
export async function fencedRun(prisma: AnyClient, q: GenQuery, direct: boolean): Promise<Outcome> {
  if (direct && !isWrite(q.op)) return runWithTenant(T1, () => settle(() => runQuery(prisma, q)))
  return runWithTenant(T1, () => settle(() => rolledBack(prisma, (tx) => runQuery(tx, q))))
}

function diff(a: string, b: string): string {
  const left = new Set(a.split('\n'))
  const right = new Set(b.split('\n'))
  const gone = [...left].filter((l) => !right.has(l)).map((l) => `  - ${l}`)
  const added = [...right].filter((l) => !left.has(l)).map((l) => `  + ${l}`)
  return [...gone, ...added].slice(0, 12).join('\n')
}
