// A real Prisma client on a private, migrated, seeded database (SQLite, or PostgreSQL: a database
// of its own on the run's server) with tenantfence on top, and the log lines it wrote captured in memory.
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterAll } from 'vitest'
import { openDatabase, type OpenDatabase, type Provider } from '../../src/demo/db.ts'
import { seededDatabase } from './sqlite-copy.ts'
import { tenantEnforcement, type TenantEnforcementOptions } from '../../src/index.ts'
import { FLAG_NAMES } from '../../src/config/flags.ts'
import config from '../../tenantfence.config.ts'
import { createTestDatabase, runSql, type TestDatabase } from './postgres.ts'

export { config }
export type { Provider }

/**
 * The databases the enforcement tests run on: `describe.each(PROVIDERS)`. TENANTFENCE_PROVIDERS
 * narrows them (the Prisma 6 run sets `sqlite`: its client is generated for SQLite only).
 */
export const PROVIDERS: readonly Provider[] = (() => {
  const all = ['sqlite', 'postgresql'] as const satisfies readonly Provider[]
  const wanted = process.env.TENANTFENCE_PROVIDERS?.split(',').map((p) => p.trim()).filter(Boolean)
  if (!wanted?.length) return all
  const bad = wanted.filter((p) => !(all as readonly string[]).includes(p))
  if (bad.length) throw new Error(`TENANTFENCE_PROVIDERS names ${bad.join(', ')}: valid are ${all.join(', ')}`)
  return all.filter((p) => wanted.includes(p))
})()

export function captureLogger() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l))
      cb()
    },
  })
  return { logger: pino({ level: 'debug' }, stream), lines }
}

/** Set exactly these flags in process.env (every other TENANT_ENFORCEMENT_* removed). */
export function setFlags(flags: Record<string, string>) {
  for (const name of FLAG_NAMES) delete process.env[name]
  Object.assign(process.env, flags)
}

export async function seed(prisma: Awaited<ReturnType<typeof openDatabase>>['prisma']) {
  await prisma.tenant.createMany({ data: [{ id: 1, name: 'Acme' }, { id: 2, name: 'Globex' }] })
  await prisma.user.createMany({
    data: [
      { id: 1, tenantId: 1, email: 'alice@acme.test' },
      { id: 2, tenantId: 1, email: 'bob@acme.test' },
      { id: 3, tenantId: 2, email: 'carol@globex.test' },
    ],
  })
  await prisma.role.createMany({ data: [{ id: 1, tenantId: 1, name: 'admin' }, { id: 2, tenantId: 2, name: 'admin' }] })
  await prisma.permission.createMany({ data: [{ id: 1, key: 'users.read' }, { id: 2, key: 'users.write' }] })
  await prisma.userRole.createMany({ data: [{ id: 1, userId: 1, roleId: 1 }, { id: 2, userId: 3, roleId: 2 }] })
  await prisma.rolePermission.createMany({ data: [{ id: 1, roleId: 1, permissionId: 1 }, { id: 2, roleId: 2, permissionId: 1 }] })
  const later = new Date(Date.now() + 3600_000)
  await prisma.refreshToken.createMany({ data: [{ id: 1, userId: 1, tokenHash: 'h1', expiresAt: later }, { id: 2, userId: 3, tokenHash: 'h3', expiresAt: later }] })
  await prisma.passwordResetToken.createMany({ data: [{ id: 1, userId: 1, tokenHash: 'p1', expiresAt: later }, { id: 2, userId: 3, tokenHash: 'p3', expiresAt: later }] })
  await prisma.mfaBackupCode.createMany({ data: [{ id: 1, userId: 1, codeHash: 'c1' }, { id: 2, userId: 3, codeHash: 'c3' }] })
  await prisma.auditLog.createMany({ data: [{ id: 1, tenantId: 1, userId: 1, action: 'login' }, { id: 2, tenantId: 2, userId: 3, action: 'login' }] })
  await prisma.securityAlert.createMany({ data: [{ id: 1, tenantId: 1, kind: 'mfa' }, { id: 2, tenantId: 2, kind: 'mfa' }] })
}

interface SharedPostgres {
  database: TestDatabase
  /** the owner of the tables (the tests' base client) */
  db: OpenDatabase
  /** a superuser: empties and seeds the tables whatever policies they have */
  admin: OpenDatabase
  /** the tables to empty between tests */
  tables: string
}
/** One database per worker and setup SQL ('' for none, or row-level security policies, say). */
const sharedPg = new Map<string, Promise<SharedPostgres>>()
// The worker's databases go with the test file that used them.
afterAll(async () => {
  const all = [...sharedPg.values()]
  sharedPg.clear()
  for (const p of all) {
    const shared = await p.catch(() => undefined)
    if (!shared) continue
    await shared.db.close()
    await shared.admin.close()
    await shared.database.drop()
  }
})

