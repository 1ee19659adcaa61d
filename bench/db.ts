// The databases the benchmark runs on: SQLite in memory and SQLite on a file, both through
// Prisma 7 + @prisma/adapter-better-sqlite3, seeded with the same rows.
//
// In memory: the adapter opens `new Database(':memory:')` when it connects, so the schema must be
// created on that very connection. We wrap the adapter factory and apply every
// prisma/migrations/*/migration.sql through the adapter's own executeScript right after connect.
// On file: openDatabase() from the demo (a fresh private SQLite file under os.tmpdir(), WAL).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { MIGRATIONS_DIR, openDatabase } from '../src/demo/db.ts'
import { PrismaClient } from '../src/demo/generated/prisma/client.ts'

export type DbKind = 'memory' | 'file'

export interface BenchDatabase {
  kind: DbKind
  prisma: PrismaClient
  /** where the rows live, for the report */
  where: string
  close(): Promise<void>
}

export const TENANTS = 10
export const USERS_PER_TENANT = 10

function migrationSql(): string {
  const names = readdirSync(MIGRATIONS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
  return names.map((n) => readFileSync(join(MIGRATIONS_DIR, n, 'migration.sql'), 'utf8')).join('\n')
}

/** A driver-adapter factory that migrates the connection it opens (needed for ':memory:'). */
function migratingAdapter(url: string) {
  const inner = new PrismaBetterSqlite3({ url })
  const sql = migrationSql()
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    async connect() {
      const adapter = await inner.connect()
      await adapter.executeScript(sql)
      return adapter
    },
    connectToShadowDb: () => inner.connectToShadowDb(),
  }
}

async function seed(prisma: PrismaClient): Promise<void> {
  await prisma.tenant.createMany({ data: Array.from({ length: TENANTS }, (_, i) => ({ id: i + 1, name: `tenant ${i + 1}` })) })
  const users = []
  for (let t = 1; t <= TENANTS; t++) for (let u = 0; u < USERS_PER_TENANT; u++) users.push({ tenantId: t, email: `user${u}@t${t}.example` })
  await prisma.user.createMany({ data: users })
}

export async function openBenchDatabase(kind: DbKind): Promise<BenchDatabase> {
  if (kind === 'memory') {
    const prisma = new PrismaClient({ adapter: migratingAdapter(':memory:') as unknown as PrismaBetterSqlite3 })
    await prisma.$connect()
    await seed(prisma)
    return { kind, prisma, where: "better-sqlite3 ':memory:' (migrations applied on the adapter's own connection)", close: () => prisma.$disconnect() }
  }
  const db = await openDatabase()
  await seed(db.prisma)
  return { kind, prisma: db.prisma, where: `SQLite file in ${db.file.replace(/\/[^/]+\/demo\.db$/, '')} (WAL, openDatabase())`, close: () => db.close() }
}
