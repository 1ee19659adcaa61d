// The demo app's database: a plain (unextended) Prisma client on a freshly migrated SQLite
// database. Migrations are the SQL files of prisma/migrations, applied through the driver,
// because `prisma migrate` needs an engine binary these machines cannot download.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from './generated/prisma/client.ts'

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../prisma/migrations')

/** Apply every migration.sql in order, recording them as prisma migrate would in _prisma_migrations. */
export function migrate(file: string): void {
  const db = new Database(file)
  try {
    db.pragma('journal_mode = WAL')
    db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" ("id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME, "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME, "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`)
    const applied = new Set((db.prepare('SELECT migration_name FROM _prisma_migrations').all() as { migration_name: string }[]).map((r) => r.migration_name))
    const names = readdirSync(MIGRATIONS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    for (const name of names) {
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

export interface OpenDatabase {
  prisma: PrismaClient
  /** the SQLite file */
  file: string
  close(): Promise<void>
}

/** A plain client on a freshly migrated database; a new private database when no url is given. */
export async function openDatabase(url?: string): Promise<OpenDatabase> {
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
    file,
    async close() {
      await prisma.$disconnect()
      cleanup?.()
    },
  }
}
