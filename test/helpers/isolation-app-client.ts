// The Prisma client and databases of the second isolation schema (test/fixtures/isolation-app): a
// multi-team app, not the demo. Its client is generated on first use, offline (the schema engine is a
// stub: `prisma generate` never runs it), into a git-ignored folder beside the schema, and only when
// the schema is newer than what was generated. Its tables come from the fixture's migration.sql,
// applied through the driver as the demo's migrations are (prisma migrate cannot run here).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const APP_FIXTURE = join(ROOT, 'test/fixtures/isolation-app')
export const APP_SCHEMA = join(APP_FIXTURE, 'schema.prisma')
export const APP_MIGRATION = join(APP_FIXTURE, 'migration.sql')
const GENERATED = join(APP_FIXTURE, 'generated')
const CLIENT = join(GENERATED, 'client.ts')
/** Held while one test file generates, so that files running in parallel never read a half-written client. */
const LOCK = join(APP_FIXTURE, 'generated.lock')

const isFresh = () => existsSync(CLIENT) && statSync(CLIENT).mtimeMs >= statSync(APP_SCHEMA).mtimeMs
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Generate the fixture's client unless what is there is newer than the schema. */
export async function ensureAppClient(): Promise<void> {
  const deadline = Date.now() + 120_000
  while (!isFresh()) {
    try {
      mkdirSync(LOCK) // atomic: the one that creates it generates, the others wait for it to go
    } catch {
      // a lock left by a killed run: generation takes seconds, not minutes
      const held = statSync(LOCK, { throwIfNoEntry: false })
      if (held && Date.now() - held.mtimeMs > 90_000) rmSync(LOCK, { recursive: true, force: true })
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK} (another run generating the client?)`)
      await sleep(200)
      continue
    }
    try {
      if (!isFresh()) generate()
    } finally {
      rmSync(LOCK, { recursive: true, force: true })
    }
  }
}

function generate(): void {
  const env: NodeJS.ProcessEnv = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' }
  // `prisma generate` wants a schema-engine binary it never runs; any executable skips the download
  env.PRISMA_SCHEMA_ENGINE_BINARY ??= existsSync('/bin/true') ? '/bin/true' : process.execPath
  const cli = join(ROOT, 'node_modules/prisma/build/index.js')
  const run = spawnSync(process.execPath, [cli, 'generate', '--schema', APP_SCHEMA], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  })
  if (run.status !== 0 || !existsSync(CLIENT))
    throw new Error(`prisma generate --schema ${APP_SCHEMA} failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`)
}

/** Any client of the app schema: plain, in a transaction, or through tenantfence. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AppClient = any

interface AppModule {
  PrismaClient: new (options: { adapter: unknown }) => AppClient
}
let appModule: AppModule | undefined

/** The generated module (imported by path: it does not exist until ensureAppClient ran). */
async function loadAppModule(): Promise<AppModule> {
  if (!appModule) {
    await ensureAppClient()
    appModule = (await import(pathToFileURL(CLIENT).href)) as AppModule
  }
  return appModule
}

export interface AppDatabase {
  prisma: AppClient
  file: string
  close(): Promise<void>
}

/** A plain client on a new private database holding the fixture's tables. */
export async function openAppDatabase(): Promise<AppDatabase> {
  const { PrismaClient } = await loadAppModule()
  const dir = mkdtempSync(join(tmpdir(), 'tenantfence-app-'))
  const file = join(dir, 'app.db')
  const sqlite = new Database(file)
  try {
    sqlite.pragma('journal_mode = WAL')
    sqlite.exec(readFileSync(APP_MIGRATION, 'utf8'))
  } finally {
    sqlite.close()
  }
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
  return {
    prisma,
    file,
    async close() {
      await prisma.$disconnect()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
