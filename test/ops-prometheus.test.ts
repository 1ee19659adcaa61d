// The phase gate and the status dashboards against a REAL Prometheus whose TSDB is backfilled
// with promtool: one 8-day segment per scenario (test/fixtures/ops/scenarios.ts), evaluated
// at each segment's last sample with --at.
import { rm, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { evaluateGate, renderGate } from '../src/ops/gate.ts'
import { PrometheusClient } from '../src/ops/prometheus-client.ts'
import { collectFromPrometheus } from '../src/ops/status/collect.ts'
import { ANSI, renderEnforcement, renderStatus } from '../src/ops/status/render.ts'
import { atOf, HISTORIES, HISTORY_AT, historiesOpenMetrics, scenarioFiles, type ScenarioName } from './fixtures/ops/scenarios.ts'
import { runCli } from './fixtures/ops/run-cli.ts'
import { testTimeoutFor } from './helpers/spawn.ts'
import { backfill, requirePrometheus, requirePromtool, startPrometheus, tempTsdbDir, type PrometheusServer } from './helpers/prometheus.ts'

let prom: PrometheusServer
let tsdb: string

/** Alerts that fire at the first evaluation: one of the app's job, one of another job. */
const FIRING_RULES = `groups:
  - name: status-test
    rules:
      - alert: TenantViolationSpike
        expr: vector(1)
        labels: { job: ${config.app.job}, severity: warning, phase: "1" }
      - alert: TenantBypassUsage
        expr: vector(1)
        labels: { job: another-app, severity: warning, phase: "3" }
`

describe('against a real Prometheus (backfilled)', () => {
  beforeAll(async () => {
    requirePromtool()
    requirePrometheus()
    tsdb = await tempTsdbDir()
    await Promise.all([...scenarioFiles(), historiesOpenMetrics()].map((text) => backfill(text, tsdb, { maxBlockDuration: '192h' })))
    // one rule file with alerts that fire at once: the app's, and another job's (status lists only the app's)
    const rules = join(tsdb, '..', `${basename(tsdb)}-rules.yml`)
    await writeFile(rules, FIRING_RULES)
    prom = await startPrometheus({ tsdbDir: tsdb, configYaml: `global:\n  evaluation_interval: 1s\nrule_files: [${JSON.stringify(rules)}]\nscrape_configs: []\n` })
  }, testTimeoutFor())

  afterAll(async () => {
    await prom?.stop()
    if (tsdb) await rm(tsdb, { recursive: true, force: true })
    if (tsdb) await rm(join(tsdb, '..', `${basename(tsdb)}-rules.yml`), { force: true })
  })

  const gate = async (phase: number, scenario: ScenarioName) => {
    const g = await evaluateGate(config, config.phases[phase]!, new PrometheusClient(new URL(prom.url), atOf(scenario)))
    return { passed: g.passed, verdicts: g.results.map((r) => `${r.criterion.kind}:${r.verdict}:${r.value === undefined ? '-' : Number(r.value.toPrecision(4))}`) }
  }

  it.each([
    [0, 'disabledQuiet', true, ['enforcementErrors:PASS:0', 'flagErrors:PASS:0']],
    [0, 'disabledFlagError', false, ['enforcementErrors:PASS:0', 'flagErrors:FAIL:2']],
    // a gate for phase N judges time spent in phase N: an app in enforce or selective says nothing about phase 0
    [0, 'healthy', false, ['enforcementErrors:NO DATA:-', 'flagErrors:NO DATA:-']],
    [0, 'blocking', false, ['enforcementErrors:NO DATA:-', 'flagErrors:NO DATA:-']],
    [1, 'logOnlyNoise', true, ['criticalViolations:PASS:0', 'violationsPerHour:PASS:5', 'checkP95Ms:PASS:0.0975']],
    [1, 'criticalLeak', false, ['criticalViolations:FAIL:48', 'violationsPerHour:PASS:3', 'checkP95Ms:PASS:0.0975']],
    [1, 'slow', false, ['criticalViolations:PASS:0', 'violationsPerHour:PASS:0', 'checkP95Ms:FAIL:0.975']],
    // "fewer than 10 an hour": exactly 10 does not pass
    [1, 'atTheLine', false, ['criticalViolations:PASS:0', 'violationsPerHour:FAIL:10', 'checkP95Ms:PASS:0.0975']],
    [2, 'bypassHeavy', false, ['errorRate:NO DATA:-', 'violationsPerHour:NO DATA:-', 'checkP95Ms:NO DATA:-']],
    // "fewer than 5 logged violations an hour": 5 does not pass
    [2, 'selectiveAtTheLine', false, ['errorRate:PASS:0', 'violationsPerHour:FAIL:5', 'checkP95Ms:PASS:0.0975']],
    // log_only's 5 an hour are not phase 2's
    [2, 'logOnlyNoise', false, ['errorRate:NO DATA:-', 'violationsPerHour:NO DATA:-', 'checkP95Ms:NO DATA:-']],
    // 240 blocked User queries a day are not violations left to fix: 4.5 logged an hour (Role, RolePermission)
    [2, 'blocking', false, ['errorRate:FAIL:0.01', 'violationsPerHour:PASS:4.5', 'checkP95Ms:PASS:0.0975']],
    // probes and the blocked job are not requests: 12 / 24 000 = 0.05 %
    [2, 'probesAndJobsSelective', true, ['errorRate:PASS:0.0005', 'violationsPerHour:PASS:0', 'checkP95Ms:PASS:0.0975']],
    [2, 'noTraffic', false, ['errorRate:NO DATA:-', 'violationsPerHour:PASS:0', 'checkP95Ms:NO DATA:-']],
    [3, 'healthy', true, ['errorRate:PASS:0', 'bypassesPerDay:PASS:1', 'checkP95Ms:PASS:0.0975']],
    [3, 'bypassHeavy', false, ['errorRate:PASS:0', 'bypassesPerDay:FAIL:10', 'checkP95Ms:PASS:0.0975']],
    // "fewer than 5 bypasses a day": 5 does not pass
    [3, 'bypassAtTheLine', false, ['errorRate:PASS:0', 'bypassesPerDay:FAIL:5', 'checkP95Ms:PASS:0.0975']],
    // phase 3 wants under 0.01 %
    [3, 'probesAndJobs', false, ['errorRate:FAIL:0.0005', 'bypassesPerDay:PASS:0', 'checkP95Ms:PASS:0.0975']],
    // a slow check in log_only says nothing about phase 3
    [3, 'slow', false, ['errorRate:NO DATA:-', 'bypassesPerDay:NO DATA:-', 'checkP95Ms:NO DATA:-']],
    [4, 'hardened', true, ['errorRate:PASS:0', 'bypassesPerDay:PASS:1']],
    [4, 'healthy', false, ['errorRate:NO DATA:-', 'bypassesPerDay:NO DATA:-']],
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

  it('status: refused flag changes, and the app\'s firing alerts from /api/v1/alerts (not another job\'s)', async () => {
    const data = await collectFromPrometheus(new PrometheusClient(new URL(prom.url), atOf('blocking')), 'Prometheus', config)
    expect(data).toMatchObject({ flagErrors: 2, flagsRefusedOn: ['demo:3001'] })
    expect(renderEnforcement(data)).toMatch(/Flag changes\s+2 refused \(24 h\); the latest change was REFUSED on demo:3001: running on the last good flags/)
    expect(renderEnforcement(data)).toContain('not shown with --at')
    // now (no --at): the alerts Prometheus evaluates; the rule file's alerts fire at its first evaluation
    await expect.poll(async () => (await runCli(['status', '--prometheus', prom.url])).stdout, { timeout: 60_000, interval: 250 }).toMatch(/Firing alerts\s+TenantViolationSpike \(warning, phase 1\)\n/)
  })

  it('status says "no history" instead of comparing with nothing, and prints only the thresholds of the phase the app is in', async () => {
    const short = { ...config, app: { ...config.app, job: HISTORIES.twoHoursNoisy.job } }
    const data = await collectFromPrometheus(new PrometheusClient(new URL(prom.url), HISTORY_AT), 'Prometheus', short)
    expect(data).toMatchObject({ total: 120, historyHours: 2 })
    expect(data.previousTotal).toBeUndefined()
    const text = renderStatus(data)
    expect(text).toContain('Total 120   no history: the app has reported for 2 h, no trend before 48 h')
    expect(text).not.toContain('vs the 24 h before')
    expect(text).not.toContain('before)')
    // log only runs neither TenantEnforcementErrors nor the rollback: no thresholds of theirs
    expect(data.thresholds).toEqual({ phase: 1, rollbackCommand: expect.arrayContaining(['TENANT_ENFORCEMENT_MODE=log_only']) })
    expect(text).toMatch(/Error rate \(1 h\)\s+0\.000 %  \(0 blocked \/ 1,200 requests; phase 1 has no error-rate alert\)/)
  })

  describe('evidence: short, mixed-mode and foreign histories (one job each, evaluated at their end)', () => {
    const jobConfig = (job: string) => ({ ...config, app: { ...config.app, job } })
    const history = async (phase: number, job: string) => {
      const g = await evaluateGate(jobConfig(job), config.phases[phase]!, new PrometheusClient(new URL(prom.url), HISTORY_AT))
      return { g, passed: g.passed, verdicts: g.results.map((r) => `${r.criterion.kind}:${r.verdict}:${r.value === undefined ? '-' : Number(r.value.toPrecision(4))}`) }
    }

    it('40 minutes of log_only with 99 CRITICAL violations: phase 3 has no evidence, phase 1 fails on them', async () => {
      const three = await history(3, HISTORIES.shortLogOnly.job)
      expect(three.verdicts).toEqual(['errorRate:NO DATA:-', 'bypassesPerDay:NO DATA:-', 'checkP95Ms:NO DATA:-'])
      expect(three.passed).toBe(false)
      const text = renderGate(three.g)
      expect(text).toContain('job short-log-only reports mode log_only now, not enforce')
      expect(text).not.toContain('criteria hold')
      // the 3 events before the first scrape count too (increase() alone reads 96); 99 in 40 minutes is 148.5 an hour
      const one = await history(1, HISTORIES.shortLogOnly.job)
      expect(one.verdicts).toEqual(['criticalViolations:FAIL:99', 'violationsPerHour:FAIL:148.5', 'checkP95Ms:NO DATA:0.0975'])
      expect(renderGate(one.g)).toMatch(/148\.5 violations\/h\s+below 10 violations\/h\s+over 40m of 24h/)
      expect(renderGate(one.g)).toContain('the data covers 40m of the 24h window: too short to pass')
    })

    it('2 hours at 60 violations an hour reads 60 an hour (not diluted over 24 h) and fails phase 1', async () => {
      const one = await history(1, HISTORIES.twoHoursNoisy.job)
      expect(one.verdicts).toEqual(['criticalViolations:NO DATA:0', 'violationsPerHour:FAIL:60', 'checkP95Ms:NO DATA:0.0975'])
      expect(one.passed).toBe(false)
    })

    it('20 h of log_only then 4 h of enforce: phase 3 judges the 4 h only (the 100 bypasses of log_only are not its)', async () => {
      const three = await history(3, HISTORIES.mixed.job)
      expect(three.verdicts).toEqual(['errorRate:NO DATA:0', 'bypassesPerDay:NO DATA:0', 'checkP95Ms:NO DATA:0.0975'])
      expect(three.g.results.map((r) => r.measuredOver)).toEqual(['4h', '4h', '4h'])
      expect((await history(1, HISTORIES.mixed.job)).verdicts).toEqual(['criticalViolations:NO DATA:-', 'violationsPerHour:NO DATA:-', 'checkP95Ms:NO DATA:-'])
    })

    it('another job\'s data only: phase check 0 exits 1 with NO DATA and says what is missing', async () => {
      const res = await runCli(['phase', 'check', '0', '--prometheus', prom.url, '--at', String(HISTORY_AT)])
      expect(res.code).toBe(1)
      expect(res.stdout).toContain('NO DATA No query was blocked')
      expect(res.stdout).toContain('no series of job tenantfence-demo reports a mode now')
      expect(res.stdout).toContain('2 of 2 criteria do not hold')
    })
  })
})
