// A freshly migrated and seeded SQLite database per test for the price of a file copy. Migrating
// and seeding through Prisma costs ~60 ms idle (~340 ms on a loaded 2-core machine); copying the
// seeded file costs ~6 ms (~43 ms loaded). Each test still gets its own file: nothing is shared
// but the template, built once per test file and seed function.
import { copyFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { openDatabase, type OpenDatabase } from '../../src/demo/db.ts'
import { tempDir } from './tmp.ts'

type Seed = (prisma: OpenDatabase['prisma']) => Promise<unknown>

const templates = new Map<Seed, Promise<string>>()

async function buildTemplate(seed: Seed): Promise<string> {
  const file = join(tempDir('tf-db-template-'), 'template.db')
  const db = await openDatabase(`file:${file}`)
  try {
    await seed(db.prisma)
  } finally {
    await db.close()
  }
  // One self-contained file to copy: fold the write-ahead log back in.
  const raw = new Database(file)
  raw.pragma('journal_mode = DELETE')
  raw.close()
  return file
}

/**
 * A private copy of a database migrated from prisma/migrations and seeded by `seed`, opened with the
 * plain client (the same as openDatabase() followed by seed()). close() removes the copy.
 */
export async function seededDatabase(seed: Seed): Promise<OpenDatabase> {
  let template = templates.get(seed)
  if (!template) {
    template = buildTemplate(seed)
    templates.set(seed, template)
  }
  const dir = tempDir('tf-db-')
  const file = join(dir, 'test.db')
  copyFileSync(await template, file)
  const db = await openDatabase(`file:${file}`) // migrations already applied: none runs again
  return {
    ...db,
    async close() {
      await db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
