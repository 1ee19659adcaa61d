// `npm run bench:hook [-- --prisma 6] [--quick] [--json FILE]`: what the place of the check costs.
// Scoped `user.findMany` (10 rows of 100) and `permission.findMany` (a model that is not
// tenant-owned, 10 rows), SQLite in memory, through the plain client, empty query extensions, and
// tenantfence enforce with its check in the client's request path (the default) and as a query
// extension (`hook: 'query-extension'`, how it ran before). One process, interleaved rounds in a
// rotated order, a full GC before each batch; per round, each client's trimmed mean time per query
// over the plain client's on the same query; the median of those ratios over the rounds (quartiles).
// Beside it, the same ratio of CPU time (process.cpuUsage, user + system, per query over the batch):
// on a shared machine the time a query waits for a core shows in its latency, not in its CPU time.
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import v8 from 'node:v8'
import vm from 'node:vm'
import { runWithTenant } from '../src/enforcement/context.ts'
import { tenantEnforcement } from '../src/enforcement/extension.ts'
import { TRIM_MS } from './e2e.ts'
import { openPrisma, type Users } from './hook-profile.ts'
import { config, FLAGS, nullLogger, setEnvFlags } from './setup.ts'
import { fmt, pct, Samples, spread, table } from './stats.ts'

type Query = (c: Users) => PromiseLike<unknown[]>
const USERS: Query = (c) => c.user.findMany({ where: { tenantId: 1 } })
const PERMISSIONS: Query = (c) => c.permission.findMany({ where: { id: { lte: 10 } } })

interface Scenario {
  id: string
  label: string
  client: Users
  query: Query
  /** the plain client's scenario on the same query */
  ref: string
}

function gcFunction(): () => void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g) return g
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}

type Hook = (p: { args: unknown; query: (a: unknown) => Promise<unknown> }) => Promise<unknown>
const pass: Hook = ({ args, query }) => query(args)

export async function benchHook(prisma: '6' | '7', { rounds, queries, warmup }: { rounds: number; queries: number; warmup: number }) {
  setEnvFlags(FLAGS.enforce)
  const { client: plain } = await openPrisma(prisma)
  const log = nullLogger()
  const fence = (hook: 'request' | 'query-extension') => {
    const ext = tenantEnforcement({ config, logger: log.logger, audit: false, hook })
    const client = plain.$extends(ext)
    if (ext.hookPath() !== (hook === 'request' ? 'request' : 'query extension')) throw new Error(`bench: tenantfence took the ${ext.hookPath()} path, not ${hook}`)
    return client
  }
  const request = fence('request')
  const queryExtension = fence('query-extension')
  const scenarios: Scenario[] = [
    { id: 'plain', label: 'user: plain client', client: plain, query: USERS, ref: 'plain' },
    { id: 'empty_all', label: 'user: empty `$allModels.$allOperations` hook', client: plain.$extends({ query: { $allModels: { $allOperations: pass } } }), query: USERS, ref: 'plain' },
    { id: 'empty_other', label: 'user: empty hook on another model (`role`)', client: plain.$extends({ query: { role: { $allOperations: pass } } }), query: USERS, ref: 'plain' },
    { id: 'fence_ext', label: 'user: tenantfence enforce, query extension (before)', client: queryExtension, query: USERS, ref: 'plain' },
    { id: 'fence_req', label: 'user: tenantfence enforce, request path (after)', client: request, query: USERS, ref: 'plain' },
    { id: 'perm_plain', label: 'permission (not tenant-owned): plain client', client: plain, query: PERMISSIONS, ref: 'perm_plain' },
    { id: 'perm_ext', label: 'permission: tenantfence, query extension (before)', client: queryExtension, query: PERMISSIONS, ref: 'perm_plain' },
    { id: 'perm_req', label: 'permission: tenantfence, request path (after)', client: request, query: PERMISSIONS, ref: 'perm_plain' },
  ]
  const ctx = { tenantId: 1, userId: 7, endpoint: '/api/users', method: 'GET' }
  for (const s of scenarios) {
    const rows = await runWithTenant(ctx, () => s.query(s.client))
    if (rows.length !== 10) throw new Error(`bench: ${s.id} returned ${rows.length} rows, expected 10`)
  }
  const gc = gcFunction()
  const perRound = new Map<string, number[]>(scenarios.map((s) => [s.id, []]))
  const cpuPerRound = new Map<string, number[]>(scenarios.map((s) => [s.id, []]))
  const lat = new Map<string, Samples>(scenarios.map((s) => [s.id, new Samples(rounds * queries)]))
  for (let r = 0; r < rounds; r++) {
    const thisRound = new Map<string, number>()
    const cpuRound = new Map<string, number>()
    for (let k = 0; k < scenarios.length; k++) {
      const s = scenarios[(k + r) % scenarios.length]!
      gc()
      let sum = 0
      let kept = 0
      let cpu = { user: 0, system: 0 }
      await runWithTenant(ctx, async () => {
        for (let i = 0; i < warmup; i++) await s.query(s.client)
        const cpu0 = process.cpuUsage()
        for (let i = 0; i < queries; i++) {
          const t0 = performance.now()
          await s.query(s.client)
          const dt = performance.now() - t0
          lat.get(s.id)!.push(dt)
          if (dt < TRIM_MS) {
            sum += dt
            kept++
          }
        }
        cpu = process.cpuUsage(cpu0)
      })
      thisRound.set(s.id, sum / Math.max(1, kept))
      cpuRound.set(s.id, (cpu.user + cpu.system) / queries)
    }
    for (const s of scenarios) {
      perRound.get(s.id)!.push(thisRound.get(s.id)! / thisRound.get(s.ref)!)
      cpuPerRound.get(s.id)!.push(cpuRound.get(s.id)! / cpuRound.get(s.ref)!)
    }
  }
  return scenarios.map((s) => {
    const sorted = lat.get(s.id)!.sorted()
    return { id: s.id, label: s.label, p50Us: sorted[Math.floor(sorted.length / 2)]! * 1000, vsPlain: spread(perRound.get(s.id)!), cpuVsPlain: spread(cpuPerRound.get(s.id)!) }
  })
}

async function main() {
  const argv = process.argv.slice(2)
  const prisma = argv.includes('--prisma') && argv[argv.indexOf('--prisma') + 1] === '6' ? '6' : '7'
  const quick = argv.includes('--quick')
  const json = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : undefined
  const opts = quick ? { rounds: 4, queries: 50, warmup: 10 } : { rounds: 60, queries: 200, warmup: 20 }
  const loadStart = loadavg()[0]!
  const results = await benchHook(prisma, opts)
  const loadEnd = loadavg()[0]!
  console.log(`Prisma ${prisma}, SQLite in memory, ${opts.rounds} interleaved rounds x ${opts.queries} queries, load average ${loadStart.toFixed(2)} at the start, ${loadEnd.toFixed(2)} at the end`)
  console.log(table(['client', 'p50 µs', 'vs plain (median of per-round ratios)', 'quartiles', 'CPU vs plain', 'CPU quartiles'], results.map((r) => [r.label, fmt(r.p50Us), pct(r.vsPlain.median), `${pct(r.vsPlain.q1)} … ${pct(r.vsPlain.q3)}`, pct(r.cpuVsPlain.median), `${pct(r.cpuVsPlain.q1)} … ${pct(r.cpuVsPlain.q3)}`])))
  if (json) writeFileSync(json, JSON.stringify({ prisma, node: process.version, loadStart, loadEnd, ...opts, results }, null, 2))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
