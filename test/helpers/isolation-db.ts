// A real SQLite database for the isolation tests, seeded from a schema description (the demo's by
// default, helpers/isolation-demo.ts): ownership of every row, footprints that tell what a write
// changed, seeding and reset. The plain client `base` seeds, resets and judges; `prisma` is the same
// database through tenantfence.
import { Registry } from 'prom-client'
import { tenantEnforcement, type TenantEnforcementOptions } from '../../src/index.ts'
import type { TenantFenceConfig } from '../../src/config/index.ts'
import { captureLogger, config, setFlags } from './fence.ts'
import { DEMO } from './isolation-demo.ts'
import {
  modelOf,
  visibleOwners,
  type IsolationSchema,
  type Row,
  type RowId,
  type TenantId,
  type Tables,
} from './isolation-schema.ts'

export { config, setFlags }
export { FUTURE, INSERT_ORDER, PAST, SEED, T1 } from './isolation-demo.ts'
export type { Row, Tables } from './isolation-schema.ts'

/** Any client with the schema's model delegates: the plain client, a transaction, or a fenced one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyClient = any

/** Seed rows of one model owned by this tenant (by the rule's reading of ownership, computed from the seed). */
export function seedIds(modelName: string, tenant: TenantId, schema: IsolationSchema = DEMO): RowId[] {
  const rows = schema.seed as Tables
  return (rows[modelName] ?? []).filter((r) => tenantOfRow(rows, modelName, r, schema) === tenant).map((r) => r.id)
}

/** Every row of every model, read through this client (a transaction sees its own writes). */
export async function readTables(client: AnyClient, schema: IsolationSchema = DEMO): Promise<Tables> {
  const out: Tables = {}
  for (const name of schema.insertOrder)
    out[name] = (await client[modelOf(schema, name).prop].findMany({ orderBy: { id: 'asc' } })) as Row[]
  return out
}

/**
 * The tenant a row belongs to, following the schema's scope: its tenant column, the tenant row's id,
 * or the row its scoping relation points at. null for global rows; undefined when the chain dangles.
 */
export function tenantOfRow(
  tables: Tables,
  modelName: string,
  row: Row,
  schema: IsolationSchema = DEMO,
): TenantId | null | undefined {
  const info = modelOf(schema, modelName)
  switch (info.scope.kind) {
    case 'global':
      return null
    case 'tenant':
      return row.id
    case 'field':
      return row[info.scope.field ?? schema.tenantField] as TenantId
    case 'via': {
      const rel = info.relations.find((r) => r.name === (info.scope as { relation: string }).relation)!
      const parent = tables[rel.model]?.find((p) => p.id === row[rel.fk!])
      return parent ? tenantOfRow(tables, rel.model, parent, schema) : undefined
    }
    case 'owner': {
      const { model, fk } = info.scope
      const owner = tables[model]?.find((o) => o[fk] === row.id)
      // no owner holds it (yet, or any more: deleting the owner leaves it): nobody's, as a global row
      return owner ? tenantOfRow(tables, model, owner, schema) : null
    }
  }
}

export type Ownership = Map<string, Map<RowId, TenantId | null | undefined>>

/** For each model, the tenant of each row id. */
export function ownership(tables: Tables, schema: IsolationSchema = DEMO): Ownership {
  const out: Ownership = new Map()
  for (const name of schema.insertOrder)
    out.set(name, new Map((tables[name] ?? []).map((r) => [r.id, tenantOfRow(tables, name, r, schema)])))
  return out
}

/**
 * What belongs to tenants other than `tenant`, as one comparable string: every row owned by another
 * tenant, and every row (of any tenant, join tables included) whose foreign keys point at another
 * tenant's row, so that a write which links a row of `tenant` to another tenant's row (the
 * foreign-key IDOR, a many-to-many link) changes it too.
 */
export function otherTenantsFootprint(
  tables: Tables,
  tenant: TenantId = DEMO.request.tenantId,
  schema: IsolationSchema = DEMO,
  /** tenants the query itself created (a new team made by the request is not another tenant's) */
  created: ReadonlySet<unknown> = new Set(),
): string {
  const own = ownership(tables, schema)
  // two levels: the request may touch more than one owner (its project and its organisation)
  const mine = schema.visible ? visibleOwners(schema) : new Set([tenant])
  const foreign = (owner: TenantId | null | undefined) => owner !== null && !mine.has(owner) && !created.has(owner)
  const parts: string[] = []
  for (const name of schema.insertOrder) {
    const info = modelOf(schema, name)
    for (const row of tables[name] ?? []) {
      const owner = own.get(name)!.get(row.id)
      const links = info.relations.filter((r) => r.fk && row[r.fk] !== null && row[r.fk] !== undefined)
      const linksForeign = links.some((r) => foreign(own.get(r.model)?.get(row[r.fk!] as RowId)))
      if (foreign(owner) || linksForeign) parts.push(`${name}:${stable(row)}`)
    }
  }
  for (const link of schema.linkTables)
    for (const row of tables[link.table] ?? [])
      if (foreign(own.get(link.a)?.get(row.A as RowId)) || foreign(own.get(link.b)?.get(row.B as RowId)))
        parts.push(`${link.table}:${stable(row)}`)
  return parts.join('\n')
}

