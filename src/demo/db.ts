// The demo app's database: a plain (unextended) Prisma client on a freshly migrated database,
// embedded SQLite by default or PostgreSQL when the url says postgres://. Migrations are the SQL
// files of prisma/migrations (SQLite) and prisma/postgres/migrations (PostgreSQL), applied through
// the driver, because `prisma migrate` needs an engine binary these machines cannot download.
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from './generated/prisma/client.ts'

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../prisma/migrations')
export const PG_MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../prisma/postgres/migrations')

export type Provider = 'sqlite' | 'postgresql'

/** Which database a DATABASE_URL names; anything else is refused with the accepted forms. */
export function providerOf(url: string): Provider {
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgresql'
  if (url.startsWith('file:')) return 'sqlite'
  throw new Error(`DATABASE_URL "${url.replace(/\/\/[^@/]*@/, '//***@')}" is neither file:<path> (SQLite) nor postgres://… or postgresql://… (PostgreSQL)`)
}

function migrationNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
}

/** Apply every migration.sql in order, recording them as prisma migrate would in _prisma_migrations. */
export function migrate(file: string): void {
  const db = new Database(file)
  try {
    db.pragma('journal_mode = WAL')
    db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" ("id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME, "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME, "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`)
    const applied = new Set((db.prepare('SELECT migration_name FROM _prisma_migrations').all() as { migration_name: string }[]).map((r) => r.migration_name))
    for (const name of migrationNames(MIGRATIONS_DIR)) {
      if (applied.has(name)) continue
      const sql = readFileSync(join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8')
      db.transaction(() => {
        db.exec(sql)
        db.prepare('INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (?, ?, current_timestamp, ?, 1)').run(crypto.randomUUID(), '', name)
      })()
    }
  } finally {
    db.close()
  }
}

// Prisma's own bookkeeping table, as `prisma migrate deploy` creates it on PostgreSQL, so a database
// migrated here can later be handed to `migrate deploy` (checksums are the files' sha256, as Prisma's).
const PG_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`

/** Apply each prisma/postgres/migrations/<name>/migration.sql not yet applied, each in its own transaction. */
export async function migratePostgres(url: string): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    // One migrator at a time (two demo processes starting on one database).
    await client.query(`SELECT pg_advisory_lock(7262014)`)
    await client.query(PG_MIGRATIONS_TABLE)
    const applied = new Set((await client.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" WHERE rolled_back_at IS NULL')).rows.map((r) => r.migration_name))
    for (const name of migrationNames(PG_MIGRATIONS_DIR)) {
      if (applied.has(name)) continue
      const sql = readFileSync(join(PG_MIGRATIONS_DIR, name, 'migration.sql'), 'utf8')
      await client.query('BEGIN')
      try {
        await client.query(sql)
        const checksum = createHash('sha256').update(sql).digest('hex')
        await client.query('INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 1)', [crypto.randomUUID(), checksum, name])
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK')
        throw new Error(`migration ${name} failed: ${(err as Error).message}`)
      }
    }
  } finally {
    await client.end()
  }
}

/**
 * Move every serial sequence past the largest id in its table. Rows inserted with explicit ids
 * (seeds, fixtures) do not advance PostgreSQL's sequences, so the next insert without an id would
 * collide; SQLite's AUTOINCREMENT has no such gap.
 */
export async function syncSequences(prisma: PrismaClient): Promise<void> {
  const rows = await prisma.$queryRawUnsafe<{ sql: string }[]>(
    `SELECT format('SELECT setval(%L, COALESCE((SELECT MAX(%I) FROM %I.%I), 0) + 1, false)',
              pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name), column_name, table_schema, table_name) AS sql
       FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'`,
  )
  for (const { sql } of rows) await prisma.$queryRawUnsafe(sql)
}

export interface OpenDatabase {
  prisma: PrismaClient
  provider: Provider
  /** the SQLite file; empty on PostgreSQL */
  file: string
  /** the database url (file:… or postgres://…) */
  url: string
  /** after rows were inserted with explicit ids: PostgreSQL's sequences catch up (no-op on SQLite) */
  syncSequences(): Promise<void>
  close(): Promise<void>
}

/**
 * A plain client on a freshly migrated database: a new private SQLite database when no url is
 * given, the SQLite file of a file: url, or the PostgreSQL database of a postgres:// url.
 */
export async function openDatabase(url?: string): Promise<OpenDatabase> {
  if (url && providerOf(url) === 'postgresql') return openPostgres(url)
  let file: string
  let cleanup: (() => void) | undefined
  if (url) {
    file = url.replace(/^file:/, '')
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'tenantfence-db-'))
    file = join(dir, 'demo.db')
    cleanup = () => rmSync(dir, { recursive: true, force: true })
  }
  migrate(file)
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
  return {
    prisma,
    provider: 'sqlite',
    file,
    url: `file:${file}`,
    syncSequences: async () => {},
    async close() {
      await prisma.$disconnect()
      cleanup?.()
    },
  }
}

async function openPostgres(url: string): Promise<OpenDatabase> {
  await migratePostgres(url)
  // Loaded only for PostgreSQL, so the embedded demo never loads pg.
  const [{ PrismaPg }, { PrismaClient: PgPrismaClient }] = await Promise.all([import('@prisma/adapter-pg'), import('./generated/prisma-pg/client.ts')])
  // The PostgreSQL client is generated from the same models (scripts/prisma-generate.mjs), so its
  // model API is the SQLite client's; the demo types both as one.
  const prisma = new PgPrismaClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as PrismaClient
  return {
    prisma,
    provider: 'postgresql',
    file: '',
    url,
    syncSequences: () => syncSequences(prisma),
    close: () => prisma.$disconnect(),
  }
}
