// status --metrics: one scrape of a /metrics endpoint served by prom-client (the real
// exposition format), totals since the process started.
import { createServer, type Server } from 'node:http'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bucketQuantile, parseMetricsText } from '../src/ops/metrics-text.ts'
import { paletteFor, PLAIN, ANSI, renderEnforcement } from '../src/ops/status/render.ts'
import config from '../tenantfence.config.ts'
import { PrometheusClient, type Sample } from '../src/ops/prometheus-client.ts'
import { collectFromPrometheus, collectFromSamples } from '../src/ops/status/collect.ts'
import { CHECK_DURATION_BUCKETS, METRIC } from '../src/telemetry/metric-names.ts'
import { runCli } from './fixtures/ops/run-cli.ts'

let server: Server
let base: string
let body = ''

async function appMetrics(): Promise<string> {
  const registry = new Registry()
  const violations = new Counter({ name: METRIC.violations, help: 'v', labelNames: ['model', 'severity', 'violation', 'decision'], registers: [registry] })
  violations.inc({ model: 'User', severity: 'CRITICAL', violation: 'missing_tenant_id', decision: 'logged' }, 30)
  violations.inc({ model: 'User', severity: 'CRITICAL', violation: 'tenant_mismatch', decision: 'logged' }, 12)
  violations.inc({ model: 'Role', severity: 'HIGH', violation: 'missing_tenant_id', decision: 'logged' }, 7)
  violations.inc({ model: 'RolePermission', severity: 'MEDIUM', violation: 'missing_relation_filter', decision: 'logged' }, 1)
  const errors = new Counter({ name: METRIC.enforcementErrors, help: 'e', labelNames: ['model', 'endpoint'], registers: [registry] })
  errors.inc({ model: 'User', endpoint: '/api/admin/users' }, 3)
  errors.inc({ model: 'AuditLog', endpoint: 'unknown' }, 5) // a job: not a request
  new Counter({ name: METRIC.bypassUsage, help: 'b', labelNames: ['reason'], registers: [registry] }).inc({ reason: 'nightly_cleanup' }, 2)
  const http = new Counter({ name: METRIC.httpRequests, help: 'h', labelNames: ['method', 'route', 'status'], registers: [registry] })
  http.inc({ method: 'GET', route: '/api/users', status: '200' }, 1500)
  http.inc({ method: 'GET', route: '/healthz', status: '200' }, 100_000) // probes: not users

  const mode = new Gauge({ name: METRIC.mode, help: 'm', labelNames: ['mode'], registers: [registry] })
  for (const m of ['disabled', 'log_only', 'selective', 'enforce', 'hardened']) mode.set({ mode: m }, m === 'log_only' ? 1 : 0)
  const policy = new Gauge({ name: METRIC.modelPolicy, help: 'p', labelNames: ['model', 'severity', 'policy'], registers: [registry] })
  for (const model of ['User', 'Role', 'RolePermission']) {
    for (const p of ['off', 'log', 'block']) policy.set({ model, severity: 'HIGH', policy: p }, p === 'log' ? 1 : 0)
  }
  const h = new Histogram({ name: METRIC.checkDuration, help: 'd', buckets: CHECK_DURATION_BUCKETS, registers: [registry] })
  for (let i = 0; i < 100; i++) h.observe(i < 90 ? 0.000008 : 0.00004)
  return registry.metrics()
}

