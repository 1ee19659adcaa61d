// `npm run bench:hook-profile [-- --prisma 6] [--queries N]`: where a query extension's time goes
// inside Prisma. V8's sampling CPU profiler (node:inspector) over N scoped `user.findMany` (10 rows,
// SQLite in memory) per client: the plain client, an empty `$allOperations` hook, and tenantfence
// enforce. Prisma's runtime is minified: samples are mapped back to Prisma's own source functions
// through the source map it ships. Printed: µs per query by function, the functions whose time grows
// over the plain client's, and by how much.
//   --prisma 6    the Prisma 6.19 client of test/prisma6 (run `npm run test:prisma6` once to install it)
import { readFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runWithTenant } from '../src/enforcement/context.ts'
import { tenantEnforcement } from '../src/enforcement/extension.ts'
import { config, FLAGS, nullLogger, setEnvFlags } from './setup.ts'
import { fmt, table } from './stats.ts'

const SAMPLE_US = 50
// Prisma's query-extension machinery, by source file: what an extended client adds to every query.
const MACHINERY = /core\/extensions\/(applyQueryExtensions|applyResultExtensions|applyAllResultExtensions|visitQueryResult|resultUtils|MergedExtensionsList)|utils\/deepCloneArgs|core\/request\/createPrismaPromise|dmmfToJSModelName|client-common\/src\/Cache/

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}
export interface Users {
  user: { findMany(a: unknown): PromiseLike<unknown[]> }
  permission: { findMany(a: unknown): PromiseLike<unknown[]> }
  $extends(e: unknown): Users
}
type TraceMap = { new (map: unknown): unknown }
type OriginalPositionFor = (map: unknown, pos: { line: number; column: number }) => { source: string | null; name: string | null; line: number | null }

/**
 * The demo schema on SQLite in memory with the Prisma 6 or 7 client: 10 tenants, 100 users, 10 permissions.
 * `onStatement`: called with each statement the driver adapter runs (BEGIN for a transaction).
 */
export async function openPrisma(prisma: '6' | '7', onStatement?: (sql: string) => void): Promise<{ client: Users; runtime: string }> {
  const dir = prisma === '6' ? join(root, 'test/prisma6') : root
  const { PrismaClient } = (await import(prisma === '6' ? join(dir, 'generated/client.ts') : join(root, 'src/demo/generated/prisma/client.ts'))) as { PrismaClient: new (o: unknown) => Users & { $connect(): Promise<void>; tenant: { createMany(a: unknown): Promise<unknown> }; user: { createMany(a: unknown): Promise<unknown> }; permission: { createMany(a: unknown): Promise<unknown> } } }
  const adapterModule = (await import(prisma === '6' ? join(dir, 'node_modules/@prisma/adapter-better-sqlite3/dist/index.mjs') : '@prisma/adapter-better-sqlite3')) as Record<string, new (o: { url: string }) => { connect(): Promise<{ executeScript(sql: string): Promise<void> }> } & Record<string, unknown>>
  const Adapter = (adapterModule.PrismaBetterSqlite3 ?? adapterModule.PrismaBetterSQLite3)!
  const { readdirSync } = await import('node:fs')
  const migrations = join(root, 'prisma/migrations')
  const sql = readdirSync(migrations, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => readFileSync(join(migrations, d.name, 'migration.sql'), 'utf8')).join('\n')
  const inner = new Adapter({ url: ':memory:' })
  const adapter = { provider: inner.provider, adapterName: inner.adapterName, connect: async () => { const a = await inner.connect(); await a.executeScript(sql); return onStatement ? counting(a, onStatement) : a } }
  const client = new PrismaClient({ adapter })
  await client.$connect()
  await client.tenant.createMany({ data: Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `t${i + 1}` })) })
  await client.user.createMany({ data: Array.from({ length: 100 }, (_, i) => ({ tenantId: (i % 10) + 1, email: `u${i}@t.example` })) })
  await client.permission.createMany({ data: Array.from({ length: 10 }, (_, i) => ({ id: i + 1, key: `perm.${i + 1}` })) })
  return { client, runtime: join(dir, 'node_modules/@prisma/client/runtime/client.js') }
}

/** The adapter's connection (and the transactions it opens), reporting each statement it runs. */
function counting<T extends object>(connection: T, onStatement: (sql: string) => void): T {
  return new Proxy(connection, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown
      if (typeof value !== 'function') return value
      if (key === 'queryRaw' || key === 'executeRaw') return (q: { sql: string }) => (onStatement(q.sql), value.call(target, q))
      if (key === 'startTransaction') return async (...a: unknown[]) => (onStatement('BEGIN'), counting((await value.apply(target, a)) as object, onStatement))
      return value.bind(target)
    },
  })
}

