// The Prisma clients and databases of the two-level fixture (test/fixtures/two-level-app: Langfuse's
// Organization → Project). Two clients from one hand-written schema: SQLite (schema.prisma) and
// PostgreSQL (the same models, provider changed, derived here into the git-ignored generated/ folder
// so the two cannot drift). Each is generated on first use, offline (the schema engine is a stub:
// `prisma generate` never runs it), when what is there is older than the schema, under a lock so
// that test files running in parallel never read a half-written client. The tables come from the
// fixture's migration.sql / migration.pg.sql, applied through the driver (prisma migrate cannot run here).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { createTestDatabase, ROLES, runSql, type TestDatabase } from './postgres.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const TWO_LEVEL_FIXTURE = join(ROOT, 'test/fixtures/two-level-app')
export const TWO_LEVEL_SCHEMA = join(TWO_LEVEL_FIXTURE, 'schema.prisma')
export const TWO_LEVEL_MIGRATION = join(TWO_LEVEL_FIXTURE, 'migration.sql')
export const TWO_LEVEL_PG_MIGRATION = join(TWO_LEVEL_FIXTURE, 'migration.pg.sql')
const GENERATED = join(TWO_LEVEL_FIXTURE, 'generated')
const PG_SCHEMA = join(GENERATED, 'schema.pg.prisma')
const CLIENTS = { sqlite: join(GENERATED, 'sqlite/client.ts'), postgresql: join(GENERATED, 'pg/client.ts') } as const
export type Provider = keyof typeof CLIENTS
/** Held while one test file generates (mkdir is atomic: the one that creates it generates). */
const LOCK = join(TWO_LEVEL_FIXTURE, 'generated.lock')

/** The PostgreSQL schema: the same models, provider postgresql, its client in generated/pg. */
export function derivePgSchema(text: string): string {
  const datasource = /(datasource\s+\w+\s*\{[^}]*?provider\s*=\s*)"sqlite"/
  const output = /(generator\s+client\s*\{[^}]*?output\s*=\s*)"[^"]*"/
  if (!datasource.test(text) || !output.test(text))
    throw new Error(`${TWO_LEVEL_SCHEMA}: expected a datasource with provider = "sqlite" and a generator client with an output`)
  return `// DO NOT EDIT: derived from ../schema.prisma by test/helpers/two-level-client.ts.\n${text
    .replace(datasource, '$1"postgresql"')
    .replace(output, '$1"./pg"')}`
}

const isFresh = () => {
  const source = statSync(TWO_LEVEL_SCHEMA).mtimeMs
  return Object.values(CLIENTS).every((c) => existsSync(c) && statSync(c).mtimeMs >= source)
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Generate both clients unless what is there is newer than the schema. */
export async function ensureTwoLevelClients(): Promise<void> {
  const deadline = Date.now() + 120_000
  while (!isFresh()) {
    try {
      mkdirSync(LOCK)
    } catch {
      // a lock left by a killed run: generation takes seconds, not minutes
      const held = statSync(LOCK, { throwIfNoEntry: false })
      if (held && Date.now() - held.mtimeMs > 90_000) rmSync(LOCK, { recursive: true, force: true })
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK} (another run generating the clients?)`)
      await sleep(200)
      continue
    }
    try {
      if (!isFresh()) {
        mkdirSync(GENERATED, { recursive: true })
        writeFileSync(PG_SCHEMA, derivePgSchema(readFileSync(TWO_LEVEL_SCHEMA, 'utf8')))
        generate(TWO_LEVEL_SCHEMA, CLIENTS.sqlite)
        generate(PG_SCHEMA, CLIENTS.postgresql)
      }
    } finally {
      rmSync(LOCK, { recursive: true, force: true })
    }
  }
}

function generate(schema: string, client: string): void {
  const env: NodeJS.ProcessEnv = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' }
  // `prisma generate` wants a schema-engine binary it never runs; any executable skips the download
  env.PRISMA_SCHEMA_ENGINE_BINARY ??= existsSync('/bin/true') ? '/bin/true' : process.execPath
  const cli = join(ROOT, 'node_modules/prisma/build/index.js')
  const run = spawnSync(process.execPath, [cli, 'generate', '--schema', schema], { cwd: ROOT, env, encoding: 'utf8' })
  if (run.status !== 0 || !existsSync(client))
    throw new Error(`prisma generate --schema ${schema} failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`)
}

/** Any client of the fixture: plain, in a transaction, or through tenantfence. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TwoLevelClient = any
type ClientClass = new (options: { adapter: unknown }) => TwoLevelClient
const classes = new Map<Provider, ClientClass>()

/** The generated PrismaClient class (imported by path: it does not exist until generated). */
export async function twoLevelClientClass(provider: Provider): Promise<ClientClass> {
  let cls = classes.get(provider)
  if (!cls) {
    await ensureTwoLevelClients()
    cls = ((await import(pathToFileURL(CLIENTS[provider]).href)) as { PrismaClient: ClientClass }).PrismaClient
    classes.set(provider, cls)
  }
  return cls
}

export interface TwoLevelDatabase {
  provider: Provider
  prisma: TwoLevelClient
  /** SQLite: the database file */
  file?: string
  /** PostgreSQL: the test's own database */
  pg?: TestDatabase
  close(): Promise<void>
}

/** A plain client on a new private SQLite database holding the fixture's tables. */
export async function openTwoLevelSqlite(): Promise<TwoLevelDatabase> {
  const PrismaClient = await twoLevelClientClass('sqlite')
  const dir = mkdtempSync(join(tmpdir(), 'tenantfence-two-level-'))
  const file = join(dir, 'app.db')
  const sqlite = new Database(file)
  try {
    sqlite.pragma('journal_mode = WAL')
    sqlite.exec(readFileSync(TWO_LEVEL_MIGRATION, 'utf8'))
  } finally {
    sqlite.close()
  }
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
  return {
    provider: 'sqlite',
    prisma,
    file,
    async close() {
      await prisma.$disconnect()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * A plain client (as the owner of the tables) on a new PostgreSQL database of the run's server holding
 * the fixture's tables, the app role granted DML on them. `setupSql` runs as the owner after the tables.
 */
export async function openTwoLevelPostgres(options: { setupSql?: string } = {}): Promise<TwoLevelDatabase> {
  const PrismaClient = await twoLevelClientClass('postgresql')
  // an empty database (not the demo's template): only this fixture's tables
  const pg = await createTestDatabase({ template: 'template0' })
  try {
    await runSql(
      pg.url('owner'),
      `${readFileSync(TWO_LEVEL_PG_MIGRATION, 'utf8')}\nGRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${ROLES.app};\n${options.setupSql ?? ''}`,
    )
  } catch (e) {
    await pg.drop()
    throw e
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: pg.url('owner'), max: 2 }) })
  return {
    provider: 'postgresql',
    prisma,
    pg,
    async close() {
      await prisma.$disconnect()
      await pg.drop()
    },
  }
}
