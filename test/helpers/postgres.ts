// A real PostgreSQL for the tests: ONE server per test run, each test in its own database.
//
// vitest's globalSetup (this file's setup/teardown) makes a run folder; the first test that asks
// for PostgreSQL starts the server in it (initdb into a folder owned by `postgres`, a free port on
// 127.0.0.1, its socket in the folder), under a lock so the other workers wait for it and share it;
// teardown stops it and removes the folder. A run that never asks for PostgreSQL never starts it.
// Each test gets `CREATE DATABASE … TEMPLATE` of a database migrated once per run (about 0.1 s).
//
// A missing server fails the test with the install hint (never skips): `apt-get install -y postgresql`.
import { spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { inject } from 'vitest'
import { migratePostgres } from '../../src/demo/db.ts'
import { freePort } from './prometheus.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    postgresRunDir: string
  }
}

export const POSTGRES_INSTALL = 'install it with `apt-get install -y postgresql` (Debian/Ubuntu; binaries in /usr/lib/postgresql/<version>/bin)'

/** Roles of every test database: the superuser creates databases; the owner owns the tables; the app role only has DML. */
export const ROLES = { admin: 'postgres', owner: 'tenantfence_owner', app: 'tenantfence_app' } as const
export type Role = keyof typeof ROLES
const TEMPLATE = 'tenantfence_template'

/** The folder of initdb/pg_ctl: $PG_BIN, Debian's newest /usr/lib/postgresql/<v>/bin, or PATH. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env, debianRoot = '/usr/lib/postgresql'): string | undefined {
  if (env.PG_BIN && existsSync(join(env.PG_BIN, 'pg_ctl'))) return env.PG_BIN
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot).filter((v) => existsSync(join(debianRoot, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a))
    if (versions[0]) return join(debianRoot, versions[0], 'bin')
  }
  const which = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8', env: { PATH: env.PATH ?? '' } })
  return which.status === 0 && which.stdout.trim() ? join(which.stdout.trim(), '..') : undefined
}

/** Throws with the install hint when PostgreSQL's server binaries are missing. */
export function requirePostgres(env: NodeJS.ProcessEnv = process.env, debianRoot?: string): string {
  const bin = postgresBinDir(env, debianRoot)
  if (!bin || !existsSync(join(bin, 'initdb'))) throw new Error(`PostgreSQL server not found${env.CI === 'true' ? ' (CI=true)' : ''}: ${POSTGRES_INSTALL}`)
  return bin
}

export interface PostgresServer {
  host: string
  port: number
  /** folder of the data directory and the socket */
  dir: string
  url(database: string, role?: Role): string
  stop(): Promise<void>
}

// initdb refuses to run as root: as root, run the server binaries as `postgres` in a folder it owns.
function asServerUser(bin: string, args: string[]) {
  const root = process.getuid?.() === 0
  const cmd = root ? 'runuser' : bin
  const argv = root ? ['-u', 'postgres', '--', bin, ...args] : args
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000 })
  if (r.error || r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stdout}${r.stderr}`)
}

function ownByServerUser(dir: string): void {
  if (process.getuid?.() !== 0) return
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (id.status !== 0) throw new Error(`running as root but there is no "postgres" user to run the server as: ${POSTGRES_INSTALL}`)
  chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()))
}

const urlFor = (host: string, port: number) => (database: string, role: Role = 'owner') => `postgres://${ROLES[role]}@${host}:${port}/${database}`

