// A real SQLite database for the isolation tests: three tenants whose rows interleave by id and
// share attribute values (the same email in two tenants, an `admin` role in each), so that an
// unscoped filter matches other tenants' rows and a leak shows up in the rows a query returns.
// The plain client `base` seeds, resets and judges; `prisma` is the same database through tenantfence.
import { Registry } from 'prom-client'
import { openDatabase } from '../../src/demo/db.ts'
import type { PrismaClient } from '../../src/demo/generated/prisma/client.ts'
import { tenantEnforcement, type TenantEnforcementOptions } from '../../src/index.ts'
import { captureLogger, config, setFlags } from './fence.ts'
import { MODELS, model, type ModelInfo } from './isolation-schema.ts'

export { config, setFlags }

/** The request of every test: tenant 1, user 1. */
export const T1 = { tenantId: 1, userId: 1, endpoint: '/api/isolation', method: 'POST' } as const
export const FUTURE = new Date('2099-01-01T00:00:00.000Z')
export const PAST = new Date('2026-01-01T00:00:00.000Z')

/** The seed, by model. Tenant of each row in a comment: 1 is the request's, 2 and 3 are others. */
export const SEED = {
  Tenant: [
    { id: 1, name: 'Acme' },
    { id: 2, name: 'Globex' },
    { id: 3, name: 'Initech' },
  ],
  Permission: [
    { id: 1, key: 'users.read' },
    { id: 2, key: 'users.write' },
    { id: 3, key: 'roles.read' }, // linked to tenant 2's admin role only
  ],
  User: [
    { id: 1, tenantId: 1, email: 'alice@acme.test', isActive: true },
    { id: 2, tenantId: 1, email: 'bob@acme.test', isActive: true },
    { id: 3, tenantId: 2, email: 'carol@globex.test', isActive: true },
    { id: 4, tenantId: 2, email: 'alice@acme.test', isActive: true }, // same email as user 1
    { id: 5, tenantId: 1, email: 'dave@acme.test', isActive: false },
    { id: 6, tenantId: 3, email: 'erin@initech.test', isActive: true },
    { id: 7, tenantId: 2, email: 'bob@acme.test', isActive: false },
  ],
  Role: [
    { id: 1, tenantId: 1, name: 'admin', isActive: true },
    { id: 2, tenantId: 2, name: 'admin', isActive: true },
    { id: 3, tenantId: 1, name: 'member', isActive: true },
    { id: 4, tenantId: 2, name: 'member', isActive: true },
    { id: 5, tenantId: 3, name: 'admin', isActive: true },
  ],
  UserRole: [
    { id: 1, userId: 1, roleId: 1 },
    { id: 2, userId: 3, roleId: 2 },
    { id: 3, userId: 2, roleId: 3 },
    { id: 4, userId: 4, roleId: 4 },
    { id: 5, userId: 6, roleId: 5 },
    { id: 6, userId: 7, roleId: 2 },
  ],
  RolePermission: [
    { id: 1, roleId: 1, permissionId: 1 },
    { id: 2, roleId: 2, permissionId: 1 },
    { id: 3, roleId: 1, permissionId: 2 },
    { id: 4, roleId: 2, permissionId: 3 },
    { id: 5, roleId: 5, permissionId: 2 },
    { id: 6, roleId: 3, permissionId: 1 },
  ],
  RefreshToken: [
    { id: 1, userId: 1, tokenHash: 'h1', expiresAt: FUTURE },
    { id: 2, userId: 3, tokenHash: 'h3', expiresAt: FUTURE },
    { id: 3, userId: 2, tokenHash: 'h1', expiresAt: FUTURE },
    { id: 4, userId: 4, tokenHash: 'h3', expiresAt: FUTURE },
    { id: 5, userId: 6, tokenHash: 'h1', expiresAt: FUTURE },
  ],
  PasswordResetToken: [
    { id: 1, userId: 1, tokenHash: 'p1', expiresAt: FUTURE },
    { id: 2, userId: 3, tokenHash: 'p3', expiresAt: FUTURE },
    { id: 3, userId: 4, tokenHash: 'p1', expiresAt: FUTURE },
  ],
  MfaBackupCode: [
    { id: 1, userId: 1, codeHash: 'c1', usedAt: null },
    { id: 2, userId: 3, codeHash: 'c3', usedAt: null },
    { id: 3, userId: 5, codeHash: 'c1', usedAt: null },
    { id: 4, userId: 7, codeHash: 'c3', usedAt: null },
  ],
  AuditLog: [
    { id: 1, tenantId: 1, userId: 1, action: 'login', createdAt: PAST },
    { id: 2, tenantId: 2, userId: 3, action: 'login', createdAt: PAST },
    { id: 3, tenantId: 1, userId: 2, action: 'role_view', createdAt: PAST },
    { id: 4, tenantId: 3, userId: 6, action: 'login', createdAt: PAST },
  ],
  SecurityAlert: [
    { id: 1, tenantId: 1, userId: null, kind: 'mfa', createdAt: PAST },
    { id: 2, tenantId: 2, userId: null, kind: 'mfa', createdAt: PAST },
    { id: 3, tenantId: 1, userId: 2, kind: 'new_device_login', createdAt: PAST },
    { id: 4, tenantId: 2, userId: 4, kind: 'new_device_login', createdAt: PAST },
    { id: 5, tenantId: 3, userId: 6, kind: 'mfa', createdAt: PAST },
  ],
} as const satisfies Record<string, ReadonlyArray<Record<string, unknown>>>

/** Models in an order that satisfies foreign keys when inserting (reverse it to delete). */
export const INSERT_ORDER = [
  'Tenant',
  'Permission',
  'User',
  'Role',
  'UserRole',
  'RolePermission',
  'RefreshToken',
  'PasswordResetToken',
  'MfaBackupCode',
  'AuditLog',
  'SecurityAlert',
] as const

