// The evidence rule of the criteria (ops/criteria.ts), as the demo's gate applies it to registry
// snapshots: the phase's mode at both ends of the window, counters the registry exports, and a
// value over part of a window that fails (FAIL) or would pass (NO DATA). The same rule against a
// real Prometheus: test/ops-prometheus.test.ts.
import { describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { criterionResult } from '../src/ops/criteria.ts'
import { judgePhase, type Snapshot } from '../src/demo/window.ts'
import { METRIC } from '../src/telemetry/metric-names.ts'

const phase1 = config.phases[1]!
const modes = (mode: string): Snapshot => ['disabled', 'log_only', 'selective', 'enforce', 'hardened'].map((m) => ({ name: METRIC.mode, labels: { mode: m }, value: m === mode ? 1 : 0 }))
const critical = (n: number) => ({ name: METRIC.violations, labels: { model: 'User', severity: 'CRITICAL', violation: 'missing_tenant_id', decision: 'logged' }, value: n })
const buckets = (n: number) => [0.0001, Infinity].map((le) => ({ name: `${METRIC.checkDuration}_bucket`, labels: { le: le === Infinity ? '+Inf' : String(le) }, value: n }))
const verdicts = (r: ReturnType<typeof judgePhase>) => r.results.map((x) => `${x.criterion.kind}:${x.verdict}`)

describe("the demo's gate: one evaluation of the criteria, with the gate's evidence rule", () => {
  it('judges a window spent in the phase\'s mode', () => {
    const r = judgePhase(config, phase1, [...modes('log_only'), critical(0), ...buckets(0)], [...modes('log_only'), critical(0), ...buckets(100)])
    expect(verdicts(r)).toEqual(['criticalViolations:PASS', 'violationsPerHour:PASS', 'checkP95Ms:PASS'])
    expect(r.passed).toBe(true)
  })

  it('a window in another mode is NO DATA, whatever its counters say', () => {
    const r = judgePhase(config, phase1, [...modes('disabled'), critical(0), ...buckets(0)], [...modes('log_only'), critical(0), ...buckets(100)])
    expect(verdicts(r)).toEqual(['criticalViolations:NO DATA', 'violationsPerHour:NO DATA', 'checkP95Ms:NO DATA'])
    expect(r.results[0]!.note).toBe('the app reported mode disabled then log_only, not log_only, over the window')
    expect(r.passed).toBe(false)
  })

  it('a counter the registry does not export is NO DATA, never 0', () => {
    const r = judgePhase(config, phase1, [...modes('log_only'), ...buckets(0)], [...modes('log_only'), ...buckets(100)])
    expect(verdicts(r)).toEqual(['criticalViolations:NO DATA', 'violationsPerHour:NO DATA', 'checkP95Ms:PASS'])
    expect(r.results[0]!.note).toBe('the app exports no tenant_violations_total in the window')
  })

  it('over part of the window: a failing value FAILS, a passing one is NO DATA', () => {
    const [critical24h, perHour] = phase1.successCriteria
    expect(criterionResult(critical24h!, 99, { covered: 2400 })).toMatchObject({ verdict: 'FAIL', value: 99, measuredOver: '40m' })
    expect(criterionResult(perHour!, 60, { covered: 7200 })).toMatchObject({ verdict: 'FAIL', text: '60 violations/h (below 10 violations/h over 2h of 24h)' })
    expect(criterionResult(perHour!, 1, { covered: 7200 })).toMatchObject({ verdict: 'NO DATA', note: 'the data covers 2h of the 24h window: too short to pass (24h needed)' })
    expect(criterionResult(perHour!, 1, { covered: 86_400 })).toMatchObject({ verdict: 'PASS' })
    expect(criterionResult(perHour!, 1, { covered: 0, missing: 'nothing' })).toMatchObject({ verdict: 'NO DATA', value: undefined, note: 'nothing' })
  })
})
