// `npm run demo`: the whole rollout, phase 0 → 4, on an embedded SQLite database in one process.
// Flags change live (process.env, re-read at query time: no restart); the team "deploys" fixes
// between phases as the rollout document says (CRITICAL paths seen in log-only after phase 1,
// the rest when the gate of phase 2 or 3 finds them; the nightly bypass stays); phase 4 swaps
// in a client created with `hardened: true` over the same database and registry. Violation lines go to
// <out>/violations.log (not the terminal); /metrics is saved to <out>/metrics.prom.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { FLAG_NAMES } from '../config/flags.ts'
import { phaseFlags } from '../config/define.ts'
import type { PhaseConfig, TenantFenceConfig } from '../config/schema.ts'
import { demoScanLine } from '../scan/demo-line.ts'
import { createLogger } from '../telemetry/log-shipping.ts'
import { DEMO_FIXES, type DemoFix } from './fixes.ts'
import { createDemo, demoConfig } from './harness.ts'
import { nightlyCleanup } from './jobs.ts'
import { runTraffic, type RequestKind, type TrafficResult } from './traffic.ts'
import { delta, judgePhase, snapshot, stats, type CriterionVerdict, type WindowStats } from './window.ts'

export interface DemoRunOptions {
  /** output folder (default demo-output/<timestamp>) */
  out?: string
  /** seconds of traffic per phase window (default 4) */
  windowSeconds?: number
  rps?: number
  /** where progress goes (default stdout) */
  print?: (line: string) => void
}

export interface PhaseStep {
  phase: number
  name: string
  mode: string
  step: string
  traffic: TrafficResult
  stats: WindowStats
  passed: boolean
  criteria: { description: string; verdict: string; value: number | null; text: string }[]
  fixesDeployed: DemoFix[]
}

export interface DemoRunResult {
  out: string
  logFile: string
  metricsFile: string
  steps: PhaseStep[]
  durationMs: number
}

/** The monthly audit export: rare, so nobody calls it during the log-only window; it shows up once enforcement has begun. */
const EXPORT_FROM_PHASE = 2
const EXPORT_WEIGHT = 0.3

