// `npm run bench` — what tenantfence costs per query, measured, with the targets of issue 7.
//   --quick        a short run (CI smoke test): same scenarios, far fewer iterations
//   --json FILE    also write every result as JSON
//   --markdown FILE  also write the result tables as markdown (docs/performance.md)
// See docs/performance.md for how to read the output.
import { readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { openBenchDatabase, type BenchDatabase } from './db.ts'
import { benchE2E, TRIM_MS, type E2EResult } from './e2e.ts'
import { dataModelOfClient } from '../src/enforcement/datamodel.ts'
import { benchMemory } from './memory.ts'
import { benchReferences } from './references.ts'
import { benchCore, benchHook, benchParts, sinkValue, verify, type NsResult } from './micro.ts'
import { profileScenario, type ProfileResult } from './profile.ts'
import { benchSeries, benchSeriesHttp, httpAdapterPresent, type SeriesHttpResult } from './series.ts'
import { setEnvFlags } from './setup.ts'
import { fmt, int, markdownTable, pct, table } from './stats.ts'

interface Args {
  quick: boolean
  json?: string
  markdown?: string
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--quick') args.quick = true
    else if (a === '--json' || a === '--markdown') {
      const file = argv[++i]
      if (!file) throw new Error(`${a} needs a file name`)
      args[a === '--json' ? 'json' : 'markdown'] = file
    } else throw new Error(`unknown option ${a} (use --quick, --json FILE, --markdown FILE)`)
  }
  return args
}

/** global.gc when node runs with --expose-gc, else the same function obtained at run time. */
function getGc(): { gc: () => void; how: string } {
  const g = (globalThis as { gc?: () => void }).gc
  if (typeof g === 'function') return { gc: g, how: '--expose-gc' }
  setFlagsFromString('--expose-gc')
  return { gc: runInNewContext('gc') as () => void, how: 'v8.setFlagsFromString("--expose-gc")' }
}

function machine() {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8')
    } catch {
      return ''
    }
  })()
  return {
    nproc: availableParallelism(),
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    /** 1-minute load average at the start: other processes on the machine add noise */
    loadAverage: Number(loadavg()[0]!.toFixed(2)),
  }
}

