// `npm run bench:rls` — what the rls option costs on PostgreSQL: the same scoped query (findMany,
// 10 rows of 100) through the plain client, tenantfence enforce, and tenantfence enforce with
// rls: true on a database with the generated policies. In interleaved rounds, each scenario's
// time compared with the plain client's in the same round (median of the per-round ratios).
//
// The plain and enforce clients connect as the superuser, whom the policies never hold (an app
// without row-level security); enforce + rls connects as the owner of the tables, whom FORCE
// subjects to them, so its numbers hold everything rls adds: the transaction around each query,
// the set_config statement, and the policies' predicates.
//
// A query on its own runs two ways (src/enforcement/rls-adapter.ts): `enforce_rls` is a client
// extended before its first query, as an app does it, so its lone queries run in a transaction of
// the driver adapter; `enforce_rls_prisma_itx` is extended after its engine connected, so it keeps
// one Prisma interactive transaction per query (what every lone query did before issue 20).
//   --quick       a short run (smoke)
//   --json FILE   also write the results as JSON
import { readFileSync, writeFileSync } from 'node:fs'
import pg from 'pg'
import { loadavg } from 'node:os'
import { runWithTenant } from '../src/enforcement/context.ts'
import { tenantEnforcement } from '../src/enforcement/extension.ts'
import { openDatabase } from '../src/demo/db.ts'
import { createTestDatabaseOn, startPostgres } from '../test/helpers/postgres.ts'
import { config, FLAGS, nullLogger, setEnvFlags } from './setup.ts'
import { fmt, int, pct, percentile, Samples, spread, table } from './stats.ts'

interface Client {
  user: { findMany(args: { where: { tenantId: number } }): PromiseLike<unknown[]> }
  $transaction(fn: (tx: Client) => Promise<unknown>): Promise<unknown>
}
interface Scenario {
  id: string
  label: string
  client: Client
  /** the queries of a round inside one interactive transaction, each its own set_config */
  inTransaction?: boolean
}

const ARGS = { where: { tenantId: 1 } }

