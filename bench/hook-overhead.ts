// `npm run bench:hook-overhead [-- --prisma 6] [--rounds N] [--compare DIR]`: tenantfence's own cost
// per query on the request path, without SQL. Prisma's `_request` is replaced by a stub (ten rows at
// once) on the plain client before the extensions are built: the plain client then runs Prisma's
// model method, its PrismaPromise and the stub, and tenantfence's client the same plus its check. So
// the difference is what the check costs a query, in ns, with none of SQLite's time around it (a
// latency ratio on a shared 2-core machine cannot resolve a 1 % difference; this can). Interleaved
// batches of 500 queries, CPU time per batch (process.cpuUsage); per round, each client's time over
// the plain client's in the same round; the median of those differences (quartiles).
//   --compare DIR   also a second tenantfence, from DIR/src (e.g. `git archive <commit> src | tar -x -C DIR`)
import { join, resolve } from 'node:path'
import { runWithTenant } from '../src/enforcement/context.ts'
import { tenantEnforcement } from '../src/enforcement/extension.ts'
import { openPrisma } from './hook-profile.ts'
import { config, FLAGS, nullLogger, setEnvFlags } from './setup.ts'
import { fmt, percentile, sortedCopy, table } from './stats.ts'

type Client = { user: { findMany(a: unknown): PromiseLike<unknown> }; permission: { findMany(a: unknown): PromiseLike<unknown> }; $extends(e: unknown): Client }
type Run = <T>(ctx: { tenantId: number; userId: number; endpoint: string; method: string }, fn: () => Promise<T>) => Promise<T>

async function main() {
  const argv = process.argv.slice(2)
  const prisma = argv.includes('--prisma') && argv[argv.indexOf('--prisma') + 1] === '6' ? '6' : '7'
  const rounds = argv.includes('--rounds') ? Number(argv[argv.indexOf('--rounds') + 1]) : 150
  const compare = argv.includes('--compare') ? resolve(argv[argv.indexOf('--compare') + 1]!) : undefined
  setEnvFlags(FLAGS.enforce)
  const plain = (await openPrisma(prisma)).client as unknown as Client & { _request: unknown }
  const rows = Array.from({ length: 10 }, (_, i) => ({ id: i + 1 }))
  plain._request = () => Promise.resolve(rows)
  const logger = nullLogger().logger
  const clients: Array<[string, Client]> = [['plain client', plain], ['tenantfence enforce', plain.$extends(tenantEnforcement({ config, logger, audit: false }))]]
  let run: Run = runWithTenant as Run
  if (compare) {
    const other = (await import(join(compare, 'src/enforcement/extension.ts'))) as { tenantEnforcement: typeof tenantEnforcement }
    const otherRun = ((await import(join(compare, 'src/enforcement/context.ts'))) as { runWithTenant: Run }).runWithTenant
    clients.push([`tenantfence enforce (${compare.split('/').pop()})`, plain.$extends(other.tenantEnforcement({ config, logger, audit: false }))])
    // both contexts entered for every client, so that each check finds its request's tenant
    run = (ctx, fn) => runWithTenant(ctx, () => otherRun(ctx, fn))
  }
  const queries: Array<[string, (c: Client) => PromiseLike<unknown>]> = [
    ['user.findMany (tenant-owned, scoped)', (c) => c.user.findMany({ where: { tenantId: 1 } })],
    ['permission.findMany (not tenant-owned)', (c) => c.permission.findMany({ where: { id: { lte: 10 } } })],
  ]
  const cases = queries.flatMap(([q, fn]) => clients.map(([c, client]) => ({ q, c, run: () => fn(client) })))
  const batch = 500
  const perCase = new Map<(typeof cases)[number], number[]>(cases.map((k) => [k, []]))
  const ctx = { tenantId: 1, userId: 7, endpoint: '/api/users', method: 'GET' }
  await run(ctx, async () => {
    for (const k of cases) for (let i = 0; i < 20_000; i++) await k.run()
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < cases.length; j++) {
        const k = cases[(j + r) % cases.length]!
        const t0 = process.cpuUsage()
        for (let i = 0; i < batch; i++) await k.run()
        const t = process.cpuUsage(t0)
        perCase.get(k)!.push(((t.user + t.system) * 1000) / batch)
      }
    }
  })
  const rowsOut = cases.map((k) => {
    const own = perCase.get(k)!
    const ref = perCase.get(cases.find((x) => x.q === k.q && x.c === 'plain client')!)!
    const diff = sortedCopy(own.map((v, i) => v - ref[i]!))
    return [k.q, k.c, fmt(percentile(sortedCopy(own), 50), 0), fmt(percentile(diff, 50), 0), `${fmt(percentile(diff, 25), 0)} … ${fmt(percentile(diff, 75), 0)}`]
  })
  console.log(`Prisma ${prisma}, _request stubbed, ${rounds} interleaved rounds x ${batch} queries, CPU time (ns per query)`)
  console.log(table(['query', 'client', 'ns per query', 'over plain (median)', 'quartiles'], rowsOut))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