/** Seed rows of one model owned by this tenant (by the rule's reading of ownership, computed from the seed). */
export function seedIds(modelName: keyof typeof SEED, tenant: number): number[] {
  const rows = SEED as unknown as Tables
  return (rows[modelName] ?? []).filter((r) => tenantOfRow(rows, modelName, r) === tenant).map((r) => r.id)
}

type Row = Record<string, unknown> & { id: number }
export type Tables = Record<string, Row[]>
/** Any client with the demo's model delegates: the plain client, a transaction, or a fenced one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyClient = any

/** Every row of every model, read through this client (a transaction sees its own writes). */
export async function readTables(client: AnyClient): Promise<Tables> {
  const out: Tables = {}
  for (const name of INSERT_ORDER)
    out[name] = (await client[model(name).prop].findMany({ orderBy: { id: 'asc' } })) as Row[]
  return out
}

/**
 * The tenant a row belongs to, following the schema's scope: its tenant column, the tenant row's id,
 * or the row its scoping relation points at. null for global rows; undefined when the chain dangles.
 */
export function tenantOfRow(tables: Tables, modelName: string, row: Row): number | null | undefined {
  const info = model(modelName)
  switch (info.scope.kind) {
    case 'global':
      return null
    case 'tenant':
      return row.id
    case 'field':
      return row.tenantId as number
    case 'via': {
      const rel = info.relations.find((r) => r.name === (info.scope as { relation: string }).relation)!
      const parent = tables[rel.model]?.find((p) => p.id === row[rel.fk!])
      return parent ? tenantOfRow(tables, rel.model, parent) : undefined
    }
  }
}

/** For each model, the tenant of each row id. */
export function ownership(tables: Tables): Map<string, Map<number, number | null | undefined>> {
  const out = new Map<string, Map<number, number | null | undefined>>()
  for (const [name, rows] of Object.entries(tables))
    out.set(name, new Map(rows.map((r) => [r.id, tenantOfRow(tables, name, r)])))
  return out
}

/**
 * What belongs to tenants other than `tenant`, as one comparable string: every row owned by another
 * tenant, and every row (of any tenant) whose foreign keys point at another tenant's row, so that a
 * write which links a row of `tenant` to another tenant's row (the foreign-key IDOR) changes it too.
 */
export function otherTenantsFootprint(tables: Tables, tenant: number): string {
  const own = ownership(tables)
  const foreign = (owner: number | null | undefined) => owner !== null && owner !== tenant
  const parts: string[] = []
  for (const name of INSERT_ORDER) {
    const info: ModelInfo = MODELS[name]!
    for (const row of tables[name] ?? []) {
      const mine = own.get(name)!.get(row.id)
      const links = info.relations.filter((r) => r.fk && row[r.fk] !== null && row[r.fk] !== undefined)
      const linksForeign = links.some((r) => foreign(own.get(r.model)?.get(row[r.fk!] as number)))
      if (foreign(mine) || linksForeign) parts.push(`${name}:${stable(row)}`)
    }
  }
  return parts.join('\n')
}

/** The rows of `tenant` and the global rows, as one comparable string (what the request may see). */
export function ownFootprint(tables: Tables, tenant: number): string {
  const own = ownership(tables)
  const parts: string[] = []
  for (const name of INSERT_ORDER) {
    for (const row of tables[name] ?? []) {
      const owner = own.get(name)!.get(row.id)
      if (owner === tenant || owner === null) parts.push(`${name}:${stable(row)}`)
    }
  }
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

/** Insert the seed through the plain client (seeding is not tenant traffic). */
export async function seedIsolation(base: PrismaClient): Promise<void> {
  const b = base as AnyClient
  for (const name of INSERT_ORDER) await b[model(name).prop].createMany({ data: SEED[name] })
}

/** Empty every table (and the autoincrement counters) and seed again: each test starts from the same rows. */
export async function resetIsolation(base: PrismaClient): Promise<void> {
  await base.$transaction([
    ...[...INSERT_ORDER].reverse().map((name) => base.$executeRawUnsafe(`DELETE FROM "${name}"`)),
    base.$executeRawUnsafe('DELETE FROM sqlite_sequence'),
  ])
  await seedIsolation(base)
}

export type IsolationOptions = Partial<TenantEnforcementOptions> & {
  /** issue 10's option; passed to tenantEnforcement() (where the new option is expected to live) */
  references?: 'verify' | 'violation'
}

/** A seeded database, the plain client, and tenantfence clients reading flags from process.env. */
export async function isolationDatabase(flags: Record<string, string>, options: IsolationOptions = {}) {
  setFlags(flags)
  const db = await openDatabase()
  await seedIsolation(db.prisma)
  const { logger, lines } = captureLogger()
  const handles: Array<{ close(): void }> = []
  /** Another tenantfence client on the same database (other options: references, hardened, ...). */
  const fenced = (opts: IsolationOptions = {}): AnyClient => {
    const fence = tenantEnforcement({
      config,
      logger,
      registry: new Registry(),
      ...(opts as Partial<TenantEnforcementOptions>),
    })
    handles.push(fence)
    return db.prisma.$extends(fence)
  }
  const prisma = fenced(options)
  return {
    base: db.prisma as AnyClient,
    prisma,
    fenced,
    lines,
    violations: () => lines.filter((l) => l.msg === 'TENANT_VIOLATION'),
    reset: async () => {
      lines.length = 0
      await resetIsolation(db.prisma)
    },
    async close() {
      for (const h of handles) h.close()
      await db.close()
    },
  }
}
export type IsolationDb = Awaited<ReturnType<typeof isolationDatabase>>
