// Where the time goes inside real queries: V8's sampling CPU profiler (node:inspector) over N
// enforce-mode queries through Prisma, with each sample's self time attributed to tenantfence's
// own code by source file. Unlike a difference of two timed runs, this does not depend on how
// busy the machine is: it counts where this thread spent its samples.
import { Session } from 'node:inspector/promises'
import { runWithTenant } from '../src/enforcement/context.ts'
import { tenantEnforcement } from '../src/enforcement/extension.ts'
import type { BenchDatabase } from './db.ts'
import { config, FLAGS, nullLogger, setEnvFlags } from './setup.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** tenantfence's parts, by where their code lives. */
const PARTS: { part: string; test: (url: string) => boolean }[] = [
  { part: 'flags: envFlagSource.current() (env reads)', test: (u) => u.includes('/src/config/') },
  { part: 'hook: extension.ts (context, timing, decision)', test: (u) => u.includes('/src/enforcement/extension.ts') || u.includes('/src/enforcement/context.ts') || u.includes('/src/enforcement/decide.ts') },
  { part: 'inspect.ts', test: (u) => u.includes('/src/enforcement/inspect.ts') },
  { part: 'report.ts + telemetry', test: (u) => u.includes('/src/enforcement/report.ts') || u.includes('/src/telemetry/') },
  { part: 'prom-client (the duration histogram)', test: (u) => u.includes('/prom-client/') },
]

export interface ProfileResult {
  scenario: string
  queries: number
  /** µs of samples per query, all code (Prisma, SQLite, Node, GC, tenantfence) */
  totalUsPerQuery: number
  /** µs per query in tenantfence's own code (self time, by part) */
  parts: { part: string; usPerQuery: number }[]
  tenantfenceUsPerQuery: number
  /** tenantfence's share of the time of the rest of the query */
  overheadRatio: number
}

const SCENARIOS = {
  enforce: { label: 'enforce, scoped findMany', flags: FLAGS.enforce, tenantId: 1 },
  'log_violations_0.01': { label: 'log_only, violations (tenant_mismatch), sample 0.01', flags: FLAGS.log_only_sampled, tenantId: 2 },
} as const

export async function profileScenario(db: BenchDatabase, scenario: keyof typeof SCENARIOS, queries: number): Promise<ProfileResult> {
  const sc = SCENARIOS[scenario]
  setEnvFlags(sc.flags)
  const prisma = db.prisma.$extends(tenantEnforcement({ config, logger: nullLogger().logger, audit: false })) as unknown as { user: { findMany(a: unknown): Promise<unknown[]> } }
  const args = { where: { tenantId: 1 } }
  const run = (n: number) => runWithTenant({ tenantId: sc.tenantId, userId: 7, endpoint: '/api/users', method: 'GET' }, async () => {
    for (let i = 0; i < n; i++) await prisma.user.findMany(args)
  })
  await run(Math.min(2000, queries)) // warm
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 50 })
    await session.post('Profiler.start')
    await run(queries)
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile }
    const partOf = new Map<number, number>()
    for (const node of profile.nodes) {
      const i = PARTS.findIndex((p) => p.test(node.callFrame.url))
      if (i >= 0) partOf.set(node.id, i)
    }
    const partUs = new Array<number>(PARTS.length).fill(0)
    let totalUs = 0
    let idleUs = 0
    const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id))
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!
      const dt = profile.timeDeltas[i] ?? 0
      if (idle.has(id)) {
        idleUs += dt
        continue
      }
      totalUs += dt
      const p = partOf.get(id)
      if (p !== undefined) partUs[p]! += dt
    }
    void idleUs
    const ours = partUs.reduce((a, b) => a + b, 0)
    return {
      scenario: sc.label,
      queries,
      totalUsPerQuery: totalUs / queries,
      parts: PARTS.map((p, i) => ({ part: p.part, usPerQuery: partUs[i]! / queries })),
      tenantfenceUsPerQuery: ours / queries,
      overheadRatio: ours / Math.max(1, totalUs - ours),
    }
  } finally {
    await session.post('Profiler.disable').catch(() => {})
    session.disconnect()
  }
}
