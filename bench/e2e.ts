// Queries through Prisma on a real SQLite database, in interleaved rounds: every round runs
// every scenario once (in a rotated order), so drift in the machine hits all of them alike,
// and each scenario's cost is compared with the plain client's in the same round.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runWithTenant, type TenantContext } from '../src/enforcement/context.ts'
import { tenantEnforcement } from '../src/enforcement/extension.ts'
import type { BenchDatabase } from './db.ts'
import { config, FLAGS, nullLogger, setEnvFlags, type FlagSet } from './setup.ts'
import { percentile, Samples, spread } from './stats.ts'

export interface E2EOptions {
  rounds: number
  /** measured queries per scenario per round */
  queries: number
  /** unmeasured queries after switching scenario (flag re-parse, JIT, caches) */
  warmup: number
  /** collect garbage before each batch, so one scenario's garbage is not collected in another's time */
  gc?: () => void
}

/** The one query every scenario sends (the clients differ only in their extensions). */
interface Client {
  user: { findMany(args: typeof SCOPED_ARGS): PromiseLike<unknown[]> }
}

interface Scenario {
  id: string
  label: string
  client: Client
  flags: FlagSet | undefined
  context: TenantContext
  /** the query names tenant 1 while the request is tenant 2: a tenant_mismatch with the same SQL as the scoped query */
  violation: boolean
}

type Ratio = { median: number; q1: number; q3: number }

export interface ScenarioResult {
  id: string
  label: string
  queries: number
  opsPerSec: number
  p50Us: number
  p99Us: number
  /**
   * Per round, this scenario's trimmed mean time per query / the reference scenario's in the same
   * round; the median (and quartiles) of those ratios over the rounds. Trimmed: queries slower
   * than TRIM_MS are left out (a query preempted by another process; a logged violation costs far
   * less), so the ratio keeps every cost of the check, sampled log lines included.
   */
  vsPlain: Ratio
  vsEmptyHook: Ratio
  vsEnforce: Ratio
  /** the same with each round's median latency (blind to costs paid by fewer than half the queries) */
  p50VsPlain: Ratio
  p50VsEmptyHook: Ratio
  p50VsEnforce: Ratio
  /** the same with each round's plain mean (every query, preempted ones included) */
  meanVsPlain: Ratio
  meanVsEmptyHook: Ratio
  meanVsEnforce: Ratio
  /** queries left out of the trimmed means */
  trimmed: number
  logLines: number
}

export interface E2EResult {
  db: string
  where: string
  rounds: number
  queriesPerRound: number
  scenarios: ScenarioResult[]
}

/** A query this slow was preempted: 5-10x the median of any scenario, and several times a logged violation. */
export const TRIM_MS = 1

const SCOPED_ARGS = { where: { tenantId: 1 } }
const request = (tenantId: number): TenantContext => ({ tenantId, userId: 7, endpoint: '/api/users', method: 'GET' })