beforeAll(async () => {
  body = await appMetrics()
  server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      res.end(body)
    } else if (req.url === '/empty') {
      res.end('# nothing here\nprocess_cpu_seconds_total 1\n')
    } else {
      res.writeHead(404).end('not found')
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('status --metrics', () => {
  it('prints both dashboards from one scrape, saying the numbers are totals since start', async () => {
    const res = await runCli(['status', '--metrics', `${base}/metrics`])
    expect(res.code).toBe(0)
    expect(res.stdout).not.toContain('\u001b[') // not a TTY in tests
    expect(res.stdout.replace(base, 'http://app:3000')).toMatchSnapshot()
    expect(res.stdout).toContain('CRITICAL: 42 | HIGH: 7 | MEDIUM: 1')
    // 3 blocked requests of 1 500 users' requests: the probes and the job's 5 are not in it
    expect(res.stdout).toContain('0.200 %  (3 blocked / 1,500 requests')
    // the app is in log only (phase 1), which has no error-rate alert: no thresholds that are not its own
    expect(res.stdout).toContain('phase 1 has no error-rate alert')
    expect(res.stdout).not.toMatch(/alert above|rollback above/)
  })

  it('appends /metrics to a bare base URL', async () => {
    const res = await runCli(['status', '--metrics', base])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('Total 50')
  })

  it('says so when the endpoint has no tenant metrics or is missing', async () => {
    const empty = await runCli(['status', '--metrics', `${base}/empty`])
    expect([empty.code, empty.stderr]).toEqual([1, `tenantfence status: ${base}/empty serves no tenant_* metric; is this the app's /metrics with the tenantfence registry?\n`])
    const missing = await runCli(['status', '--metrics', `${base}/nope`])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('answered HTTP 404')
  })
})

/**
 * A Prometheus that knows only the mode gauge of the app's instances (every other query: no
 * data), at a fixed time (so no /api/v1/alerts call). It answers the two mode queries status
 * makes the way Prometheus would from `tenant_enforcement_mode{job, instance, mode}`.
 */
class FleetPrometheus extends PrometheusClient {
  constructor(private readonly modes: Record<string, string>) {
    super(new URL('http://prometheus.invalid:9090'), 1_700_000_000)
  }
  override async query(promql: string): Promise<Sample[]> {
    const selector = `tenant_enforcement_mode{job="${config.app.job}"}`
    if (promql === `max by (instance, mode) (${selector} == 1)`) return Object.entries(this.modes).map(([instance, mode]) => ({ metric: { instance, mode }, value: 1 }))
    if (promql === `max by (mode) (${selector})`) return [...new Set(Object.values(this.modes))].map((mode) => ({ metric: { mode }, value: 1 }))
    return []
  }
}

const modeLine = async (modes: Record<string, string>) => {
  const d = await collectFromPrometheus(new FleetPrometheus(modes), 'http://prometheus:9090', config)
  return { d, line: renderEnforcement(d).split('\n').find((l) => l.trim().startsWith('Mode'))!.replace(/^\s*Mode\s+/, '') }
}

describe('status of a fleet (Prometheus: instances by mode)', () => {
  it('a mixed fleet says how many instances are in the mode most report, and names the others with their mode', async () => {
    const { d, line } = await modeLine({ 'demo-1:3001': 'enforce', 'demo-3:3001': 'log_only', 'demo-2:3001': 'enforce' })
    expect(line).toBe('2 of 3 instances in enforce; demo-3:3001 in log_only (mixed fleet: a flag change on its way, or not applied; TenantFleetModeMismatch fires if it lasts)')
    // judged against the thresholds of the mode most instances report
    expect([d.mode, d.thresholds.phase]).toEqual(['enforce', 3])
  })

  it('names every other instance, grouped by mode, and cuts a long list', async () => {
    const { line } = await modeLine({ a: 'selective', b: 'log_only', c: 'enforce', d: 'enforce', e: 'log_only' })
    expect(line).toMatch(/^2 of 5 instances in enforce; b in log_only, e in log_only, a in selective \(mixed fleet/)
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`pod-${String(i).padStart(2, '0')}`, i < 18 ? 'enforce' : 'log_only']))
    expect((await modeLine(many)).line).toMatch(/^18 of 30 instances in enforce; pod-18 in log_only, .*pod-27 in log_only, and 2 more \(mixed/)
  })

  it('a fleet that agrees, and a single instance, are one plain line', async () => {
    expect((await modeLine({ 'demo-1:3001': 'enforce', 'demo-2:3001': 'enforce', 'demo-3:3001': 'enforce' })).line).toBe('enforce')
    expect((await modeLine({ 'demo-1:3001': 'log_only' })).line).toBe('log_only')
  })

  it('one scrape (--metrics) is one instance: nothing about a fleet', () => {
    const d = collectFromSamples([{ name: METRIC.mode, labels: { mode: 'enforce' }, value: 1 }], 'http://app:3000/metrics', config)
    expect(d.fleet).toBeUndefined()
    expect(renderEnforcement(d)).toMatch(/\n {2}Mode +enforce\n/)
  })
})

describe('exposition parsing', () => {
  it('parses labels with escapes, special values and timestamps', () => {
    const s = parseMetricsText('# HELP x y\nx{a="q\\"uote",b="new\\nline"} 1.5 1700000000000\ny NaN\nz{le="+Inf"} +Inf\n')
    expect(s).toEqual([
      { name: 'x', labels: { a: 'q"uote', b: 'new\nline' }, value: 1.5 },
      { name: 'y', labels: {}, value: NaN },
      { name: 'z', labels: { le: '+Inf' }, value: Infinity },
    ])
    expect(() => parseMetricsText('ok 1\nbad{a=1} 2')).toThrow(/line 2/)
  })

  it('interpolates a quantile within a bucket like histogram_quantile', () => {
    const b = [
      { le: 0.1, count: 50 },
      { le: 0.2, count: 100 },
      { le: Infinity, count: 100 },
    ]
    expect(bucketQuantile(0.95, b)).toBeCloseTo(0.19)
    expect(bucketQuantile(0.5, b)).toBeCloseTo(0.1)
    expect(bucketQuantile(0.95, [{ le: Infinity, count: 0 }])).toBeUndefined()
  })

  it('colours only for a TTY without NO_COLOR', () => {
    expect(paletteFor({ isTTY: true }, {})).toBe(ANSI)
    expect(paletteFor({ isTTY: true }, { NO_COLOR: '1' })).toBe(PLAIN)
    expect(paletteFor({ isTTY: false }, {})).toBe(PLAIN)
  })
})