async function profile(client: Users, queries: number): Promise<CpuProfile> {
  const args = { where: { tenantId: 1 } }
  const run = (n: number) => runWithTenant({ tenantId: 1, userId: 7, endpoint: '/api/users', method: 'GET' }, async () => {
    for (let i = 0; i < n; i++) await client.user.findMany(args)
  })
  await run(3000)
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLE_US })
    await session.post('Profiler.start')
    await run(queries)
    return ((await session.post('Profiler.stop')) as unknown as { profile: CpuProfile }).profile
  } finally {
    await session.post('Profiler.disable').catch(() => {})
    session.disconnect()
  }
}

async function main() {
  if (process.argv[1] !== fileURLToPath(import.meta.url)) return
  const argv = process.argv.slice(2)
  const prisma = argv[argv.indexOf('--prisma') + 1] === '6' && argv.includes('--prisma') ? '6' : '7'
  const queries = argv.includes('--queries') ? Number(argv[argv.indexOf('--queries') + 1]) : 20_000
  setEnvFlags(FLAGS.enforce)
  const { client, runtime } = await openPrisma(prisma)
  // Prisma's source functions, through the source map its runtime ships.
  const require = createRequire(import.meta.url)
  const { TraceMap: Map_, originalPositionFor } = require('@jridgewell/trace-mapping') as { TraceMap: TraceMap; originalPositionFor: OriginalPositionFor }
  const map = new Map_(JSON.parse(readFileSync(`${runtime}.map`, 'utf8')))
  const nameOf = (f: ProfileNode['callFrame']): string => {
    if (f.url.endsWith('/runtime/client.js') || f.url.endsWith('/runtime/client.mjs')) {
      const p = originalPositionFor(map, { line: f.lineNumber + 1, column: f.columnNumber })
      return `prisma ${(p.source ?? '?').replace(/^(\.\.\/)+src\/runtime\//, '')}:${p.line ?? '?'} ${f.functionName || '(anonymous)'}`
    }
    if (f.url === '') return f.functionName || '(native)'
    const where = f.url.replace(/^file:\/\//, '').replace(root, '').replace(/.*node_modules\//, 'node_modules/')
    return `${where}:${f.lineNumber + 1} ${f.functionName || '(anonymous)'}`
  }
  const scenarios: { id: string; client: Users }[] = [
    { id: 'plain', client },
    { id: 'empty $allOperations hook', client: client.$extends({ query: { $allOperations: ({ args, query }: { args: unknown; query: (a: unknown) => Promise<unknown> }) => query(args) } }) },
    { id: 'tenantfence enforce, query extension', client: client.$extends(tenantEnforcement({ config, logger: nullLogger().logger, audit: false, hook: 'query-extension' })) },
    { id: 'tenantfence enforce, request path', client: client.$extends(tenantEnforcement({ config, logger: nullLogger().logger, audit: false })) },
  ]
  // every client warm before any is profiled (the first profiled would otherwise pay for shared code)
  for (const s of scenarios) await profile(s.client, 0)
  const byScenario = new Map<string, { total: number; self: Map<string, number> }>()
  for (const s of scenarios) {
    const p = await profile(s.client, queries)
    const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]))
    const self = new Map<string, number>()
    let total = 0
    for (let i = 0; i < p.samples.length; i++) {
      const f = frames.get(p.samples[i]!)!
      if (f.functionName === '(idle)') continue
      // Each sample counts one sampling interval: on a loaded machine the time between samples
      // (timeDeltas) includes the time the thread waited for a core, charged to whatever ran next.
      const dt = SAMPLE_US / queries
      total += dt
      const name = nameOf(f)
      self.set(name, (self.get(name) ?? 0) + dt)
    }
    byScenario.set(s.id, { total, self })
  }
  console.log(`Prisma ${prisma}, SQLite in memory, ${queries} scoped user.findMany per client, load ${loadavg()[0]!.toFixed(2)}`)
  console.log(table(['client', 'µs per query (CPU samples)'], scenarios.map((s) => [s.id, fmt(byScenario.get(s.id)!.total)])))
  const machinery = (self: Map<string, number>) => [...self].filter(([k]) => MACHINERY.test(k)).reduce((a, [, v]) => a + v, 0)
  const ours = (self: Map<string, number>) => [...self].filter(([k]) => k.startsWith('/src/')).reduce((a, [, v]) => a + v, 0)
  console.log(table(['client', "Prisma's extension machinery, µs per query", "tenantfence's own code, µs per query"], scenarios.map((s) => [s.id, fmt(machinery(byScenario.get(s.id)!.self), 2), fmt(ours(byScenario.get(s.id)!.self), 2)])))
  const plain = byScenario.get('plain')!
  for (const s of scenarios.slice(1)) {
    const r = byScenario.get(s.id)!
    const diff = [...new Set([...r.self.keys(), ...plain.self.keys()])].map((k) => [k, (r.self.get(k) ?? 0) - (plain.self.get(k) ?? 0)] as const)
    diff.sort((a, b) => b[1] - a[1])
    console.log(`\n${s.id}: +${fmt(r.total - plain.total)} µs over plain; the functions that grew most (self µs per query)`)
    console.log(table(['function', 'Δ µs'], diff.slice(0, 18).map(([k, v]) => [k.slice(0, 110), fmt(v, 2)])))
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