const TARGETS = {
  coreP99Ns: 2000,
  /** issue 10: inspect + decide p99 on the typical mix */
  mixP99Ns: 1000,
  enforceOverHook: 1.03,
  sampledOverEnforce: 1.05,
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const { gc, how: gcHow } = getGc()
  const savedEnv = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('TENANT_ENFORCEMENT_') && e[1] !== undefined))
  const q = args.quick
  const micro = q ? { batch: 100, batches: 200 } : { batch: 100, batches: 5000 }
  const e2eOpts = q ? { rounds: 2, queries: 50, warmup: 10 } : { rounds: 120, queries: 200, warmup: 20 }
  const memoryChecks = q ? 100_000 : 1_000_000
  const seriesRequests = 10_000
  const started = performance.now()
  const say = (s: string) => process.stdout.write(`${s}\n`)

  say(`tenantfence benchmark${q ? ' (--quick: numbers are indicative only)' : ''}`)
  const m = machine()
  say(`${m.cpu}, ${m.nproc} cores, Node ${m.node}, ${m.platform}; load average ${m.loadAverage}; gc via ${gcHow}\n`)

  const dbs: BenchDatabase[] = [await openBenchDatabase('memory'), await openBenchDatabase('file')]
  const datamodel = dataModelOfClient(dbs[0]!.prisma)!

  // 1. The pure core.
  const core = benchCore(datamodel, micro)
  const nsRow = (r: NsResult) => [r.name, fmt(r.mean, 0), fmt(r.p50, 0), fmt(r.p99, 0), fmt(r.max, 0), fmt(r.p99All, 0), `${fmt((100 * r.preemptedBatches) / r.batches, 1)} %`]
  const NS_HEAD = ['mean', 'p50', 'p99', 'max', 'p99 all', 'preempted']
  say(`inspect + decide per call, ns, over batches of ${micro.batch} calls (p50/p99/max: batches the OS did not preempt; p99 all: every batch)`)
  say(table(['shape', ...NS_HEAD, 'outcome'], [...core.shapes.map((r) => [...nsRow(r), r.outcome]), [...nsRow(core.mixedTypical), 'scoped'], [...nsRow(core.loopOverhead), '(included above)']]))

  // 2. The whole hook without Prisma, and its parts.
  const hook = benchHook(datamodel, micro)
  say('\ntenantfence query hook per call without Prisma, ns (flags from process.env, ALS, inspect, decide, histogram, report)')
  say(table(['mode / queries', ...NS_HEAD, 'log lines'], hook.results.map((r) => [...nsRow(r), int(r.linesLogged)])))
  const parts = benchParts(datamodel, micro)
  say('\nparts of the hook, ns per call')
  say(table(['part', ...NS_HEAD], parts.map(nsRow)))
  const checks = verify(datamodel, q ? 10_000 : 100_000)
  say(`\nflags re-parsed only on change: ${checks.flagReparse.reparsesUnchanged} re-parses over ${int(checks.flagReparse.calls)} unchanged reads, ${checks.flagReparse.reparsesAfterTwoChanges} after a change and its undo: ${checks.flagReparse.ok ? 'verified' : 'NOT VERIFIED'}`)
  say(`stack traces only for logged lines: ${int(checks.stackCapture.stacksFormatted)} stacks formatted for ${int(checks.stackCapture.linesLogged)} lines logged out of ${int(checks.stackCapture.violations)} violations at sample rate 0.01: ${checks.stackCapture.ok ? 'verified' : 'NOT VERIFIED'}`)

  // 3. Memory.
  const memory = await benchMemory(datamodel, memoryChecks, gc)
  say(`\nmemory over ${int(memoryChecks)} checks (heap after a full GC)`)
  say(table(['run', 'heap before MiB', 'heap after MiB', 'retained B / 1k checks', 'allocated B / check', 'minor GCs', 'major GCs', 'log lines'], memory.map((r) => [r.label, fmt(r.heapBeforeMiB, 2), fmt(r.heapAfterMiB, 2), fmt(r.retainedBytesPer1k, 1), fmt(r.allocatedBytesPerCheck, 0), String(r.minorGcs), String(r.majorGcs), int(r.logLines)])))

  // 4. Queries through Prisma on SQLite.
  const e2e: E2EResult[] = []
  for (const db of dbs) {
    const r = await benchE2E(db, { ...e2eOpts, gc })
    e2e.push(r)
    say(`\nPrisma findMany (10 rows), SQLite ${r.db}: ${r.where}; ${r.rounds} interleaved rounds × ${int(r.queriesPerRound)} queries; "vs": median over rounds of the ratio of trimmed mean times per query (queries > ${TRIM_MS} ms, i.e. preempted, left out)`)
    say(e2eTable(r, table))
  }

  // 4b. A write with one foreign key: the cost of the reference lookup.
  const referencesOpts = q ? { rounds: 2, queries: 30, warmup: 5 } : { rounds: 40, queries: 100, warmup: 10 }
  const references = await benchReferences(dbs[1]!, { ...referencesOpts, gc })
  say(`\nPrisma update setting one foreign key (SQLite file): ${q ? 2 : 40} interleaved rounds; "vs plain": median over rounds of the ratio of mean times per write`)
  say(table(['scenario', 'p50 µs', 'vs plain', 'IQR'], references.map((r) => [r.label, fmt(r.p50Us, 1), pct(r.vsPlain.median), `${pct(r.vsPlain.q1)} … ${pct(r.vsPlain.q3)}`])))

  // 5. Where the time goes inside real queries (CPU profile, enforce mode).
  const profile: ProfileResult[] = []
  for (const sc of ['enforce', 'log_violations_0.01'] as const) profile.push(await profileScenario(dbs[0]!, sc, q ? 2000 : 30_000))
  say(`\nCPU profile inside real queries (SQLite memory, ${int(profile[0]!.queries)} queries each): self time per query in tenantfence's own code`)
  say(profileTable(profile, table))

  // 6. Cardinality.
  const series = await benchSeries(dbs[0]!, seriesRequests)
  say(`\n${int(series.requests)} blocked queries from ${int(series.distinctRawPaths)} distinct raw paths (${series.routeTemplates} route templates, ${series.via}):`)
  say(`  ${METRIC_ERRORS} series: ${series.enforcementErrorSeries} (bound ${series.bound}); all series on /metrics: ${series.totalSeriesBefore} before, ${series.totalSeriesAfter} after`)
  let seriesHttp: SeriesHttpResult | undefined
  if (httpAdapterPresent()) {
    seriesHttp = await benchSeriesHttp(dbs[0]!, seriesRequests)
    say(`${int(seriesHttp.requests)} HTTP requests through the Express adapter (src/http) on ${int(seriesHttp.distinctRawPaths)} distinct raw paths, statuses ${JSON.stringify(seriesHttp.statuses)}:`)
    say(`  ${METRIC_ERRORS} series: ${seriesHttp.enforcementErrorSeries} (bound ${seriesHttp.bound}); http_requests_total series: ${seriesHttp.httpRequestSeries}; all series on /metrics: ${seriesHttp.totalSeriesBefore} before, ${seriesHttp.totalSeriesAfter} after`)
  }

  for (const db of dbs) await db.close()
  // Put the caller's flags back.
  setEnvFlags(savedEnv)

  // Targets.
  const typical = core.shapes.filter((s) => s.typical)
  const worstTypical = typical.reduce((a, b) => (b.p99 > a.p99 ? b : a))
  const byId = (r: E2EResult, id: string) => r.scenarios.find((s) => s.id === id)!
  const targets = [
    {
      name: 'inspect+decide ≤ 2 µs p99 on typical queries',
      measured: `worst typical shape p99 ${fmt(worstTypical.p99, 0)} ns (${worstTypical.name}); typical mix p99 ${fmt(core.mixedTypical.p99, 0)} ns; counting preempted batches too: worst ${fmt(Math.max(...typical.map((s) => s.p99All)), 0)} ns`,
      met: worstTypical.p99 <= TARGETS.coreP99Ns && core.mixedTypical.p99 <= TARGETS.coreP99Ns,
    },
    {
      name: 'inspect+decide ≤ 1 µs p99 on the typical mix (issue 10)',
      measured: `typical mix p50 ${fmt(core.mixedTypical.p50, 0)} ns, p99 ${fmt(core.mixedTypical.p99, 0)} ns`,
      met: core.mixedTypical.p99 <= TARGETS.mixP99Ns,
    },
    {
      name: 'enforce ≤ 3 % over the empty hook (scoped findMany)',
      measured: e2e.map((r) => `${r.db} ${pct(byId(r, 'enforce').vsEmptyHook.median)}`).join(', '),
      met: e2e.every((r) => byId(r, 'enforce').vsEmptyHook.median <= TARGETS.enforceOverHook),
    },
    {
      name: 'log_only violations at sample 0.01 ≤ 5 % over enforce',
      measured: e2e.map((r) => `${r.db} ${pct(byId(r, 'log_violations_0.01').vsEnforce.median)}`).join(', '),
      met: e2e.every((r) => byId(r, 'log_violations_0.01').vsEnforce.median <= TARGETS.sampledOverEnforce),
    },
    {
      name: '10 000 distinct request paths leave the /metrics series count bounded',
      measured: `${series.enforcementErrorSeries} ${METRIC_ERRORS} series after ${int(series.distinctRawPaths)} raw paths (bound ${series.bound})${seriesHttp ? `; through Express: ${seriesHttp.enforcementErrorSeries} and ${seriesHttp.httpRequestSeries} http_requests_total series` : ''}`,
      met: series.bounded && (seriesHttp?.bounded ?? true),
    },
  ]
  say(`\ntargets${q ? ' (--quick: too few iterations for a verdict; run without --quick)' : ''}`)
  for (const t of targets) say(`  ${t.met ? 'MET    ' : 'NOT MET'}  ${t.name}: ${t.measured}`)
  const seconds = (performance.now() - started) / 1000
  say(`\n(${fmt(seconds, 0)} s${q ? ', --quick' : ''}; sink ${sinkValue() % 10})`)

  const result = { machine: { ...m, gc: gcHow }, quick: q, options: { micro, e2e: e2eOpts, memoryChecks, seriesRequests, references: referencesOpts }, core, hook: hook.results, parts, verify: checks, memory, e2e, references, profile, series, seriesHttp, targets, seconds }
  if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`)
  if (args.markdown) writeFileSync(args.markdown, markdownReport(result))
}

const METRIC_ERRORS = 'tenant_enforcement_errors_total'

function profileTable(profile: ProfileResult[], render: typeof table): string {
  const rows = profile[0]!.parts.map((p, i) => [p.part, ...profile.map((r) => fmt(r.parts[i]!.usPerQuery, 2))])
  rows.push(['tenantfence, all parts', ...profile.map((r) => fmt(r.tenantfenceUsPerQuery, 2))])
  rows.push(['the whole query (Prisma, SQLite, Node, GC, tenantfence)', ...profile.map((r) => fmt(r.totalUsPerQuery, 1))])
  rows.push(["tenantfence's share over the rest", ...profile.map((r) => pct(1 + r.overheadRatio))])
  return render(['µs per query (self time)', ...profile.map((r) => r.scenario)], rows)
}

function e2eTable(r: E2EResult, render: typeof table): string {
  return render(
    ['scenario', 'ops/s', 'p50 µs', 'p99 µs', 'vs plain', 'vs empty hook', 'vs hook, quartiles', 'vs hook, p50', 'log lines', 'trimmed'],
    r.scenarios.map((s) => [s.label, int(s.opsPerSec), fmt(s.p50Us), fmt(s.p99Us), pct(s.vsPlain.median), pct(s.vsEmptyHook.median), `${pct(s.vsEmptyHook.q1)} … ${pct(s.vsEmptyHook.q3)}`, pct(s.p50VsEmptyHook.median), int(s.logLines), `${fmt((100 * s.trimmed) / s.queries, 1)} %`]),
  )
}

type Result = {
  machine: ReturnType<typeof machine> & { gc: string }
  quick: boolean
  core: ReturnType<typeof benchCore>
  hook: (NsResult & { id: string; linesLogged: number })[]
  parts: NsResult[]
  memory: Awaited<ReturnType<typeof benchMemory>>
  e2e: E2EResult[]
  profile: ProfileResult[]
  series: Awaited<ReturnType<typeof benchSeries>>
  seriesHttp: SeriesHttpResult | undefined
  references: Awaited<ReturnType<typeof benchReferences>>
  targets: { name: string; measured: string; met: boolean }[]
  options: { memoryChecks: number; references: { rounds: number } }
}

function markdownReport(r: Result): string {
  const ns = (x: NsResult) => [fmt(x.mean, 0), fmt(x.p50, 0), fmt(x.p99, 0), fmt(x.p99All, 0)]
  const out: string[] = []
  out.push(`Machine: ${r.machine.cpu}, ${r.machine.nproc} cores (nproc), Node ${r.machine.node}, ${r.machine.platform}; load average ${r.machine.loadAverage} at the start; ${r.machine.date}${r.quick ? ' (--quick run)' : ''}.`, '')
  for (const e of r.e2e) {
    out.push(`**Prisma \`findMany\` (10 rows), SQLite ${e.db}** — ${e.where}; ${e.rounds} interleaved rounds × ${int(e.queriesPerRound)} queries; "vs" columns: the median over rounds of the ratio of the round's trimmed mean time per query to the reference's in the same round (trimmed: queries over ${TRIM_MS} ms, preempted by other processes, left out; their share is the last column); quartiles of those ratios beside it; "p50": the same with each round's median latency.`, '')
    out.push(e2eTable(e, markdownTable), '')
  }
  out.push(`**Where the time goes inside real queries**: V8 CPU profile (node:inspector, 50 µs sampling) of ${int(r.profile[0]!.queries)} queries per scenario on SQLite memory; self time per query in tenantfence's own code, by source file.`, '')
  out.push(profileTable(r.profile, markdownTable), '')
  out.push('**inspect + decide per call (ns)**, over batches of 100 calls; p50/p99 over the batches the OS did not preempt, "p99 all" over every batch', '')
  out.push(markdownTable(['shape', 'mean', 'p50', 'p99', 'p99 all', 'outcome'], [...r.core.shapes.map((s) => [s.name, ...ns(s), s.outcome]), [r.core.mixedTypical.name, ...ns(r.core.mixedTypical), 'scoped']]), '')
  out.push("**tenantfence's query hook per call, without Prisma (ns)**", '')
  out.push(markdownTable(['mode / queries', 'mean', 'p50', 'p99', 'p99 all', 'log lines'], r.hook.map((h) => [h.name, ...ns(h), int(h.linesLogged)])), '')
  out.push('**Parts of the hook (ns per call)**', '')
  out.push(markdownTable(['part', 'mean', 'p50', 'p99', 'p99 all'], r.parts.map((p) => [p.name, ...ns(p)])), '')
  out.push(`**Memory over ${int(r.options.memoryChecks)} checks** (heap after a full GC)`, '')
  out.push(markdownTable(['run', 'heap before MiB', 'heap after MiB', 'retained B / 1k checks', 'allocated B / check', 'minor GCs', 'major GCs'], r.memory.map((m) => [m.label, fmt(m.heapBeforeMiB, 2), fmt(m.heapAfterMiB, 2), fmt(m.retainedBytesPer1k, 1), fmt(m.allocatedBytesPerCheck, 0), String(m.minorGcs), String(m.majorGcs)])), '')
  out.push(`**Cardinality**: ${int(r.series.requests)} blocked queries from ${int(r.series.distinctRawPaths)} distinct raw paths → ${r.series.enforcementErrorSeries} \`${METRIC_ERRORS}\` series (bound ${r.series.bound}); ${r.series.totalSeriesAfter} series on /metrics in all.${r.seriesHttp ? ` Through the Express adapter (real HTTP server, signed token, 403s): ${int(r.seriesHttp.requests)} requests on ${int(r.seriesHttp.distinctRawPaths)} raw paths → ${r.seriesHttp.enforcementErrorSeries} \`${METRIC_ERRORS}\` series and ${r.seriesHttp.httpRequestSeries} \`http_requests_total\` series.` : ''}`, '')
  out.push(`**A write that sets one foreign key** (\`securityAlert.update\`, SQLite file): ${r.options.references.rounds} interleaved rounds; "vs plain": the median over rounds of the ratio of the mean time per write to the plain client's bare-key write in the same round, with its quartiles.`, '')
  out.push(markdownTable(['scenario', 'p50 µs', 'vs plain', 'quartiles'], r.references.map((x) => [x.label, fmt(x.p50Us, 1), pct(x.vsPlain.median), `${pct(x.vsPlain.q1)} … ${pct(x.vsPlain.q3)}`])), '')
  out.push('**Targets**', '')
  out.push(markdownTable(['target', 'measured', ''], r.targets.map((t) => [t.name, t.measured, t.met ? 'MET' : 'NOT MET'])), '')
  return out.join('\n')
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
