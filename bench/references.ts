// The cost of `references: 'verify'`: a write that sets one foreign key (an alert assigned to a
// user by id) through the plain client, an empty query hook, and tenantfence in enforce, which
// looks the user's tenant up before the write. Interleaved rounds, ratios per round as in e2e.ts.
import { runWithTenant } from '../src/enforcement/context.ts'
import { tenantEnforcement } from '../src/enforcement/extension.ts'
import type { BenchDatabase } from './db.ts'
import { config, FLAGS, nullLogger, setEnvFlags } from './setup.ts'
import { percentile, Samples, spread } from './stats.ts'

export interface ReferencesOptions {
  rounds: number
  queries: number
  warmup: number
  gc?: () => void
}

export interface ReferencesScenario {
  id: string
  label: string
  p50Us: number
  /** median over rounds of (this scenario's mean time per write / the plain client's) */
  vsPlain: { median: number; q1: number; q3: number }
}

type Update = (client: Client, userId: number) => PromiseLike<unknown>
interface Client {
  securityAlert: {
    update(args: { where: { id: number; tenantId: number }; data: Record<string, unknown> }): PromiseLike<unknown>
  }
}

const ALERT = 1
const bare: Update = (c, userId) => c.securityAlert.update({ where: { id: ALERT, tenantId: 1 }, data: { userId } })
const pinned: Update = (c, userId) => c.securityAlert.update({ where: { id: ALERT, tenantId: 1 }, data: { user: { connect: { id: userId, tenantId: 1 } } } })

export async function benchReferences(db: BenchDatabase, opts: ReferencesOptions): Promise<ReferencesScenario[]> {
  const base = db.prisma
  await base.securityAlert.create({ data: { id: ALERT, tenantId: 1, kind: 'bench' } })
  const users = (await base.user.findMany({ where: { tenantId: 1 }, select: { id: true } })).map((u) => u.id)
  const log = nullLogger()
  const emptyHook = base.$extends({ name: 'empty', query: { $allOperations: ({ args, query }) => query(args) } }) as unknown as Client
  const fenced = base.$extends(tenantEnforcement({ config, logger: log.logger, audit: false })) as unknown as Client
  const scenarios: { id: string; label: string; client: Client; update: Update }[] = [
    { id: 'plain', label: 'plain client, userId: <id>', client: base as unknown as Client, update: bare },
    { id: 'empty_hook', label: 'empty $extends query hook, userId: <id>', client: emptyHook, update: bare },
    { id: 'verify', label: "enforce, userId: <id> (references: 'verify' looks the user up)", client: fenced, update: bare },
    // Prisma runs a nested connect as more statements than a bare key: its own cost, shown apart
    { id: 'plain_connect', label: 'plain client, user: { connect: { id, tenantId } }', client: base as unknown as Client, update: pinned },
    { id: 'pinned', label: 'enforce, user: { connect: { id, tenantId } } (no lookup)', client: fenced, update: pinned },
  ]
  setEnvFlags(FLAGS.enforce)
  const n = scenarios.length
  const perRound: number[][] = scenarios.map(() => [])
  const all = scenarios.map(() => new Samples(opts.rounds * opts.queries))
  let k = 0
  for (let r = 0; r < opts.rounds; r++) {
    for (let j = 0; j < n; j++) {
      const idx = (j + r) % n
      const s = scenarios[idx]!
      const ms = await runWithTenant({ tenantId: 1, userId: users[0]! }, async () => {
        for (let i = 0; i < opts.warmup; i++) await s.update(s.client, users[k++ % users.length]!)
        opts.gc?.()
        const start = performance.now()
        for (let i = 0; i < opts.queries; i++) {
          const t0 = performance.now()
          await s.update(s.client, users[k++ % users.length]!)
          all[idx]!.push(performance.now() - t0)
        }
        return performance.now() - start
      })
      perRound[idx]!.push(ms / opts.queries)
    }
  }
  if (log.lines() !== 0) throw new Error(`bench: ${log.lines()} violations logged by writes that should all be proven`)
  return scenarios.map((s, idx) => ({
    id: s.id,
    label: s.label,
    p50Us: percentile(all[idx]!.sorted(), 50) * 1000,
    vsPlain: spread(perRound[idx]!.map((m, r) => m / perRound[0]![r]!)),
  }))
}