export async function benchE2E(db: BenchDatabase, opts: E2EOptions): Promise<E2EResult> {
  const base = db.prisma
  const log = nullLogger()
  const emptyHook: Client = base.$extends({ name: 'empty', query: { $allOperations: ({ args, query }) => query(args) } })
  const fenced = base.$extends(tenantEnforcement({ config, logger: log.logger, audit: false })) as unknown as Client
  // The same check with its flags from a watched file (a mounted ConfigMap) instead of process.env:
  // what enforce costs without the env reads per query.
  const flagDir = mkdtempSync(join(tmpdir(), 'tenantfence-bench-flags-'))
  const flagFile = join(flagDir, 'flags.env')
  writeFileSync(flagFile, Object.entries(FLAGS.enforce).map(([k, v]) => `${k}=${v}\n`).join(''))
  const fileFenced = tenantEnforcement({ config, logger: log.logger, audit: false, flags: { file: flagFile, pollMs: 60_000 } })
  const fencedFromFile = base.$extends(fileFenced) as unknown as Client
  const scenarios: Scenario[] = [
    { id: 'plain', label: 'plain client', client: base, flags: undefined, context: request(1), violation: false },
    { id: 'empty_hook', label: 'empty $extends query hook', client: emptyHook, flags: undefined, context: request(1), violation: false },
    { id: 'disabled', label: 'tenantfence disabled', client: fenced, flags: FLAGS.disabled, context: request(1), violation: false },
    { id: 'log_only', label: 'tenantfence log_only, scoped', client: fenced, flags: FLAGS.log_only, context: request(1), violation: false },
    { id: 'enforce', label: 'tenantfence enforce, scoped', client: fenced, flags: FLAGS.enforce, context: request(1), violation: false },
    { id: 'enforce_file_flags', label: 'tenantfence enforce, flags from a file', client: fencedFromFile, flags: undefined, context: request(1), violation: false },
    { id: 'log_violations_1', label: 'log_only, violations, sample 1.0', client: fenced, flags: FLAGS.log_only, context: request(2), violation: true },
    { id: 'log_violations_0.01', label: 'log_only, violations, sample 0.01', client: fenced, flags: FLAGS.log_only_sampled, context: request(2), violation: true },
  ]
  const n = scenarios.length
  const latencies = scenarios.map(() => new Samples(opts.rounds * opts.queries))
  const totalMs = new Float64Array(n)
  const perRoundMean: number[][] = scenarios.map(() => [])
  const perRoundP50: number[][] = scenarios.map(() => [])
  const perRoundTrimmed: number[][] = scenarios.map(() => [])
  const trimmed = new Array<number>(n).fill(0)
  const lines = new Array<number>(n).fill(0)

  // Sanity: the scoped query returns the tenant's rows through every client.
  for (const s of scenarios) {
    if (s.flags) setEnvFlags(s.flags)
    const rows = await runWithTenant(s.context, () => s.client.user.findMany(SCOPED_ARGS))
    if (rows.length === 0) throw new Error(`bench: ${s.id} returned no rows`)
  }

  const round = new Samples(opts.queries)
  for (let r = 0; r < opts.rounds; r++) {
    for (let k = 0; k < n; k++) {
      const idx = (k + r) % n
      const s = scenarios[idx]!
      if (s.flags) setEnvFlags(s.flags)
      const before = log.lines()
      const ms = await runWithTenant(s.context, async () => {
        for (let i = 0; i < opts.warmup; i++) await s.client.user.findMany(SCOPED_ARGS)
        opts.gc?.()
        const start = performance.now()
        for (let i = 0; i < opts.queries; i++) {
          const t0 = performance.now()
          await s.client.user.findMany(SCOPED_ARGS)
          round.push(performance.now() - t0)
        }
        return performance.now() - start
      })
      const sorted = round.sorted()
      for (const v of sorted) latencies[idx]!.push(v)
      perRoundP50[idx]!.push(percentile(sorted, 50))
      let sum = 0
      let kept = 0
      for (const v of sorted) if (v <= TRIM_MS) (sum += v), kept++
      perRoundTrimmed[idx]!.push(sum / Math.max(1, kept))
      trimmed[idx]! += sorted.length - kept
      round.length = 0
      lines[idx]! += log.lines() - before
      totalMs[idx]! += ms
      perRoundMean[idx]!.push(ms / opts.queries)
    }
  }

  fileFenced.close()
  rmSync(flagDir, { recursive: true, force: true })
  const ratio = (per: number[][], idx: number, ref: number) => spread(per[idx]!.map((m, r) => m / per[ref]![r]!))
  const plain = 0
  const hook = 1
  const enforce = scenarios.findIndex((s) => s.id === 'enforce')
  return {
    db: db.kind,
    where: db.where,
    rounds: opts.rounds,
    queriesPerRound: opts.queries,
    scenarios: scenarios.map((s, idx) => {
      const sorted = latencies[idx]!.sorted()
      return {
        id: s.id,
        label: s.label,
        queries: sorted.length,
        opsPerSec: (sorted.length * 1000) / totalMs[idx]!,
        p50Us: percentile(sorted, 50) * 1000,
        p99Us: percentile(sorted, 99) * 1000,
        vsPlain: ratio(perRoundTrimmed, idx, plain),
        vsEmptyHook: ratio(perRoundTrimmed, idx, hook),
        vsEnforce: ratio(perRoundTrimmed, idx, enforce),
        p50VsPlain: ratio(perRoundP50, idx, plain),
        p50VsEmptyHook: ratio(perRoundP50, idx, hook),
        p50VsEnforce: ratio(perRoundP50, idx, enforce),
        meanVsPlain: ratio(perRoundMean, idx, plain),
        meanVsEmptyHook: ratio(perRoundMean, idx, hook),
        meanVsEnforce: ratio(perRoundMean, idx, enforce),
        logLines: lines[idx]!,
        trimmed: trimmed[idx]!,
      }
    }),
  }
}