export async function runDemo(options: DemoRunOptions = {}): Promise<DemoRunResult> {
  const t0 = performance.now()
  const print = options.print ?? ((l: string) => console.log(l))
  const windowMs = Math.round((options.windowSeconds ?? 4) * 1000)
  const rps = options.rps ?? 150
  const out = resolve(options.out ?? join('demo-output', new Date().toISOString().replace(/[:.]/g, '-')))
  mkdirSync(out, { recursive: true })
  const logFile = join(out, 'violations.log')
  const metricsFile = join(out, 'metrics.prom')

  // The static scan runs before anything is deployed (and before traffic, so it takes no CPU from it).
  const scanLine = await demoScanLine(demoConfig)
  const saved = Object.fromEntries(FLAG_NAMES.map((n) => [n, process.env[n]]))
  setFlags({})
  const shipping = createLogger({ app: 'tenantfence-demo', env: 'demo', destination: logFile })
  const demo = await createDemo({ url: `file:${join(out, 'demo.db')}`, logger: shipping.logger })
  const config = demo.config
  const server = demo.app.listen(0, '127.0.0.1')
  await new Promise<void>((r, j) => server.once('listening', r).once('error', j))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const rel = (p: string) => relative(process.cwd(), p) || '.'

  print(`tenantfence demo: the rollout of "${config.app.name}", phase 0 → 4, on ${url}`)
  print(`  database ${rel(join(out, 'demo.db'))} · violation log ${rel(logFile)}${shipping.lokiUrl ? ` (and Loki ${shipping.lokiUrl})` : ''}`)
  print(`  each phase window is ${windowMs / 1000} s of traffic at ${rps} req/s from ${3} tenants; it stands in for the criterion's window (24h, 7d):`)
  print(`  counts are judged as that window's, per-hour and per-day rates are scaled to it. The nightly job runs once per window.`)
  print('')
  // Warm up (JIT, SQLite page cache) before the first window, with enforcement off.
  await runTraffic({ url, rps: 200, count: 100, seed: 99 })

  const steps: PhaseStep[] = []
  try {
    for (const phase of config.phases) {
      setFlags(phaseFlags(config, phase.phase))
      if (phase.mode === 'hardened') demo.harden()
      // Read the new flags now (not at the window's first query), so the window's first snapshot
      // already shows the phase's mode: the gate judges only time spent in it.
      demo.client().enforcement.currentFlags()
      const mix: Partial<Record<RequestKind, number>> = phase.phase >= EXPORT_FROM_PHASE ? { auditExport: EXPORT_WEIGHT } : {}
      let attempt = 1
      for (;;) {
        const label = attempt === 1 ? 'traffic' : 'traffic after the fixes'
        print(`▶ phase ${phase.phase} · ${phase.name} (${phase.mode}): ${label}, ${windowMs / 1000} s…`)
        if (phase.phase === 0 && attempt === 1) print(`  ${scanLine}`)
        const step = await playWindow({ config, phase, step: label, url, rps, windowMs, mix, registry: demo.registry, cleanup: () => nightlyCleanup(demo.prisma()), seed: phase.phase * 10 + attempt })
        steps.push(step)
        for (const line of describeStep(step)) print(line)
        if (step.passed || attempt > 1 || phase.phase > 3) break
        // The gate failed: the team fixes what the violation log showed, as the rollout document orders it.
        const seen = new Set(Object.keys(step.stats.violationsByModel))
        const severities = phase.phase === 1 ? ['CRITICAL'] : ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']
        const fixes = (Object.keys(DEMO_FIXES) as DemoFix[]).filter((f) => !demo.fixes.has(f) && seen.has(DEMO_FIXES[f].model) && severities.includes(config.models[DEMO_FIXES[f].model]?.severity ?? ''))
        if (fixes.length === 0) break
        for (const f of fixes) demo.fixes.add(f)
        step.fixesDeployed = fixes
        print(`  ↻ deploying ${fixes.length} fix${fixes.length === 1 ? '' : 'es'} (no restart): ${fixes.map((f) => `${DEMO_FIXES[f].endpoint} [${DEMO_FIXES[f].model}]`).join(', ')}`)
        attempt++
      }
      print('')
    }
    writeFileSync(metricsFile, await demo.registry.metrics())
    writeFileSync(join(out, 'summary.json'), JSON.stringify({ url, windowSeconds: windowMs / 1000, rps, steps }, null, 2) + '\n')
  } finally {
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
    await demo.close()
    await shipping.close()
    setFlags(saved)
  }
  const durationMs = Math.round(performance.now() - t0)
  const lines = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"msg":"TENANT_VIOLATION"')).length
  print(`done in ${(durationMs / 1000).toFixed(1)} s: ${lines} TENANT_VIOLATION lines in ${rel(logFile)}, metrics snapshot in ${rel(metricsFile)}`)
  print(`  next: npx tsx src/cli.ts report --logs ${rel(logFile)}`)
  return { out, logFile, metricsFile, steps, durationMs }
}

function setFlags(flags: Record<string, string | undefined>): void {
  for (const name of FLAG_NAMES) delete process.env[name]
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) process.env[k] = v
}

