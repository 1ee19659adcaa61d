// The phase gate and the status dashboards against a REAL Prometheus whose TSDB is backfilled
// with promtool: one 8-day segment per scenario (test/fixtures/ops/scenarios.ts), evaluated
// at each segment's last sample with --at.
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { evaluateGate } from '../src/ops/gate.ts'
import { PrometheusClient } from '../src/ops/prometheus-client.ts'
import { collectFromPrometheus } from '../src/ops/status/collect.ts'
import { ANSI, renderStatus } from '../src/ops/status/render.ts'
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
    [1, 'logOnlyNoise', true, ['criticalViolations:PASS:0', 'violationsPerHour:PASS:5', 'enforcementErrors:PASS:0', 'checkP95Ms:PASS:0.0975']],
    [1, 'criticalLeak', false, ['criticalViolations:FAIL:48', 'violationsPerHour:PASS:3', 'enforcementErrors:PASS:0', 'checkP95Ms:PASS:0.0975']],
    [1, 'slow', false, ['criticalViolations:PASS:0', 'violationsPerHour:PASS:0', 'enforcementErrors:PASS:0', 'checkP95Ms:FAIL:0.975']],
    [2, 'bypassHeavy', true, ['errorRate:PASS:0', 'violations:PASS:0', 'bypassesPerDay:PASS:10', 'checkP95Ms:PASS:0.0975']],
    [2, 'logOnlyNoise', false, ['errorRate:PASS:0', 'violations:FAIL:120', 'bypassesPerDay:PASS:0', 'checkP95Ms:PASS:0.0975']],
    [2, 'noTraffic', false, ['errorRate:NO DATA:-', 'violations:PASS:0', 'bypassesPerDay:PASS:0', 'checkP95Ms:NO DATA:-']],
    [3, 'healthy', true, ['errorRate:PASS:0', 'bypassesPerDay:PASS:1', 'checkP95Ms:PASS:0.0975']],
    [3, 'bypassHeavy', false, ['errorRate:PASS:0', 'bypassesPerDay:FAIL:10', 'checkP95Ms:PASS:0.0975']],
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

  it('status from Prometheus: violations of the last 24 h with trend, enforcement of the last hour', async () => {
    const res = await runCli(['status', '--prometheus', prom.url, '--at', String(atOf('blocking'))])
    expect(res.code).toBe(0)
    expect(res.stdout.replace(prom.url, 'http://prometheus')).toMatchSnapshot()
  })

  it('status colours only when asked (TTY and no NO_COLOR)', async () => {
    const data = await collectFromPrometheus(new PrometheusClient(new URL(prom.url), atOf('blocking')), 'Prometheus', config)
    const coloured = renderStatus(data, ANSI)
    expect(coloured).toContain('\u001b[31m█') // CRITICAL bars in red
    expect(renderStatus(data)).not.toContain('\u001b[')
  })
})