/**
 * One PostgreSQL database per worker (and setup SQL), emptied and seeded again for every test:
 * TRUNCATE and a seed cost a few milliseconds, where a new database per test (CREATE DATABASE, new
 * clients, the policies installed again) cost ~0.3-1 s. Tests run one at a time in a worker, so
 * they never share the data.
 */
export async function freshPostgres(setupSql = ''): Promise<SharedPostgres> {
  let pending = sharedPg.get(setupSql)
  if (!pending) {
    pending = (async () => {
      const database = await createTestDatabase()
      const admin = await openDatabase(database.url('admin'))
      const db = await openDatabase(database.url('owner'))
      if (setupSql) await runSql(database.url('owner'), setupSql)
      const rows = await admin.prisma.$queryRawUnsafe<{ t: string }[]>(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations'`)
      return { database, db, admin, tables: rows.map((r) => r.t).join(', ') }
    })()
    sharedPg.set(setupSql, pending)
    pending.catch(() => sharedPg.delete(setupSql))
  }
  const shared = await pending
  await shared.admin.prisma.$executeRawUnsafe(`TRUNCATE ${shared.tables} RESTART IDENTITY CASCADE`)
  await seed(shared.admin.prisma)
  await shared.admin.syncSequences()
  return shared
}

let seededTemplate: Promise<string> | undefined

/** A PostgreSQL database migrated and seeded once per worker, to copy for a test that changes more than rows. */
function seededPostgresTemplate(): Promise<string> {
  return (seededTemplate ??= (async () => {
    const template = await createTestDatabase()
    const db = await openDatabase(template.url('owner'))
    try {
      await seed(db.prisma)
      await db.syncSequences()
    } finally {
      await db.close()
    }
    return template.name
  })().catch((err: unknown) => {
    seededTemplate = undefined
    throw err
  }))
}

/** A PostgreSQL database of the test's own (CREATE DATABASE from the seeded template), dropped at close. */
async function ownPostgres(): Promise<{ database: TestDatabase; db: OpenDatabase }> {
  const database = await createTestDatabase({ template: await seededPostgresTemplate() })
  const db = await openDatabase(database.url('owner'))
  return { database, db: { ...db, close: async () => (await db.close(), await database.drop()) } }
}

/**
 * A seeded database, the plain client, and a tenantfence client reading flags from process.env.
 * `provider` picks the database: a private SQLite file (default) or a PostgreSQL database of its
 * own (connected as the owner of its tables, not a superuser: row-level security applies to it).
 */
export async function fencedDatabase(flags: Record<string, string>, options: Partial<TenantEnforcementOptions> = {}, provider: Provider = 'sqlite', { own = false, setupSql = '' } = {}) {
  setFlags(flags)
  // PostgreSQL: the worker's database (with `setupSql` installed once), emptied and seeded; `own`: a
  // database of the test's own, for a test that changes more than rows (drops policies, roles).
  // SQLite: a copy of a seeded template file.
  const onPg = provider !== 'postgresql' ? undefined : own ? await ownPostgres() : await freshPostgres(setupSql)
  const pgDatabase = onPg?.database
  const db = onPg ? (own ? onPg.db : { ...onPg.db, close: async () => {} }) : await seededDatabase(seed)
  const { logger, lines } = captureLogger()
  const registry = new Registry()
  const fenced = () => {
    const fence = tenantEnforcement({ config, logger, registry, ...options })
    return { fence, prisma: db.prisma.$extends(fence) }
  }
  let made: ReturnType<typeof fenced>
  try {
    made = fenced()
  } catch (err) {
    // an extension refused at creation (a bad option): nothing of this test may be left behind
    await db.close()
    throw err
  }
  const { fence, prisma } = made
  const counter = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
    return (metric?.values ?? []).filter((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val)).reduce((sum, v) => sum + Number(v.value), 0)
  }
  const violations = () => lines.filter((l) => l.msg === 'TENANT_VIOLATION')
  return {
    provider,
    /** the PostgreSQL database (urls per role), undefined on SQLite */
    pg: pgDatabase,
    base: db.prisma,
    prisma,
    fence,
    registry,
    lines,
    violations,
    counter,
    async close() {
      fence.close()
      await db.close()
    },
  }
}