/** The rows of `tenant` and the global rows, as one comparable string (what the request may see). */
export function ownFootprint(
  tables: Tables,
  tenant: TenantId = DEMO.request.tenantId,
  schema: IsolationSchema = DEMO,
): string {
  const own = ownership(tables, schema)
  const mine = schema.visible ? visibleOwners(schema) : new Set([tenant])
  const visible = (owner: TenantId | null | undefined) => owner === null || mine.has(owner)
  const parts: string[] = []
  for (const name of schema.insertOrder)
    for (const row of tables[name] ?? []) if (visible(own.get(name)!.get(row.id))) parts.push(`${name}:${stable(row)}`)
  for (const link of schema.linkTables)
    for (const row of tables[link.table] ?? [])
      if (visible(own.get(link.a)?.get(row.A as RowId)) && visible(own.get(link.b)?.get(row.B as RowId)))
        parts.push(`${link.table}:${stable(row)}`)
  return parts.join('\n')
}

/** JSON with Dates as ISO strings and keys in a fixed order. */
export function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Date) return `Date(${v.toISOString()})`
    if (typeof v === 'bigint') return `${v}n`
    if (v && typeof v === 'object' && !Array.isArray(v))
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
    return v
  })
}

interface RuntimeModel {
  dbName: string | null
  fields: Array<{ name: string; kind: string; dbName?: string }>
}
/** Prisma's own data model of the client (table and column names under @@map/@map). */
export function runtimeModels(client: AnyClient): Record<string, RuntimeModel> {
  return (client as { _runtimeDataModel: { models: Record<string, RuntimeModel> } })._runtimeDataModel.models
}
export const tableOf = (client: AnyClient, modelName: string): string =>
  runtimeModels(client)[modelName]!.dbName ?? modelName

/** Insert the seed through the plain client (seeding is not tenant traffic). */
export async function seedIsolation(base: AnyClient, schema: IsolationSchema = DEMO): Promise<void> {
  for (const name of schema.insertOrder) await base[modelOf(schema, name).prop].createMany({ data: schema.seed[name] })
  for (const link of schema.linkTables)
    for (const [a, b] of schema.linkSeed[link.table] ?? [])
      await base.$executeRawUnsafe(`INSERT INTO "${link.table}" ("A", "B") VALUES (?, ?)`, a, b)
}

/** Empty every table (and the autoincrement counters) and seed again: each test starts from the same rows. */
export async function resetIsolation(base: AnyClient, schema: IsolationSchema = DEMO): Promise<void> {
  const [sequences] = (await base.$queryRawUnsafe(
    `SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_sequence'`,
  )) as Array<{ n: number | bigint }>
  await base.$transaction([
    ...schema.linkTables.map((l) => base.$executeRawUnsafe(`DELETE FROM "${l.table}"`)),
    ...[...schema.insertOrder].reverse().map((name) => base.$executeRawUnsafe(`DELETE FROM "${tableOf(base, name)}"`)),
    ...(Number(sequences!.n) ? [base.$executeRawUnsafe('DELETE FROM sqlite_sequence')] : []),
  ])
  await seedIsolation(base, schema)
}

export type IsolationOptions = Partial<TenantEnforcementOptions> & {
  /** issue 10's option; passed to tenantEnforcement() (where the new option is expected to live) */
  references?: 'verify' | 'violation'
}

/** A seeded database of this schema, the plain client, and tenantfence clients reading flags from process.env. */
export async function openIsolation(
  schema: IsolationSchema,
  appConfig: TenantFenceConfig,
  flags: Record<string, string>,
  options: IsolationOptions = {},
) {
  setFlags(flags)
  const db = await schema.open()
  const base = db.prisma as AnyClient
  await seedIsolation(base, schema)
  const { logger, lines } = captureLogger()
  const handles: Array<{ close(): void }> = []
  /** Another tenantfence client on the same database (other options: references, hardened, ...). */
  const fenced = (opts: IsolationOptions = {}): AnyClient => {
    const fence = tenantEnforcement({
      config: appConfig,
      logger,
      registry: new Registry(),
      ...(opts as Partial<TenantEnforcementOptions>),
    })
    handles.push(fence)
    return base.$extends(fence)
  }
  const prisma = fenced(options)
  return {
    schema,
    base,
    prisma,
    fenced,
    lines,
    violations: () => lines.filter((l) => l.msg === 'TENANT_VIOLATION'),
    reset: async () => {
      lines.length = 0
      await resetIsolation(base, schema)
    },
    async close() {
      for (const h of handles) h.close()
      await db.close()
    },
  }
}

/** The demo's seeded database (round 1). */
export function isolationDatabase(flags: Record<string, string>, options: IsolationOptions = {}) {
  return openIsolation(DEMO, config, flags, options)
}
export type IsolationDb = Awaited<ReturnType<typeof openIsolation>>
