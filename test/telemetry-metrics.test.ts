// The check's own histogram must render exactly what prom-client's Histogram would: the
// dashboards, alerts, gate and demo read it as a Prometheus histogram.
import { Counter, Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { CHECK_DURATION_BUCKETS } from '../src/telemetry/metric-names.ts'
import { CheckDurationHistogram, enforcementMetrics } from '../src/telemetry/metrics.ts'
import { FastCounter } from '../src/telemetry/fast-counter.ts'

describe('CheckDurationHistogram', () => {
  it('renders byte for byte what prom-client Histogram renders for the same observations', async () => {
    const mine = new Registry()
    const theirs = new Registry()
    const h = new CheckDurationHistogram(mine)
    const ref = new Histogram({ name: h.name, help: h.help, buckets: CHECK_DURATION_BUCKETS, registers: [theirs] })
    // on bucket bounds, between them, below the first and above the last
    const samples = [0, 0.000001, 0.0000010001, 0.0000025, 0.00003, 0.0049, 0.025, 0.5, ...Array.from({ length: 200 }, (_, i) => (i * 0.000137) % 0.03)]
    for (const s of samples) {
      h.observe(s)
      ref.observe(s)
    }
    expect(await mine.metrics()).toBe(await theirs.metrics())
    // prom-client adds `exemplar: null` to each value; exemplars are off, so compare without them.
    const withoutExemplars = (ms: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) => ms.map((m) => ({ ...m, values: m.values.map(({ exemplar: _e, ...v }: Record<string, unknown>) => v) }))
    expect(withoutExemplars(await mine.getMetricsAsJSON())).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()))
    // After reset: what a fresh prom-client histogram shows (zeros from the start, so increase() sees the first checks).
    h.reset()
    const fresh = new Registry()
    new Histogram({ name: h.name, help: h.help, buckets: CHECK_DURATION_BUCKETS, registers: [fresh] })
    expect(await mine.metrics()).toBe(await fresh.metrics())
  })

  it('registers once per registry, like the other enforcement metrics', () => {
    const registry = new Registry()
    expect(enforcementMetrics(registry)).toBe(enforcementMetrics(registry))
    expect(() => new CheckDurationHistogram(registry)).toThrow(/already been registered/)
  })
})

describe('FastCounter', () => {
  it('renders byte for byte what prom-client Counter renders, escaping included', async () => {
    const mine = new Registry()
    const theirs = new Registry()
    const labelNames = ['model', 'severity', 'violation', 'decision'] as const
    const fast = new FastCounter('tenant_violations_total', 'help text', labelNames, mine)
    const ref = new Counter({ name: 'tenant_violations_total', help: 'help text', labelNames, registers: [theirs] })
    expect(await mine.metrics()).toBe(await theirs.metrics()) // no series before the first inc
    const incs: Record<(typeof labelNames)[number], string>[] = [
      { model: 'User', severity: 'CRITICAL', violation: 'missing_tenant_id', decision: 'logged' },
      { model: 'Role', severity: 'HIGH', violation: 'tenant_mismatch', decision: 'blocked' },
      { model: 'User', severity: 'CRITICAL', violation: 'missing_tenant_id', decision: 'logged' },
      { model: 'we"ird\\\nmodel', severity: 'LOW', violation: 'raw_query', decision: 'blocked' },
    ]
    for (const labels of incs) {
      fast.inc(labels)
      ref.inc(labels)
    }
    fast.inc(incs[1]!, 2.5)
    ref.inc(incs[1]!, 2.5)
    expect(await mine.metrics()).toBe(await theirs.metrics())
    fast.reset()
    ref.reset()
    expect(await mine.metrics()).toBe(await theirs.metrics())
  })

  it('refuses a missing label instead of counting it under "undefined"', () => {
    const c = new FastCounter('x_total', 'h', ['a', 'b'] as const, new Registry())
    expect(() => c.inc({ a: '1' } as never)).toThrow(/label "b" must be a string/)
  })
})

describe('every series an alert or a gate reads exists from start-up, at 0', () => {
  it('a new extension exports violations, blocked queries, bypasses, flag and inspection errors before any query', async () => {
    const { tenantEnforcement } = await import('../src/enforcement/extension.ts')
    const { protectedModels } = await import('../src/config/define.ts')
    const { VIOLATION_KINDS } = await import('../src/telemetry/metric-names.ts')
    const { FLAG_NAMES } = await import('../src/config/flags.ts')
    const { parseMetricsText } = await import('../src/ops/metrics-text.ts')
    const { default: config } = await import('../tenantfence.config.ts')
    const registry = new Registry()
    const fence = tenantEnforcement({ config, registry, audit: false, logger: (await import('pino')).pino({ level: 'silent' }) })
    const samples = parseMetricsText(await registry.metrics())
    const of = (name: string) => samples.filter((s) => s.name === name)
    expect(samples.filter((s) => s.name.endsWith('_total')).every((s) => s.value === 0)).toBe(true)

    const models = protectedModels(config)
    const violations = of('tenant_violations_total')
    expect(violations).toHaveLength(models.length * VIOLATION_KINDS.length * 2 + 2) // + $raw × raw_query × logged/blocked
    for (const m of models) {
      expect(violations).toContainEqual({ name: 'tenant_violations_total', labels: { model: m.name, severity: m.severity, violation: 'missing_tenant_id', decision: 'logged', level: 'tenant' }, value: 0 })
      expect(of('tenant_enforcement_errors_total')).toContainEqual({ name: 'tenant_enforcement_errors_total', labels: { model: m.name, endpoint: 'unknown' }, value: 0 })
    }
    expect(violations).toContainEqual({ name: 'tenant_violations_total', labels: { model: '$raw', severity: 'HIGH', violation: 'raw_query', decision: 'blocked', level: 'tenant' }, value: 0 })
    expect(of('tenant_bypass_usage_total').map((s) => s.labels.reason).sort()).toEqual([...config.bypass.reasons, 'none', 'other'].sort())
    expect(of('tenant_bypass_denied_total').map((s) => s.labels.reason).sort()).toEqual([...config.bypass.reasons, 'none', 'other'].sort())
    expect(of('tenant_flag_errors_total').map((s) => s.labels.flag)).toEqual([...FLAG_NAMES, 'file'])
    expect(of('tenant_inspection_errors_total')).toHaveLength(models.length)
    fence.close()
  })

  it('the flag label stays bounded: a flag file\'s path or bad line counts as "file"', async () => {
    const registry = new Registry()
    const m = enforcementMetrics(registry)
    m.flagErrors.inc({ flag: '/etc/tenantfence/flags.env' })
    m.flagErrors.inc({ flag: 'TENANT_ENFORCEMENT_MODE=oops' })
    m.flagErrors.inc({ flag: 'TENANT_ENFORCEMENT_MODE' })
    const text = await registry.metrics()
    expect(text).toContain('tenant_flag_errors_total{flag="file"} 2')
    expect(text).toContain('tenant_flag_errors_total{flag="TENANT_ENFORCEMENT_MODE"} 1')
    expect(text).not.toContain('/etc/')
  })
})
