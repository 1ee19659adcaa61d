// A real Prisma client on a private, migrated, seeded database (SQLite, or PostgreSQL: a database
// of its own on the run's server) with tenantfence on top, and the log lines it wrote captured in memory.
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { openDatabase, type Provider } from '../../src/demo/db.ts'
import { tenantEnforcement, type TenantEnforcementOptions } from '../../src/index.ts'
import { FLAG_NAMES } from '../../src/config/flags.ts'
import config from '../../tenantfence.config.ts'
import { createTestDatabase, type TestDatabase } from './postgres.ts'

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

let seededTemplate: Promise<string> | undefined

/** A PostgreSQL database migrated and seeded once per worker; each test gets a copy (faster than seeding each). */
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

/**
 * A seeded database, the plain client, and a tenantfence client reading flags from process.env.
 * `provider` picks the database: a private SQLite file (default) or a PostgreSQL database of its
 * own (connected as the owner of its tables, not a superuser: row-level security applies to it).
 */
export async function fencedDatabase(flags: Record<string, string>, options: Partial<TenantEnforcementOptions> = {}, provider: Provider = 'sqlite') {
  setFlags(flags)
  const pgDatabase = provider === 'postgresql' ? await createTestDatabase({ template: await seededPostgresTemplate() }) : undefined
  const db = await openDatabase(pgDatabase?.url('owner'))
  if (!pgDatabase) await seed(db.prisma)
  const { logger, lines } = captureLogger()
  const registry = new Registry()
  const fence = tenantEnforcement({ config, logger, registry, ...options })
  const prisma = db.prisma.$extends(fence)
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
      await pgDatabase?.drop()
    },
  }
}