/** Start a PostgreSQL server in `dir` (a new temp folder by default); `stop()` stops it and removes the folder. */
export async function startPostgres(dir = mkdtempSync(join(tmpdir(), 'tf-pg-'))): Promise<PostgresServer> {
  const bin = requirePostgres()
  ownByServerUser(dir)
  const data = join(dir, 'data')
  asServerUser(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', ROLES.admin, '--no-sync', '-E', 'UTF8', '--locale', 'C'])
  const port = await freePort()
  // Durability off: test databases are thrown away; this makes CREATE DATABASE and commits cheap.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`
  asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start'])
  const host = '127.0.0.1'
  const stop = async () => {
    if (existsSync(join(data, 'postmaster.pid'))) asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
    rmSync(dir, { recursive: true, force: true })
  }
  return { host, port, dir, url: urlFor(host, port), stop }
}

/** Roles, and the migrated template every test database is copied from. */
export async function prepareCluster(server: PostgresServer): Promise<void> {
  const admin = new pg.Client({ connectionString: server.url('postgres', 'admin') })
  await admin.connect()
  try {
    await admin.query(`CREATE ROLE ${ROLES.owner} LOGIN NOSUPERUSER NOBYPASSRLS`)
    await admin.query(`CREATE ROLE ${ROLES.app} LOGIN NOSUPERUSER NOBYPASSRLS`)
    await admin.query(`CREATE DATABASE ${TEMPLATE} OWNER ${ROLES.owner}`)
  } finally {
    await admin.end()
  }
  // Migrated as the owner, as an app's deploy would: the tables belong to the owner role.
  await migratePostgres(server.url(TEMPLATE, 'owner'))
  const owner = new pg.Client({ connectionString: server.url(TEMPLATE, 'owner') })
  await owner.connect()
  try {
    await owner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${ROLES.app}; GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${ROLES.app}`)
  } finally {
    await owner.end()
  }
}

// ---- vitest globalSetup: one run folder, the server started on demand, stopped at the end ----

export function setup(project: { provide(key: 'postgresRunDir', value: string): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'tf-pg-run-'))
  project.provide('postgresRunDir', dir)
  return async () => {
    const file = join(dir, 'server.json')
    if (existsSync(file)) {
      const info = JSON.parse(readFileSync(file, 'utf8')) as { dir: string }
      const bin = postgresBinDir()
      if (bin && existsSync(join(info.dir, 'data', 'postmaster.pid'))) asServerUser(join(bin, 'pg_ctl'), ['-D', join(info.dir, 'data'), '-m', 'immediate', '-w', 'stop'])
      rmSync(info.dir, { recursive: true, force: true })
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

let shared: Promise<PostgresServer> | undefined

/** The run's server, started by the first caller of any worker (the others wait for it). */
export function sharedPostgres(): Promise<PostgresServer> {
  return (shared ??= locate().catch((err: unknown) => {
    shared = undefined
    throw err
  }))
}

async function locate(): Promise<PostgresServer> {
  requirePostgres()
  const runDir = inject('postgresRunDir')
  if (!runDir) throw new Error('test/helpers/postgres.ts is not in vitest.config.ts globalSetup')
  const info = join(runDir, 'server.json')
  const ready = join(runDir, 'ready')
  const failed = join(runDir, 'failed.txt')
  let owner = false
  try {
    mkdirSync(join(runDir, 'lock'))
    owner = true
  } catch {
    // another worker is starting it
  }
  if (owner) {
    try {
      const server = await startPostgres()
      // Written at once, so the teardown stops the server even if preparing it fails.
      writeFileSync(info, JSON.stringify({ host: server.host, port: server.port, dir: server.dir }))
      await prepareCluster(server)
      writeFileSync(ready, '')
    } catch (err) {
      writeFileSync(failed, (err as Error).message)
      throw err
    }
  }
  const deadline = Date.now() + 120_000
  while (!existsSync(ready)) {
    if (existsSync(failed)) throw new Error(`PostgreSQL did not start: ${readFileSync(failed, 'utf8')}`)
    if (Date.now() > deadline) throw new Error('PostgreSQL did not start within 120 s')
    await new Promise((r) => setTimeout(r, 50))
  }
  const { host, port, dir } = JSON.parse(readFileSync(info, 'utf8')) as { host: string; port: number; dir: string }
  // Stopped by the globalSetup teardown, never by a test.
  return { host, port, dir, url: urlFor(host, port), stop: async () => {} }
}

let adminPool: pg.Pool | undefined
let counter = 0

export interface TestDatabase {
  name: string
  server: PostgresServer
  /** connection url of this database as a role (default: the owner of the tables) */
  url(role?: Role): string
  drop(): Promise<void>
}

/**
 * A new database owned by the owner role: a copy of the migrated template, or of `template` (a
 * database this worker prepared, e.g. migrated and seeded once, then copied for every test).
 */
export async function createTestDatabase(options: { template?: string } = {}): Promise<TestDatabase> {
  const server = await sharedPostgres()
  adminPool ??= new pg.Pool({ connectionString: server.url('postgres', 'admin'), max: 2, allowExitOnIdle: true })
  const name = `t_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`
  await adminPool.query(`CREATE DATABASE ${name} TEMPLATE ${options.template ?? TEMPLATE} OWNER ${ROLES.owner} STRATEGY FILE_COPY`)
  return {
    name,
    server,
    url: (role: Role = 'owner') => server.url(name, role),
    async drop() {
      await adminPool!.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

/** A migrated database on a server of one's own (the benchmark): prepares the cluster, then copies the template. */
export async function createTestDatabaseOn(server: PostgresServer): Promise<Omit<TestDatabase, 'drop'>> {
  await prepareCluster(server)
  const admin = new pg.Client({ connectionString: server.url('postgres', 'admin') })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE bench TEMPLATE ${TEMPLATE} OWNER ${ROLES.owner}`)
  } finally {
    await admin.end()
  }
  return { name: 'bench', server, url: (role: Role = 'owner') => server.url('bench', role) }
}

/** Run SQL (several statements: pg sends a multi-statement string as one query) as the role of the url. */
export async function runSql(url: string, sql: string): Promise<pg.QueryResult[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const result = await client.query(sql)
    return Array.isArray(result) ? result : [result]
  } finally {
    await client.end()
  }
}
