// The benchmark still runs end to end (`npm run bench -- --quick`) and reports every scenario.
// No timing assertion here on purpose: performance goals live in the benchmark, which prints
// them as MET / NOT MET; a timed unit test would only measure how busy the CI machine is.
// In `npm run test:slow`: the quick run alone keeps a core busy for 30 s or more.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runTsx, testTimeoutFor } from './helpers/spawn.ts'
import { tempDir } from './helpers/tmp.ts'

const dir = tempDir('tenantfence-bench-')
/** The quick bench takes 30-35 s on an idle 2-core machine; give a loaded one ten times that. */
const DEADLINE_MS = 360_000

interface BenchJson {
  quick: boolean
  core: { shapes: { name: string; calls: number; mean: number }[]; mixedTypical: { calls: number } }
  hook: { id: string; calls: number; linesLogged: number }[]
  verify: { flagReparse: { ok: boolean }; stackCapture: { ok: boolean } }
  memory: { id: string; checks: number }[]
  e2e: { db: string; scenarios: { id: string; queries: number; opsPerSec: number; p50Us: number; p99Us: number; logLines: number }[] }[]
  series: { requests: number; distinctRawPaths: number; blocked: number; enforcementErrorSeries: number; bound: number; bounded: boolean }
  seriesHttp?: { requests: number; distinctRawPaths: number; blocked: number; bounded: boolean }
  references: { id: string; p50Us: number }[]
  targets: { name: string; met: boolean }[]
}

const SCENARIOS = ['plain', 'empty_hook', 'disabled', 'log_only', 'enforce', 'enforce_file_flags', 'log_violations_1', 'log_violations_0.01']

describe('npm run bench -- --quick', () => {
  it('runs every scenario and writes the JSON report', { timeout: testTimeoutFor(DEADLINE_MS) }, async () => {
    const file = join(dir, 'bench.json')
    const run = await runTsx('bench/run.ts', ['--quick', '--json', file], { deadlineMs: DEADLINE_MS, env: { ...process.env, CI: 'true' } })
    expect(run.stderr).not.toMatch(/bench failed/)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/targets/)

    const r = JSON.parse(readFileSync(file, 'utf8')) as BenchJson
    expect(r.quick).toBe(true)
    expect(r.e2e.map((e) => e.db).sort()).toEqual(['file', 'memory'])
    for (const e of r.e2e) {
      expect(e.scenarios.map((s) => s.id)).toEqual(SCENARIOS)
      for (const s of e.scenarios) {
        expect(s.queries, `${e.db} ${s.id}`).toBeGreaterThan(0)
        expect(s.opsPerSec, `${e.db} ${s.id}`).toBeGreaterThan(0)
        expect(s.p50Us).toBeGreaterThan(0)
        expect(s.p99Us).toBeGreaterThanOrEqual(s.p50Us)
      }
      const lines = Object.fromEntries(e.scenarios.map((s) => [s.id, s.logLines]))
      // Scoped queries log nothing; every violation is logged at sample rate 1.0.
      expect(lines.enforce).toBe(0)
      expect(lines.log_only).toBe(0)
      expect(lines.log_violations_1).toBeGreaterThanOrEqual(e.scenarios.find((s) => s.id === 'log_violations_1')!.queries)
    }

    expect(r.core.shapes.length).toBeGreaterThan(10)
    for (const s of r.core.shapes) expect(s.mean, s.name).toBeGreaterThan(0)
    expect(r.hook.map((h) => h.id)).toEqual(['disabled', 'log_only', 'enforce', 'enforce_findMany', 'log_violations_1', 'log_violations_0.01', 'enforce_blocked'])
    expect(r.verify.flagReparse.ok).toBe(true)
    expect(r.verify.stackCapture.ok).toBe(true)
    expect(r.memory.map((m) => m.checks).every((c) => c > 0)).toBe(true)
    // The foreign-key write: every scenario ran (the bench itself throws if one was logged as a violation).
    expect(r.references.map((x) => x.id)).toEqual(['plain', 'empty_hook', 'verify', 'plain_connect', 'pinned'])
    for (const x of r.references) expect(x.p50Us, x.id).toBeGreaterThan(0)

    // Cardinality: 10 000 raw paths, a bounded number of series.
    expect(r.series.requests).toBe(10_000)
    expect(r.series.distinctRawPaths).toBe(10_000)
    expect(r.series.blocked).toBe(10_000)
    expect(r.series.bounded).toBe(true)
    expect(r.series.enforcementErrorSeries).toBeLessThanOrEqual(r.series.bound)
    // Through the Express adapter too, when it is there.
    if (r.seriesHttp) {
      expect(r.seriesHttp.distinctRawPaths).toBe(10_000)
      expect(r.seriesHttp.blocked).toBe(10_000)
      expect(r.seriesHttp.bounded).toBe(true)
    }

    // issue 7's four targets and issue 10's, each with a verdict
    expect(r.targets.map((t) => t.name)).toHaveLength(5)
    expect(r.targets.some((t) => t.name.includes('issue 10'))).toBe(true)
    for (const t of r.targets) expect(typeof t.met, t.name).toBe('boolean')
  })
})

describe('npm run bench:hook -- --quick', () => {
  it('measures every client, tenantfence on both hook paths (the bench refuses a client on the wrong path)', { timeout: testTimeoutFor(DEADLINE_MS) }, async () => {
    const file = join(dir, 'hook.json')
    const run = await runTsx('bench/hook.ts', ['--quick', '--json', file], { deadlineMs: DEADLINE_MS, env: { ...process.env, CI: 'true' } })
    expect(run.code, run.stderr).toBe(0)
    const r = JSON.parse(readFileSync(file, 'utf8')) as { prisma: string; results: { id: string; p50Us: number; vsPlain: { median: number } }[] }
    expect(r.prisma).toBe('7')
    expect(r.results.map((x) => x.id)).toEqual(['plain', 'empty_all', 'empty_other', 'fence_ext', 'fence_req', 'perm_plain', 'perm_ext', 'perm_req'])
    for (const x of r.results) expect(Number.isFinite(x.vsPlain.median) && x.p50Us > 0, x.id).toBe(true)
  })
})
