// End to end on a real Prometheus: the demo API (src/demo/serve.ts) runs in this process under
// traffic (src/demo/traffic.ts); Prometheus scrapes it with the project's prometheus.yml (target
// pointed at this test's port, 1 s intervals) and every phase's generated rule file, generated
// from the project's config with `for: 0s` and a low spike threshold so the alerts fire within
// seconds. The flags change live in process.env, as a rollout changes them, and the alert state
// is read back through Prometheus's HTTP API after each change: the phase the app reports is the
// only one whose alerts fire.
//
// The project's real rule files (thresholds and `for` of tenantfence.config.ts) are checked by
// promtool in stack-config.test.ts; here they are compared alert by alert with the ones loaded.
//
// Waits are on Prometheus (discovery takes 5-6 s, then 1 s scrapes and evaluations): generous
// deadlines for a busy machine, no assertion on how long anything took.
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml, stringify as toYaml } from 'yaml'
import config from '../tenantfence.config.ts'
import { FLAG_NAMES } from '../src/config/flags.ts'
import { startDemoServer, type DemoServer } from '../src/demo/serve.ts'
import { runTraffic, type TrafficResult } from '../src/demo/traffic.ts'
import { protectedModels, stringifyFlags } from '../src/config/define.ts'
import { METRIC } from '../src/telemetry/metric-names.ts'
import { runCli } from './helpers/cli.ts'
import { requirePrometheus, requirePromtool, startPrometheus, type PrometheusServer } from './helpers/prometheus.ts'
import { promtool } from './helpers/promtool.ts'
import { tempDir } from './helpers/tmp.ts'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const JOB = config.app.job!
/** Each wait for Prometheus to see a change: seconds idle, far more while the machine is busy. */
const POLL = { timeout: 60_000, interval: 250 }

/** The project's config with every alert's `for` at 0s and a spike threshold the test traffic crosses. */
const E2E_THRESHOLDS = {
  metricsMissingFor: '0s',
  violationSpikePerMinute: 1,
  violationSpikeFor: '0s',
  violationSummaryFor: '0s',
  // the daily summary's time of day: now (UTC), so its once-a-day window (15 minutes) is open while the test runs
  violationSummaryAt: new Date().toISOString().slice(11, 16),
  errorRateFor: '0s',
  errorRateRollbackFor: '0s',
  bypassFor: '0s',
  checkLatencyFor: '0s',
  criticalViolationFor: '0s',
}

let work: string
let server: DemoServer | undefined
let prom: PrometheusServer | undefined
let traffic: Promise<TrafficResult> | undefined
const stopTraffic = new AbortController()
const savedEnv = Object.fromEntries(FLAG_NAMES.map((f) => [f, process.env[f]]))

// ── helpers ───────────────────────────────────────────────────────────────────────────────────
/** HTTP requests the demo API has answered so far (its own counter, read in this process). */
async function requestsAnswered(): Promise<number> {
  const metric = server!.demo.registry.getSingleMetric(METRIC.httpRequests)
  return metric ? (await metric.get()).values.reduce((sum, v) => sum + v.value, 0) : 0
}
/** Requests answered when each flag change was made: the traffic must flow in every phase. */
const changes: { to: string; requests: Promise<number> }[] = []

/** Switch the running app to phase n's flags, exactly: flags of an earlier phase are removed. */
function setPhaseFlags(n: number): void {
  for (const f of FLAG_NAMES) delete process.env[f]
  Object.assign(process.env, stringifyFlags(config.phases.find((p) => p.phase === n)!.flags))
  if (server) changes.push({ to: `phase ${n}`, requests: requestsAnswered() })
}

/** The config's instant rollback (MODE=log_only only), on top of the current flags. */
function applyRollbackFlags(): void {
  Object.assign(process.env, stringifyFlags(config.rollback.flags))
  changes.push({ to: 'rollback', requests: requestsAnswered() })
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${prom!.url}${path}`, { signal: AbortSignal.timeout(POLL.timeout) })
  const body = (await res.json()) as { status: string; data: T; error?: string }
  if (body.status !== 'success') throw new Error(`${path}: ${body.error}`)
  return body.data
}

type Labels = Record<string, string>
async function query(promql: string): Promise<{ metric: Labels; value: [number, string] }[]> {
  const data = await api<{ result: { metric: Labels; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`)
  return data.result
}

