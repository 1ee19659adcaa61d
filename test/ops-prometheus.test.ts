// The phase gate and the status dashboards against a REAL Prometheus whose TSDB is backfilled
// with promtool: one 8-day segment per scenario (test/fixtures/ops/scenarios.ts), evaluated
// at each segment's last sample with --at.
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { evaluateGate } from '../src/ops/gate.ts'
import { PrometheusClient } from '../src/ops/prometheus-client.ts'
import { collectFromPrometheus } from '../src/ops/status/collect.ts'
import { ANSI, renderEnforcement, renderStatus } from '../src/ops/status/render.ts'
import { atOf, scenarioFiles, type ScenarioName } from './fixtures/ops/scenarios.ts'
import { runCli } from './fixtures/ops/run-cli.ts'
import { testTimeoutFor } from './helpers/spawn.ts'
import { backfill, requirePrometheus, requirePromtool, startPrometheus, tempTsdbDir, type PrometheusServer } from './helpers/prometheus.ts'

let prom: PrometheusServer
let tsdb: string

describe('against a real Prometheus (backfilled)', () => {
  beforeAll(async () => {
    requirePromtool()
    requirePrometheus()
    tsdb = await tempTsdbDir()
    await Promise.all(scenarioFiles().map((text) => backfill(text, tsdb)))
    prom = await startPrometheus({ tsdbDir: tsdb })
  }, testTimeoutFor())

  afterAll(async () => {
    await prom?.stop()
    if (tsdb) await rm(tsdb, { recursive: true, force: true })
  })

  const gate = async (phase: number, scenario: ScenarioName) => {
    const g = await evaluateGate(config, config.phases[phase]!, new PrometheusClient(new URL(prom.url), atOf(scenario)))
    return { passed: g.passed, verdicts: g.results.map((r) => `${r.criterion.kind}:${r.verdict}:${r.value === undefined ? '-' : Number(r.value.toPrecision(4))}`) }
  }

  it.each([
    [0, 'healthy', true, ['enforcementErrors:PASS:0', 'flagErrors:PASS:0']],
    [0, 'noTraffic', true, ['enforcementErrors:PASS:0', 'flagErrors:PASS:0']], // absent counters read 0
    [0, 'blocking', false, ['enforcementErrors:FAIL:240', 'flagErrors:FAIL:2']],
    [1, 'logOnlyNoise', true, ['criticalViolations:PASS:0', 'violationsPerHour:PASS:5', 'checkP95Ms:PASS:0.0975']],
    [1, 'criticalLeak', false, ['criticalViolations:FAIL:48', 'violationsPerHour:PASS:3', 'checkP95Ms:PASS:0.0975']],
    [1, 'slow', false, ['criticalViolations:PASS:0', 'violationsPerHour:PASS:0', 'checkP95Ms:FAIL:0.975']],
    // "fewer than 10 an hour": exactly 10 does not pass
    [1, 'atTheLine', false, ['criticalViolations:PASS:0', 'violationsPerHour:FAIL:10', 'checkP95Ms:PASS:0.0975']],
    [2, 'bypassHeavy', true, ['errorRate:PASS:0', 'violationsPerHour:PASS:0', 'checkP95Ms:PASS:0.0975']],
    // "fewer than 5 logged violations an hour": 5 does not pass
    [2, 'logOnlyNoise', false, ['errorRate:PASS:0', 'violationsPerHour:FAIL:5', 'checkP95Ms:PASS:0.0975']],
    // 240 blocked User queries a day are not violations left to fix: 4.5 logged an hour (Role, RolePermission)
    [2, 'blocking', false, ['errorRate:FAIL:0.01', 'violationsPerHour:PASS:4.5', 'checkP95Ms:PASS:0.0975']],
    // probes and the blocked job are not requests: 12 / 24 000 = 0.05 %
    [2, 'probesAndJobs', true, ['errorRate:PASS:0.0005', 'violationsPerHour:PASS:0', 'checkP95Ms:PASS:0.0975']],
    [2, 'noTraffic', false, ['errorRate:NO DATA:-', 'violationsPerHour:PASS:0', 'checkP95Ms:NO DATA:-']],
    [3, 'healthy', true, ['errorRate:PASS:0', 'bypassesPerDay:PASS:1', 'checkP95Ms:PASS:0.0975']],
    [3, 'bypassHeavy', false, ['errorRate:PASS:0', 'bypassesPerDay:FAIL:10', 'checkP95Ms:PASS:0.0975']],
    // "fewer than 5 bypasses a day": 5 does not pass
    [3, 'atTheLine', false, ['errorRate:PASS:0', 'bypassesPerDay:FAIL:5', 'checkP95Ms:PASS:0.0975']],
    // phase 3 wants under 0.01 %
    [3, 'probesAndJobs', false, ['errorRate:FAIL:0.0005', 'bypassesPerDay:PASS:0', 'checkP95Ms:PASS:0.0975']],
    [3, 'slow', false, ['errorRate:PASS:0', 'bypassesPerDay:PASS:0', 'checkP95Ms:FAIL:0.975']],
    [4, 'healthy', true, ['errorRate:PASS:0', 'bypassesPerDay:PASS:1']],
    [4, 'blocking', false, ['errorRate:FAIL:0.01', 'bypassesPerDay:PASS:0']],
  ] as const)('phase %i on %s: passed=%s', async (phase, scenario, passed, verdicts) => {
    expect(await gate(phase, scenario)).toEqual({ passed, verdicts })
  })

  it('phase check exits 0 and names the next phase when all criteria hold', async () => {
    const res = await runCli(['phase', 'check', '1', '--prometheus', prom.url, '--at', new Date(atOf('logOnlyNoise') * 1000).toISOString()])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatchSnapshot()
    expect(res.stdout).toContain('tenantfence phase env 2')
  })

  it('phase check exits 1 with PASS/FAIL/NO DATA per criterion when one does not hold', async () => {
    const res = await runCli(['phase', 'check', '2', '--prometheus', prom.url, '--at', String(atOf('noTraffic'))])
    expect(res.code).toBe(1)
    expect(res.stdout).toMatchSnapshot()
  })

  it('status from Prometheus: violations of the last 24 h with trend and the severity line, enforcement of the last hour', async () => {
    const res = await runCli(['status', '--prometheus', prom.url, '--at', String(atOf('blocking'))])
    expect(res.code).toBe(0)
    expect(res.stdout.replace(prom.url, 'http://prometheus')).toMatchSnapshot()
    expect(res.stdout).toContain('CRITICAL: 240 | HIGH: 96 | MEDIUM: 12')
    // 10 blocked User requests in the last hour of 1 000: 1 %, the rollback trigger, not above it
    expect(res.stdout).toContain('Blocked queries by model (1 h)')
    expect(res.stdout).toMatch(/\/api\/admin\/users\s+10/)
  })

  it('status against the phase the app reports: over the rollback trigger it is red and prints the rollback command', async () => {
    const data = await collectFromPrometheus(new PrometheusClient(new URL(prom.url), atOf('blocking')), 'Prometheus', config)
    expect(data.thresholds).toMatchObject({ phase: 2, errorRate: 0.001, rollback: 0.01 })
    const over = renderEnforcement({ ...data, errorRate: 0.02 }, ANSI)
    expect(over).toContain('\u001b[31m2.000 %')
    expect(over).toContain('Over the rollback trigger (1 %): roll back to log only now')
    // the demo's flags come from its environment (rollout.flags): that, never a guessed deployment
    expect(over).toContain("# set these in the app's environment and restart it")
    expect(over).toContain('    TENANT_ENFORCEMENT_MODE=log_only')
    expect(over).not.toContain('deployment/')
    expect(renderEnforcement({ ...data, errorRate: 0.005 }, ANSI)).toContain('\u001b[33m0.500 %')
    expect(renderEnforcement({ ...data, errorRate: 0.0005 }, ANSI)).toContain('\u001b[32m0.050 %')
    expect(renderEnforcement({ ...data, errorRate: 0.005 }, ANSI)).not.toContain('roll back')
  })

  it('status: probes and jobs are not users\' requests', async () => {
    const data = await collectFromPrometheus(new PrometheusClient(new URL(prom.url), atOf('probesAndJobs')), 'Prometheus', config)
    // 1 000 users' requests in the hour (the 100 000 probes are not), the blocked job's 42 queries are not requests
    expect(data.requests).toBe(1000)
    expect(data.blockedRequests).toBeLessThanOrEqual(1)
    expect(data.errorRate).toBe(data.blockedRequests / 1000)
    expect(data.topEndpoints[0]).toEqual({ endpoint: 'unknown', count: 42 })
  })

  it('status colours only when asked (TTY and no NO_COLOR)', async () => {
    const data = await collectFromPrometheus(new PrometheusClient(new URL(prom.url), atOf('blocking')), 'Prometheus', config)
    const coloured = renderStatus(data, ANSI)
    expect(coloured).toContain('\u001b[31m█') // CRITICAL bars in red
    expect(renderStatus(data)).not.toContain('\u001b[')
  })
})