async function main() {
  const argv = process.argv.slice(2)
  const quick = argv.includes('--quick')
  const jsonAt = argv.indexOf('--json')
  const json = jsonAt >= 0 ? argv[jsonAt + 1] : undefined
  const rounds = quick ? 3 : 60
  const queries = quick ? 30 : 200
  const warmup = 20
  const server = await startPostgres()
  try {
    const db = await createTestDatabaseOn(server)
    const owner = await openDatabase(db.url('owner'))
    const admin = await openDatabase(db.url('admin'))
    // not connected yet: extended below before its first query
    const rlsOwner = await openDatabase(db.url('owner'))
    // the database's own share: the owner under the policies, the tenant set for the whole session
    const policiesOnly = await openDatabase(`${db.url('owner')}?options=${encodeURIComponent('-c app.tenant_id=1')}`)
    await owner.prisma.tenant.createMany({ data: Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `t${i + 1}` })) })
    await owner.prisma.user.createMany({ data: Array.from({ length: 100 }, (_, i) => ({ tenantId: (i % 10) + 1, email: `u${i}@t.example` })) })
    const sql = new pg.Client({ connectionString: db.url('owner') })
    await sql.connect()
    await sql.query(readFileSync('prisma/rls/migration.sql', 'utf8'))
    await sql.query('ANALYZE')
    await sql.end()
    setEnvFlags(FLAGS.enforce)
    const log = nullLogger()
    const fence = () => tenantEnforcement({ config, logger: log.logger, audit: false })
    const fenceRls = () => tenantEnforcement({ config, logger: log.logger, audit: false, rls: true })
    const scenarios: Scenario[] = [
      { id: 'plain', label: 'plain client', client: admin.prisma as unknown as Client },
      { id: 'enforce', label: 'tenantfence enforce', client: admin.prisma.$extends(fence()) as unknown as Client },
      { id: 'policies', label: 'plain client held by the policies (tenant set per session, no tenantfence)', client: policiesOnly.prisma as unknown as Client },
      { id: 'enforce_rls', label: 'tenantfence enforce + rls (policies applied)', client: rlsOwner.prisma.$extends(fenceRls()) as unknown as Client },
      { id: 'enforce_rls_prisma_itx', label: 'enforce + rls, a Prisma interactive transaction per query (before)', client: owner.prisma.$extends(fenceRls()) as unknown as Client },
      { id: 'enforce_itx', label: 'enforce, in an interactive transaction', client: admin.prisma.$extends(fence()) as unknown as Client, inTransaction: true },
      { id: 'enforce_rls_itx', label: 'enforce + rls, in an interactive transaction', client: rlsOwner.prisma.$extends(fenceRls()) as unknown as Client, inTransaction: true },
    ]
    // Which way each rls client sends a lone query: counted on its base client's $transaction.
    const itxCalls = new Map<object, number>()
    for (const base of [owner.prisma, rlsOwner.prisma] as unknown as Record<string, (...a: unknown[]) => unknown>[]) {
      const real = base.$transaction!
      itxCalls.set(base, 0)
      base.$transaction = function (this: unknown, ...a: unknown[]) {
        itxCalls.set(base, itxCalls.get(base)! + 1)
        return real.apply(this, a)
      }
    }
    const ctx = { tenantId: 1, userId: 1, endpoint: '/api/users', method: 'GET' }
    for (const s of scenarios) {
      const rows = await runWithTenant(ctx, () => s.client.user.findMany(ARGS))
      if (rows.length !== 10) throw new Error(`bench: ${s.id} returned ${rows.length} rows, expected 10`)
    }
    if (itxCalls.get(rlsOwner.prisma) !== 0) throw new Error('bench: enforce_rls sent its lone query through a Prisma interactive transaction; expected the driver adapter\'s')
    if (itxCalls.get(owner.prisma) !== 1) throw new Error('bench: enforce_rls_prisma_itx did not send its lone query through a Prisma interactive transaction')
    const lat = scenarios.map(() => new Samples(rounds * queries))
    const perRound: number[][] = scenarios.map(() => [])
    const round = new Samples(queries)
    const run = async (s: Scenario) => {
      const loop = async (c: Client) => {
        for (let i = 0; i < warmup; i++) await c.user.findMany(ARGS)
        for (let i = 0; i < queries; i++) {
          const t0 = performance.now()
          await c.user.findMany(ARGS)
          round.push(performance.now() - t0)
        }
      }
      await runWithTenant(ctx, () => (s.inTransaction ? s.client.$transaction((tx) => loop(tx)) : loop(s.client)))
    }
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < scenarios.length; k++) {
        const idx = (k + r) % scenarios.length
        await run(scenarios[idx]!)
        const sorted = round.sorted()
        for (const v of sorted) lat[idx]!.push(v)
        perRound[idx]!.push(percentile(sorted, 50))
        round.length = 0
      }
    }
    const ratio = (idx: number, ref: number) => spread(perRound[idx]!.map((m, r) => m / perRound[ref]![r]!))
    const results = scenarios.map((s, idx) => {
      const sorted = lat[idx]!.sorted()
      return { id: s.id, label: s.label, queries: sorted.length, p50Us: percentile(sorted, 50) * 1000, p99Us: percentile(sorted, 99) * 1000, vsPlain: ratio(idx, 0), vsEnforce: ratio(idx, 1) }
    })
    const machine = { node: process.version, loadAverage: Number(loadavg()[0]!.toFixed(2)), postgres: (await admin.prisma.$queryRawUnsafe<{ v: string }[]>("SELECT current_setting('server_version') AS v"))[0]!.v }
    console.log(`PostgreSQL ${machine.postgres} on 127.0.0.1 (fsync off), Prisma 7 + @prisma/adapter-pg, ${rounds} rounds x ${queries} queries, load ${machine.loadAverage}`)
    console.log('Ratios: per round, median latency / the reference scenario\'s in the same round; the median over rounds (quartiles).')
    console.log(
      table(
        ['scenario', 'p50 µs', 'p99 µs', 'vs plain', 'vs plain, quartiles', 'vs enforce'],
        results.map((r) => [r.label, fmt(r.p50Us), fmt(r.p99Us), pct(r.vsPlain.median), `${pct(r.vsPlain.q1)} … ${pct(r.vsPlain.q3)}`, pct(r.vsEnforce.median)]),
      ),
    )
    console.log(`${int(results.reduce((n, r) => n + r.queries, 0))} measured queries`)
    if (json) writeFileSync(json, JSON.stringify({ machine, quick, rounds, queries, results }, null, 2))
    await owner.close()
    await admin.close()
    await rlsOwner.close()
    await policiesOnly.close()
  } finally {
    await server.stop()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