interface Alert {
  labels: Labels
  annotations: Labels
  state: 'pending' | 'firing'
}
async function firing(): Promise<Alert[]> {
  const { alerts } = await api<{ alerts: Alert[] }>('/api/v1/alerts')
  return alerts.filter((a) => a.state === 'firing')
}
/** `AlertName/phase` of every firing alert, sorted and deduplicated. */
async function firingKeys(): Promise<string[]> {
  return [...new Set((await firing()).map((a) => `${a.labels.alertname}/${a.labels.phase}`))].sort()
}
async function firingPhases(): Promise<string[]> {
  return [...new Set((await firing()).map((a) => a.labels.phase!))].sort()
}
const alertsOf = (n: number) => config.phases.find((p) => p.phase === n)!.alerts as readonly string[]

async function modeReported(): Promise<string | undefined> {
  return (await query(`${METRIC.mode}{job="${JOB}"} == 1`))[0]?.metric.mode
}

/** The alerts of phase n that the traffic must make fire: all of them in that phase's list, and firing with phase="n". */
async function expectPhaseAlerts(n: number, names: string[]): Promise<void> {
  for (const name of names) expect(alertsOf(n), `${name} is not an alert of phase ${n}`).toContain(name)
  await expect.poll(firingKeys, POLL).toEqual(expect.arrayContaining(names.map((a) => `${a}/${n}`)))
  // every other phase's alerts go silent: the rule files of all phases are loaded, the mode picks
  await expect.poll(firingPhases, POLL).toEqual([String(n)])
  for (const a of await firing()) {
    expect(alertsOf(n)).toContain(a.labels.alertname)
    expect(['critical', 'warning', 'info']).toContain(a.labels.severity)
    expect(a.annotations.summary).toBeTruthy()
    expect(a.annotations.description).toBeTruthy()
    expect(a.annotations.runbook_url).toContain(`${config.app.runbookBaseUrl}/phase-${n}-`)
    expect(a.annotations.runbook_url).toContain(`#${a.labels.alertname!.toLowerCase()}`)
  }
}

// ── the stack ─────────────────────────────────────────────────────────────────────────────────
beforeAll(async () => {
  requirePromtool()
  requirePrometheus()
  work = tempDir('tf-stack-e2e-')

  // Rule files from the project's config with `for: 0s`, through the generator's CLI (in-process):
  // what the project's config writes (its phases are the defaults), with the test's thresholds over every phase
  const { app, tenant, models, globalModels, bypass } = config
  const testConfig = { app, tenant, models, globalModels, bypass, thresholds: E2E_THRESHOLDS }
  await writeFile(join(work, 'tenantfence.config.json'), JSON.stringify(testConfig, null, 2))
  const gen = await runCli(['generate', '--config', join(work, 'tenantfence.config.json'), '--out', work])
  expect(gen.code, gen.stderr).toBe(0)

  setPhaseFlags(1)
  server = await startDemoServer({ port: 0, metricsPort: 0, host: '127.0.0.1', env: { NIGHTLY_CLEANUP_SECONDS: '0' }, logger: pino({ level: 'silent' }) })
  changes.push({ to: 'phase 1', requests: Promise.resolve(0) })
  // Bounded by the abort in the last test (or afterAll); the duration is only a backstop. The
  // request timeout is far above what a busy machine needs: a request given up on is a failure.
  traffic = runTraffic({ url: server.url, rps: 40, durationMs: 600_000, timeoutMs: 120_000, signal: stopTraffic.signal, mix: { auditExport: 0.5 } })

  // The project's prometheus.yml, with the demo target at this test's port, 1 s intervals and
  // the generated rule files by absolute path (the helper writes the config to its own dir).
  const projectConfig = parseYaml(await readFile(join(REPO, 'prometheus/prometheus.yml'), 'utf8')) as {
    global: Record<string, string>
    rule_files: string[]
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]
  }
  const demoJob = projectConfig.scrape_configs.find((j) => j.job_name === JOB)
  expect(demoJob, `prometheus/prometheus.yml has no scrape job ${JOB}`).toBeDefined()
  const e2eConfig = {
    ...projectConfig,
    global: { ...projectConfig.global, scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [join(work, 'alerts', '*.rules.yml')],
    scrape_configs: [{ ...demoJob!, static_configs: [{ targets: [`127.0.0.1:${server.metricsPort}`] }] }],
  }
  const configYaml = toYaml(e2eConfig)
  await writeFile(join(work, 'prometheus.yml'), configYaml)
  const check = await promtool(['check', 'config', join(work, 'prometheus.yml')])
  expect(check.status, check.output).toBe(0)
  prom = await startPrometheus({ configYaml })
})

