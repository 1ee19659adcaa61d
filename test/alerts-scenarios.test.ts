// Hand-written promtool scenarios against the committed rule files: each one is a way the
// first round's rules misled an on-call engineer (issue 11), written as the series a real app
// exports, so a rule that regresses fails here. promtool is required (the test fails without it).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse as parseYaml, stringify } from 'yaml'
import config from '../tenantfence.config.ts'
import { defineConfig } from '../src/config/define.ts'
import { durationSeconds } from '../src/config/schema.ts'
import { generateFiles } from '../src/generate/files.ts'
import { promtool, REPO } from './fixtures/generate/helpers.ts'

const JOB = config.app.job!
const work = mkdtempSync(join(tmpdir(), 'tenantfence-scenarios-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

type Labels = Record<string, string>
const series = (metric: string, labels: Labels, values: string) => ({
  series: `${metric}{${Object.entries({ job: JOB, ...labels }).map(([k, v]) => `${k}="${v}"`).join(', ')}}`,
  values,
})
const mode = (m: string, values: string, labels: Labels = {}) => series('tenant_enforcement_mode', { mode: m, ...labels }, values)
/** The app reports `m` from minute 0 to `last`. */
const inMode = (m: string, last: number) => [mode(m, `1x${last}`), mode(m === 'log_only' ? 'selective' : 'log_only', `0x${last}`)]
const errors = (model: string, endpoint: string, values: string) => series('tenant_enforcement_errors_total', { model, endpoint }, values)
const requests = (route: string, values: string) => series('http_requests_total', { method: 'GET', route, status: '200' }, values)
const violations = (model: string, severity: string, decision: string, values: string) => series('tenant_violations_total', { model, severity, violation: 'missing_tenant_id', decision }, values)

interface Check {
  at: number
  alert: string
  /** labels of each expected alert (beyond severity, phase and job, which are checked by the generated tests) */
  firing: Labels[]
}

/** Run one scenario through promtool against rule files; returns promtool's output when it fails. */
function scenario(ruleFiles: string[], name: string, input: { series: string; values: string }[], checks: Check[], labelsOf: (alert: string) => Labels): { status: number; output: string } {
  const file = join(work, `${name.replace(/[^a-z0-9]+/gi, '-')}.test.yml`)
  const doc = {
    rule_files: ruleFiles,
    evaluation_interval: '1m',
    tests: [
      {
        name,
        interval: '1m',
        input_series: input,
        alert_rule_test: checks.map((c) => ({ eval_time: `${c.at}m`, alertname: c.alert, exp_alerts: c.firing.map((l) => ({ exp_labels: { ...labelsOf(c.alert), ...l } })) })),
      },
    ],
  }
  writeFileSync(file, stringify(doc, { lineWidth: 0 }))
  return promtool(['test', 'rules', file])
}

/**
 * Copies of rule files without their annotations: these scenarios check when and with which
 * labels an alert fires (the generated unit tests check the annotations), and promtool
 * compares annotations whenever an alert is expected.
 */
function withoutAnnotations(path: string, content: string): string {
  const doc = parseYaml(content) as { groups: { rules: Record<string, unknown>[] }[] }
  for (const g of doc.groups) for (const r of g.rules) delete r.annotations
  const file = join(work, `bare-${path.replace(/[^a-z0-9.]+/gi, '-')}`)
  writeFileSync(file, stringify(doc, { lineWidth: 0 }))
  return file
}
const demoRules = (files: string[]) => files.map((f) => withoutAnnotations(f, readFileSync(join(REPO, 'alerts', f), 'utf8')))
const PHASE_FILES = ['phase-0-deploy-disabled.rules.yml', 'phase-1-log-only.rules.yml', 'phase-2-selective-enforcement.rules.yml', 'phase-3-full-enforcement.rules.yml', 'phase-4-hardened.rules.yml', 'metrics-missing.rules.yml']
const severityOf = (alert: string, phase: number) => config.phases[phase]!.severities[alert as keyof (typeof config.phases)[number]['severities']]
const labels = (phase: number) => (alert: string) => ({ job: JOB, phase: String(phase), severity: severityOf(alert, phase) })

describe('alert scenarios (promtool, the committed rule files)', () => {
  const all = demoRules(PHASE_FILES)

  it('TenantFlagReloadFailed fires when an instance\'s latest flag change was refused, and resolves as soon as a later one is applied', () => {
    // flags applied at start-up (t=60 s), a change refused at minute 35, a later change applied at minute 40
    const at = (outcome: string, values: string) => series('tenant_flag_reload_timestamp_seconds', { instance: 'demo:3001', outcome }, values)
    const input = [at('applied', '60x39 2400x10'), at('refused', '_x35 2100x14'), ...inMode('disabled', 50)]
    const r = scenario(all, 'flag refused then applied', input, [
      { at: 34, alert: 'TenantFlagReloadFailed', firing: [] },
      { at: 35, alert: 'TenantFlagReloadFailed', firing: [{}] },
      { at: 39, alert: 'TenantFlagReloadFailed', firing: [{}] },
      { at: 40, alert: 'TenantFlagReloadFailed', firing: [] },
    ], labels(0))
    expect(r.status, r.output).toBe(0)
  })

  it('the first event counts: a series whose first sample is already 1 (an event before the first scrape) fires', () => {
    // a job blocked once before Prometheus first scraped the new instance: the series appears at 1
    const late = errors('AuditLog', 'unknown', '_x39 1x10')
    const r = scenario(all, 'series born at 1', [late, ...inMode('enforce', 50)], [
      { at: 38, alert: 'TenantJobQueriesBlocked', firing: [] },
      { at: 40, alert: 'TenantJobQueriesBlocked', firing: [{ model: 'AuditLog' }] },
      // it stays one event: 15 minutes after it was first seen, the alert resolves
      { at: 56, alert: 'TenantJobQueriesBlocked', firing: [] },
    ], labels(3))
    expect(r.status, r.output).toBe(0)
  })

  it('the first CRITICAL violation after a deploy fires in phase 2 when it was let through, not when it was blocked', () => {
    // User left logged by mistake (its policy gauge says log), RefreshToken blocked as phase 2 orders
    const policy = (model: string, p: string) => series('tenant_enforcement_model_policy', { model, severity: 'CRITICAL', policy: p }, '1x40')
    const input = [violations('User', 'CRITICAL', 'logged', '0x29 1x10'), violations('RefreshToken', 'CRITICAL', 'blocked', '0+5x40'), policy('User', 'log'), policy('RefreshToken', 'block'), ...inMode('selective', 40)]
    const r = scenario(all, 'first critical violation', input, [{ at: 30, alert: 'TenantCriticalModelViolation', firing: [{ model: 'User' }] }], labels(2))
    expect(r.status, r.output).toBe(0)
  })

  it('a restart (every counter back to 0) neither silences the error-rate alert nor fires the rollback', () => {
    // 0.5 % of users' requests blocked, before and after a restart at minute 30
    const input = [
      requests('/api/users/:id', '0+1000x29 0+1000x30'),
      errors('User', '/api/users/:id', '0+5x29 0+5x30'),
      errors('User', 'unknown', '0x29 0x30'),
      ...inMode('selective', 59),
    ]
    const r = scenario(all, 'restart', input, [
      { at: 29, alert: 'TenantEnforcementErrors', firing: [{}] },
      { at: 31, alert: 'TenantEnforcementErrors', firing: [{}] },
      { at: 40, alert: 'TenantEnforcementErrors', firing: [{}] },
      ...[30, 31, 32, 33, 35, 40].map((at) => ({ at, alert: 'TenantEnforcementRollback', firing: [] })),
    ], labels(2))
    expect(r.status, r.output).toBe(0)
  })

  it('probes and scrapes are not users: 2 % of users\' requests blocked fires the rollback under a flood of /healthz and /metrics', () => {
    const input = [requests('/api/users/:id', '0+100x20'), requests('/healthz', '0+10000x20'), requests('/metrics', '0+10000x20'), errors('User', '/api/users/:id', '0+2x20'), ...inMode('enforce', 20)]
    const r = scenario(all, 'probes', input, [{ at: 20, alert: 'TenantEnforcementRollback', firing: [{}] }], labels(3))
    expect(r.status, r.output).toBe(0)
  })

  it('a blocked job alerts on its own: it is not a blocked request, and with no traffic never +Inf', () => {
    for (const [name, usersPerMinute] of [['job with traffic', 100], ['job without traffic', 0]] as const) {
      // 3 blocked job queries a minute; with 100 requests a minute they would read as 3 % of requests
      const input = [errors('AuditLog', 'unknown', '0+3x30'), errors('User', '/api/users/:id', '0x30'), requests('/api/users/:id', `0+${usersPerMinute}x30`), ...inMode('enforce', 30)]
      const r = scenario(all, name, input, [
        { at: 30, alert: 'TenantEnforcementRollback', firing: [] },
        { at: 30, alert: 'TenantEnforcementErrors', firing: [] },
        { at: 30, alert: 'TenantJobQueriesBlocked', firing: [{ model: 'AuditLog' }] },
      ], labels(3))
      expect(r.status, r.output).toBe(0)
    }
  })

  it('TenantBypassUsage: 5 bypasses in an hour is the threshold, 6 is above it', () => {
    const at = 70
    const bypass = (n: number) => series('tenant_bypass_usage_total', { reason: 'nightly_cleanup' }, `0x10 ${n}x60`)
    const quiet = scenario(all, 'bypass 5', [bypass(5), ...inMode('enforce', at)], [{ at, alert: 'TenantBypassUsage', firing: [] }], labels(3))
    expect(quiet.status, quiet.output).toBe(0)
    const loud = scenario(all, 'bypass 6', [bypass(6), ...inMode('enforce', at)], [{ at: 20, alert: 'TenantBypassUsage', firing: [{}] }], labels(3))
    expect(loud.status, loud.output).toBe(0)
  })

  it('silence alerts: the app\'s target goes down, every phase alert goes quiet and TenantMetricsMissing says so', () => {
    const instance = 'demo:3001'
    const on = (s: { series: string; values: string }) => ({ ...s, series: s.series.replace(/}$/, `, instance="${instance}"}`) })
    const input = [on(mode('log_only', '1x20 stale')), on(mode('selective', '0x20 stale')), on(violations('User', 'CRITICAL', 'logged', '0+20x20 stale')), series('up', { instance }, '1x20 0x20')]
    const silence = (alert: string) => ({ job: JOB, severity: alert === 'TenantMetricsMissing' ? 'critical' : 'warning' })
    const r = scenario(all, 'target down', input, [
      { at: 20, alert: 'TenantViolationSpike', firing: [{}] },
      { at: 20, alert: 'TenantMetricsMissing', firing: [] },
      { at: 30, alert: 'TenantViolationSpike', firing: [] },
      { at: 26, alert: 'TenantMetricsMissing', firing: [{}] },
      { at: 26, alert: 'TenantInstanceNotReporting', firing: [{ instance }] },
    ], (alert) => (alert.startsWith('TenantViolation') ? labels(1)(alert) : silence(alert)))
    expect(r.status, r.output).toBe(0)
  })

  it('a rollback that misses one instance of three: one TenantFleetModeMismatch for the job after its `for`, resolved when the last one rolls back', () => {
    const forMin = Math.round(durationSeconds(config.thresholds.fleetModeMismatchFor) / 60)
    const rollbackAt = 10
    const lateAt = rollbackAt + forMin + 5
    const last = lateAt + 5
    /** an instance in enforce until `at`, in log_only from then on */
    const instance = (name: string, at: number) => [
      mode('enforce', `1x${at - 1} 0x${last - at}`, { instance: name }),
      mode('log_only', `0x${at - 1} 1x${last - at}`, { instance: name }),
    ]
    const fleet = (late: number) => [...instance('demo-1:3001', rollbackAt), ...instance('demo-2:3001', rollbackAt), ...instance('demo-3:3001', late)]
    const labelsOf = () => ({ job: JOB, severity: 'warning' })
    const missed = scenario(all, 'fleet missed one', fleet(lateAt), [
      { at: rollbackAt + forMin - 1, alert: 'TenantFleetModeMismatch', firing: [] },
      // one alert for the job, not one per instance
      { at: rollbackAt + forMin, alert: 'TenantFleetModeMismatch', firing: [{}] },
      { at: lateAt, alert: 'TenantFleetModeMismatch', firing: [] },
    ], labelsOf)
    expect(missed.status, missed.output).toBe(0)
    // the same rollback reaching the third instance a minute later is a change propagating, not an alert
    const slow = scenario(all, 'fleet one minute late', fleet(rollbackAt + 1), [{ at: rollbackAt + forMin, alert: 'TenantFleetModeMismatch', firing: [] }, { at: last, alert: 'TenantFleetModeMismatch', firing: [] }], labelsOf)
    expect(slow.status, slow.output).toBe(0)
  })

  it('one Prometheus, two apps without app.job: each alerts in its own phase, per job', () => {
    const { job: _job, ...app } = config.app
    const bare = defineConfig({ app, tenant: config.tenant, models: config.models, globalModels: config.globalModels, bypass: config.bypass })
    const files = generateFiles(bare)
      .filter((f) => f.path.endsWith('.rules.yml'))
      .map((f) => withoutAnnotations(`no-job-${f.path}`, f.content))
    const job = (j: string, s: { series: string; values: string }) => ({ ...s, series: s.series.replace(`job="${JOB}"`, `job="${j}"`) })
    const input = [
      // billing enforces and blocks 2 % of its users' requests; shop only logs, with many violations
      ...inMode('enforce', 20).map((s) => job('billing', s)),
      job('billing', requests('/invoices/:id', '0+100x20')),
      job('billing', errors('User', '/invoices/:id', '0+2x20')),
      ...inMode('log_only', 20).map((s) => job('shop', s)),
      job('shop', violations('Role', 'HIGH', 'logged', '0+30x20')),
    ]
    const byJob = (phase: number, j: string) => (alert: string) => ({ ...labels(phase)(alert), job: j })
    const enforce = scenario(files, 'two apps enforce', input, [{ at: 20, alert: 'TenantEnforcementRollback', firing: [{}] }], byJob(3, 'billing'))
    expect(enforce.status, enforce.output).toBe(0)
    const logging = scenario(files, 'two apps log', input, [{ at: 20, alert: 'TenantViolationSpike', firing: [{}] }], byJob(1, 'shop'))
    expect(logging.status, logging.output).toBe(0)
  })
})