async function playWindow(o: { config: TenantFenceConfig; phase: PhaseConfig; step: string; url: string; rps: number; windowMs: number; mix: Partial<Record<RequestKind, number>>; registry: Parameters<typeof snapshot>[0]; cleanup: () => Promise<unknown>; seed: number }): Promise<PhaseStep> {
  const before = await snapshot(o.registry)
  // A window is rate × length requests, every one sent (never skipped) and answered (no timeout
  // that matters): what a window sees then depends on its seed only. Timed windows on a busy
  // machine skipped requests, missed routes, and the story changed (an unfixed route in phase 4).
  const requests = Math.max(1, Math.round((o.rps * o.windowMs) / 1000))
  const unbounded = Number.POSITIVE_INFINITY // the count bounds it
  const traffic = runTraffic({ url: o.url, rps: o.rps, count: requests, concurrency: unbounded, mix: o.mix, seed: o.seed, timeoutMs: 120_000 })
  await new Promise((r) => setTimeout(r, o.windowMs / 2))
  await o.cleanup() // the nightly job, mid-window
  const result = await traffic
  const after = await snapshot(o.registry)
  const d = delta(before, after)
  const s = stats(d, o.config)
  const { passed, results } = judgePhase(o.config, o.phase, before, after)
  return {
    phase: o.phase.phase,
    name: o.phase.name,
    mode: o.phase.mode,
    step: o.step,
    traffic: result,
    stats: s,
    passed,
    criteria: results.map((r: CriterionVerdict) => ({ description: r.criterion.description, verdict: r.verdict, value: r.value ?? null, text: r.text })),
    fixesDeployed: [],
  }
}

const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${Number((x * 100).toPrecision(3))} %`)

function describeStep(s: PhaseStep): string[] {
  const st = s.stats
  const statuses = Object.entries(st.byStatus).sort().map(([k, v]) => `${k}×${v}`).join(' ')
  const models = Object.entries(st.violationsByModel).sort((a, b) => b[1].logged + b[1].blocked - (a[1].logged + a[1].blocked))
  const vtext = models.length ? models.map(([m, v]) => `${m} ${v.severity} ${v.logged + v.blocked}${v.blocked ? ` (${v.blocked} blocked)` : ''}`).join(' · ') : 'none'
  const bypass = Object.entries(st.bypasses).map(([r, n]) => `${n} ${r}`).join(', ') || '0'
  const out = [
    `  requests    ${st.requests} (${statuses || 'none'})${s.traffic.skipped ? `, ${s.traffic.skipped} skipped` : ''}${s.traffic.failed ? `, ${s.traffic.failed} failed` : ''}`,
    `  violations  ${st.violations}: ${vtext}`,
    `  blocked     ${st.blockedQueries} queries → ${st.byStatus['403'] ?? 0} requests answered 403 · error rate ${pct(st.errorRate)} · bypasses ${bypass}${st.bypassDenied ? ` (${st.bypassDenied} denied)` : ''}`,
    `  check p95   ${st.checkP95 === undefined ? 'n/a (no query checked: enforcement off)' : `${(st.checkP95 * 1000).toFixed(4)} ms over ${st.checkedQueries} checked queries (histogram buckets)`}`,
  ]
  s.criteria.forEach((c, i) => out.push(`  ${i === 0 ? 'criteria' : '        '}    ${c.verdict.padEnd(7)} ${c.description}: ${c.text}`))
  out.push(`  gate        ${s.passed ? 'HOLDS: advance' : 'does NOT hold: stay in this phase'}`)
  return out
}

function parseArgs(argv: string[]): DemoRunOptions {
  const o: DemoRunOptions = {}
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i]!.split('=', 2) as [string, string | undefined]
    const v = () => inline ?? argv[++i] ?? ''
    if (k === '--out') o.out = v()
    else if (k === '--window') o.windowSeconds = Number(v())
    else if (k === '--rps') o.rps = Number(v())
    else if (k === '--help' || k === '-h') {
      console.log('npm run demo [-- --out DIR] [--window SECONDS (default 4)] [--rps N (default 150)]')
      process.exit(0)
    } else throw new Error(`unknown option ${k}; try --help`)
  }
  if (o.windowSeconds !== undefined && !(o.windowSeconds > 0 && o.windowSeconds <= 60)) throw new Error('--window: seconds from 0 to 60')
  if (o.rps !== undefined && !(o.rps > 0 && o.rps <= 2000)) throw new Error('--rps: from 1 to 2000')
  return o
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let options: DemoRunOptions
  try {
    options = parseArgs(process.argv.slice(2))
  } catch (err) {
    console.error(`demo: ${(err as Error).message}`)
    process.exit(2)
  }
  runDemo(options).then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`demo failed: ${err.stack ?? err.message}`)
      process.exit(1)
    },
  )
}