afterAll(async () => {
  // each step runs even when an earlier one failed
  const steps: (() => Promise<unknown>)[] = [
    async () => {
      stopTraffic.abort()
      await traffic
    },
    async () => prom?.stop(),
    async () => server?.close(),
    async () => {
      for (const f of FLAG_NAMES) {
        if (savedEnv[f] === undefined) delete process.env[f]
        else process.env[f] = savedEnv[f]
      }
    },
  ]
  const errors: unknown[] = []
  for (const s of steps) await s().catch((e: unknown) => errors.push(e))
  if (errors.length) throw errors[0]
})

// Each test waits on Prometheus up to a few times POLL.timeout.
describe('stack end to end: demo API → real Prometheus → alerts', { timeout: 4 * POLL.timeout }, () => {
  it('loads the same alerts per phase as the project\'s rule files, only thresholds and `for` differ', async () => {
    const names = async (dir: string) => {
      const out: Record<string, string[]> = {}
      for (const f of (await readdir(dir)).filter((x) => x.endsWith('.rules.yml')).sort()) {
        const doc = parseYaml(await readFile(join(dir, f), 'utf8')) as { groups: { rules: { alert: string }[] }[] }
        out[f] = doc.groups.flatMap((g) => g.rules.map((r) => r.alert))
      }
      return out
    }
    const loaded = await names(join(work, 'alerts'))
    expect(loaded).toEqual(await names(join(REPO, 'alerts')))
    expect(Object.keys(loaded)).toHaveLength(config.phases.length + 1) // and the silence alerts
  })

  it('scrapes the demo API as up, under the job every alert selects', async () => {
    await expect
      .poll(async () => {
        const { activeTargets } = await api<{ activeTargets: { labels: Labels; health: string; lastError: string }[] }>('/api/v1/targets')
        return activeTargets.filter((t) => t.labels.job === JOB).map((t) => t.health)
      }, POLL)
      .toEqual(['up'])
    await expect.poll(modeReported, POLL).toBe('log_only')
  })

  it('phase 1 (log only): violation series arrive with model, severity, violation and decision', async () => {
    const series = async () => (await query(`${METRIC.violations}{job="${JOB}"}`)).map((r) => r.metric)
    const pick = (l: Labels) => ({ model: l.model, severity: l.severity, violation: l.violation, decision: l.decision })
    await expect
      .poll(async () => (await series()).map(pick), POLL)
      .toEqual(
        expect.arrayContaining([
          { model: 'User', severity: 'CRITICAL', violation: 'missing_tenant_id', decision: 'logged' },
          { model: 'RefreshToken', severity: 'CRITICAL', violation: 'missing_relation_filter', decision: 'logged' },
          { model: 'PasswordResetToken', severity: 'CRITICAL', violation: 'missing_relation_filter', decision: 'logged' },
          { model: 'Role', severity: 'HIGH', violation: 'missing_tenant_id', decision: 'logged' },
          { model: 'UserRole', severity: 'HIGH', violation: 'missing_relation_filter', decision: 'logged' },
          { model: 'RolePermission', severity: 'MEDIUM', violation: 'missing_relation_filter', decision: 'logged' },
        ]),
      )
    // every series exists from start-up (at 0), each with its model's severity
    const severities = new Map([...protectedModels(config).map((m) => [m.name, m.severity] as const), ['$raw', config.rawQueries.severity] as const])
    for (const l of await series()) {
      expect(l.severity, `${l.model}`).toBe(severities.get(l.model!))
      expect(l.instance).toBe(`127.0.0.1:${server!.metricsPort}`)
    }
    // nothing is blocked while logging only
    const value = async (q: string) => (await query(q)).map((r) => Number(r.value[1]))
    expect(await value(`sum(${METRIC.enforcementErrors}{job="${JOB}"})`)).toEqual([0])
    expect(await value(`sum(${METRIC.violations}{job="${JOB}", decision="blocked"})`)).toEqual([0])
  })

  it('phase 1 (log only): TenantViolationSummary and TenantViolationSpike fire, no other phase\'s alert does', async () => {
    await expectPhaseAlerts(1, ['TenantViolationSummary', 'TenantViolationSpike'])
    // CRITICAL violations are happening, but TenantCriticalModelViolation belongs to phase 2
    expect(await firingKeys()).not.toContain('TenantCriticalModelViolation/2')
  })

  it('phase 2 (selective), flags changed live: CRITICAL models blocked, the others logged; phase 2 alerts take over', async () => {
    setPhaseFlags(2)
    await expect.poll(modeReported, POLL).toBe('selective')
    await expectPhaseAlerts(2, ['TenantViolationSpike', 'TenantEnforcementErrors', 'TenantEnforcementRollback'])
    // CRITICAL queries are blocked by design in phase 2: not a CRITICAL violation let through
    expect(await firingKeys()).not.toContain('TenantCriticalModelViolation/2')
    const decisions = async () => (await query(`sum by (model, decision) (${METRIC.violations}{job="${JOB}", decision="blocked"}) > 0`)).map((r) => r.metric.model).sort()
    await expect.poll(decisions, POLL).toEqual(expect.arrayContaining(['User', 'RefreshToken', 'PasswordResetToken']))
    expect(await decisions()).not.toContain('Role')
  })

  it('phase 3 (enforce): TenantEnforcementErrors and TenantEnforcementRollback fire; phases 1 and 2 are silent', async () => {
    setPhaseFlags(3)
    await expect.poll(modeReported, POLL).toBe('enforce')
    await expectPhaseAlerts(3, ['TenantEnforcementErrors', 'TenantEnforcementRollback'])
    // blocked queries are counted by model and route template, never a raw path
    const blockedSeries = async () => (await query(`sum by (model, endpoint) (${METRIC.enforcementErrors}{job="${JOB}"})`)).map((r) => r.metric)
    await expect.poll(async () => (await blockedSeries()).map((l) => l.model), POLL).toEqual(expect.arrayContaining(['Role', 'UserRole', 'RolePermission']))
    await expect.poll(async () => (await blockedSeries()).map((l) => l.endpoint).join(' '), POLL).toContain('/api/password-resets/:id')
    for (const l of await blockedSeries()) expect(l.endpoint).not.toMatch(/\/\d+(\/|$)/)
  })

  it('phase 3: every Prometheus query of the dashboards runs on this Prometheus, and the traffic panels have data', async () => {
    // Grafana's $__rate_interval: 4 scrape intervals (1 s here); the job and instance variables: this job, every instance
    const grafana = (expr: string) => expr.replaceAll('$__rate_interval', '4s').replaceAll('$job', JOB).replaceAll('$instance', '.*')
    const targets: { dashboard: string; panel: string; expr: string }[] = []
    for (const f of (await readdir(join(REPO, 'dashboards'))).filter((x) => x.endsWith('.json'))) {
      const d = JSON.parse(await readFile(join(REPO, 'dashboards', f), 'utf8')) as { panels: { title: string; targets?: { expr?: string; datasource?: { type?: string } }[] }[] }
      for (const p of d.panels) for (const t of p.targets ?? []) if (t.datasource?.type === 'prometheus' && t.expr) targets.push({ dashboard: f, panel: p.title, expr: grafana(t.expr) })
    }
    expect(targets.length).toBeGreaterThan(10)
    // panels that the demo's traffic fills in enforce (bypasses, refused flags and logged models stay empty)
    const filled = [
      'Violations logged / blocked (last 24 h)',
      'Violations by severity (last 24 h)',
      'Violations by model (last 24 h)',
      'Violations per hour by model, logged and blocked',
      'Current mode',
      'Models enforced / logged',
      'Blocked queries (last 1 h)',
      'Bypasses (last 1 h)',
      'Blocked requests as a share of users\' requests',
      'Check cost p95 and p99',
      'Blocked queries per hour by model',
      'Blocked queries per hour by endpoint ("unknown": outside a request)',
      'Refused flag values (last 24 h)',
      'Instances reporting a mode',
    ]
    for (const title of filled) expect(targets.map((t) => t.panel), title).toContain(title)
    const empty = async () => {
      const out: string[] = []
      for (const t of targets) if ((await query(t.expr)).length === 0 && filled.includes(t.panel)) out.push(`${t.dashboard} / ${t.panel}: ${t.expr}`)
      return out
    }
    await expect.poll(empty, POLL).toEqual([])
    const mode = targets.find((t) => t.panel === 'Current mode')!
    await expect.poll(async () => (await query(mode.expr)).map((r) => r.metric.mode), POLL).toEqual(['enforce'])
  })

  it('rollback (MODE=log_only only, no restart): the enforcement alerts stop and phase 1 alerts fire again', async () => {
    applyRollbackFlags()
    await expect.poll(modeReported, POLL).toBe('log_only')
    await expectPhaseAlerts(1, ['TenantViolationSummary', 'TenantViolationSpike'])
    const keys = await firingKeys()
    expect(keys).not.toContain('TenantEnforcementErrors/3')
    expect(keys).not.toContain('TenantEnforcementRollback/3')
  })

  it('phase 0 (disabled): no alert fires', async () => {
    setPhaseFlags(0)
    await expect.poll(modeReported, POLL).toBe('disabled')
    await expect.poll(firingKeys, POLL).toEqual([])
  })

  it('phase 4 (hardened client): flags ignored, the phase 4 enforcement alerts fire', async () => {
    setPhaseFlags(4)
    server!.demo.harden()
    await expect.poll(modeReported, POLL).toBe('hardened')
    await expectPhaseAlerts(4, ['TenantEnforcementErrors', 'TenantEnforcementRollback'])
    // a hardened app ignores the flags: a rollback by flag changes nothing. Every scrape made well
    // after the change (2 s of traffic at 40 req/s read the new flags before it) reports hardened.
    // Read as samples with their timestamps: a scrape that timed out on a busy machine leaves a gap,
    // not a wrong answer.
    const changedAt = Date.now() / 1000
    applyRollbackFlags()
    const modesScrapedAfter = async (t: number) => {
      const selector = encodeURIComponent(`${METRIC.mode}{job="${JOB}"}[2m]`)
      const range = await api<{ result: { metric: Labels; values: [number, string][] }[] }>(`/api/v1/query?query=${selector}`)
      const reported = range.result.filter((r) => r.values.some(([ts, v]) => ts > t && v === '1'))
      return [...new Set(reported.map((r) => r.metric.mode))]
    }
    await expect.poll(() => modesScrapedAfter(changedAt + 2), POLL).toEqual(['hardened'])
    await expect.poll(firingPhases, POLL).toEqual(['4'])
  })

  it('the traffic kept flowing through every phase', async () => {
    const end = await requestsAnswered()
    stopTraffic.abort()
    const result = await traffic!
    // requests answered between one flag change and the next: none of them may be empty
    const marks = await Promise.all(changes.map(async (c) => ({ to: c.to, requests: await c.requests })))
    const during = marks.map((m, i) => `${m.to}: ${(marks[i + 1]?.requests ?? end) - m.requests > 0 ? 'traffic' : 'none'}`)
    expect(during).toEqual(marks.map((m) => `${m.to}: traffic`))
    expect(marks.map((m) => m.to)).toEqual(['phase 1', 'phase 2', 'phase 3', 'rollback', 'phase 0', 'phase 4', 'rollback'])
    expect(result.sent).toBeGreaterThan(0)
    expect(result.failed).toBe(0)
    expect(result.byStatus['403'] ?? 0).toBeGreaterThan(0)
  })

  it('the app goes away (target down): every phase alert goes quiet, the silence alerts say so', async () => {
    await server!.close()
    server = undefined
    await expect.poll(firingKeys, POLL).toEqual(['TenantInstanceNotReporting/undefined', 'TenantMetricsMissing/undefined'])
    const missing = (await firing()).find((a) => a.labels.alertname === 'TenantMetricsMissing')!
    expect(missing.labels).toMatchObject({ severity: 'critical', job: JOB })
    expect(missing.annotations.runbook_url).toBe(`${config.app.runbookBaseUrl}/metrics-missing.md#tenantmetricsmissing`)
  })
})
