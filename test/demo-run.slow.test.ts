// `npm run demo` end to end: it plays phases 0..4, writes the violation log and the metrics
// snapshot, and the log holds exactly as many TENANT_VIOLATION lines as tenant_violations_total
// counted (every phase samples at 1).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { parseMetricsText } from '../src/ops/metrics-text.ts'
import { run as runProcess, testTimeoutFor } from './helpers/spawn.ts'
import { tempDir } from './helpers/tmp.ts'

const out = tempDir('tenantfence-demo-run-')
/** 15 s on an idle machine (five phases of 1.5 s windows plus start-up): a loaded one gets ten times that. */
const DEADLINE_MS = 240_000

function run(args: string[]) {
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('TENANT_ENFORCEMENT_') || k === 'LOKI_URL') delete env[k]
  return runProcess('npm', ['run', '--silent', 'demo', '--', ...args], { env, deadlineMs: DEADLINE_MS })
}

describe('npm run demo', () => {
  it('plays the rollout 0 → 4 and leaves a violation log that matches the metrics', { timeout: testTimeoutFor(DEADLINE_MS) }, async () => {
    const res = await run(['--out', out, '--window', '1.5', '--rps', '120'])
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    for (const p of config.phases) expect(res.stdout).toContain(`▶ phase ${p.phase} · ${p.name} (${p.mode})`)
    // the terminal stays readable: no JSON log line reaches it
    expect(res.stdout).not.toContain('TENANT_VIOLATION"')
    expect(res.stdout).not.toMatch(/^\{/m)

    const logFile = join(out, 'violations.log')
    const metricsFile = join(out, 'metrics.prom')
    expect(existsSync(logFile)).toBe(true)
    expect(existsSync(metricsFile)).toBe(true)
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const violations = lines.filter((l) => l.msg === 'TENANT_VIOLATION')
    const samples = parseMetricsText(readFileSync(metricsFile, 'utf8'))
    const counted = samples.filter((s) => s.name === 'tenant_violations_total').reduce((a, s) => a + s.value, 0)
    const logged = samples.filter((s) => s.name === 'tenant_violations_total' && s.labels.decision === 'logged').reduce((a, s) => a + s.value, 0)
    const blocked = samples.filter((s) => s.name === 'tenant_violations_total' && s.labels.decision === 'blocked').reduce((a, s) => a + s.value, 0)
    expect(counted).toBeGreaterThan(0)
    expect(violations.length).toBe(logged + blocked)
    expect(violations.filter((v) => v.decision === 'blocked').length).toBe(blocked)
    // endpoints are route templates, never raw paths
    for (const v of violations) expect(String(v.endpoint)).not.toMatch(/\/\d+(\/|$)/)
    // the story: phase 1 fails its gate until the CRITICAL paths are fixed; hardened ends clean with the nightly bypass
    type Step = { phase: number; passed: boolean; stats: { violations: number; bypasses: Record<string, number> }; criteria: { verdict: string; text: string }[] }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { steps: Step[] }
    // Judged criterion by criterion. The check-time budget (p95 under 0.5 ms) is measured as the
    // demo runs: on a loaded machine a preempted check reads slow, so the story does not hang on
    // it (the check's cost is the bench's to measure).
    const phase1 = config.phases.find((p) => p.phase === 1)!
    const verdicts = (s: Step) => Object.fromEntries(phase1.successCriteria.filter((c) => c.kind !== 'checkP95Ms').map((c) => [c.kind, s.criteria[phase1.successCriteria.indexOf(c)]!.verdict]))
    expect(summary.steps.filter((s) => s.phase === 1).map(verdicts)).toEqual([
      { criticalViolations: 'FAIL', violationsPerHour: expect.any(String) },
      { criticalViolations: 'PASS', violationsPerHour: 'PASS' },
    ])
    const last = summary.steps.at(-1)!
    expect(last).toMatchObject({ phase: 4, passed: true, stats: { violations: 0, bypasses: { nightly_cleanup: 1 } } })
    expect(samples.find((s) => s.name === 'tenant_enforcement_mode' && s.labels.mode === 'hardened')?.value).toBe(1)
  })
})
