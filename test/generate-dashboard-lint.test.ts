// The dashboard lint of STYLE.md (monitoring-mixins), on the JSON model: Grafana itself is not
// installable here. Datasource template variables behind every panel and target, a title,
// description and unit on every panel, explicit ids and refIds, $__rate_interval in the ranges
// of time series, counters only inside rate/increase, thresholds taken from the config.
import { parser as promqlParser } from '@prometheus-io/lezer-promql'
import type { SyntaxNode } from '@lezer/common'
import { describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { generateFiles } from '../src/generate/files.ts'
import { LOKI_DS_UID, LOKI_DS_VARIABLE, PROMETHEUS_DS_UID, PROMETHEUS_DS_VARIABLE } from '../src/generate/datasources.ts'
import { ENFORCEMENT_DASHBOARD, VIOLATIONS_DASHBOARD } from '../src/generate/dashboards/catalog.ts'
import { dashboardsOf, substituteGrafanaVariables, type DashboardPanel } from './fixtures/generate/helpers.ts'

const dashboards = dashboardsOf(generateFiles(config))
const panels = dashboards.flatMap(({ path, json }) => json.panels.map((p) => [`${path} "${p.title}"`, p] as [string, DashboardPanel]))
const VARIABLE_OF: Record<string, string> = { prometheus: PROMETHEUS_DS_VARIABLE, loki: LOKI_DS_VARIABLE }

const isCounter = (name: string) => /_(total|bucket|count|sum)$/.test(name)
const COUNTER_FUNCTIONS = new Set(['rate', 'increase', 'irate'])

/** Counter selectors not wrapped as rate/increase(counter[range]). */
function bareCounters(expr: string): string[] {
  const bad: string[] = []
  const tree = promqlParser.parse(expr)
  tree.iterate({
    enter: (ref) => {
      if (ref.name !== 'VectorSelector') return
      const node = ref.node
      const name = node.getChild('Identifier')
      const metric = name ? expr.slice(name.from, name.to) : ''
      if (!isCounter(metric)) return
      let up: SyntaxNode | null = node.parent
      const ok = up?.name === 'MatrixSelector' && (up = up.parent) !== null && (up.name === 'OffsetExpr' ? (up = up.parent) : up)?.name === 'FunctionCallBody' && (() => {
        const call = up!.parent
        const fn = call?.getChild('FunctionIdentifier')
        return call?.name === 'FunctionCall' && fn !== null && fn !== undefined && COUNTER_FUNCTIONS.has(expr.slice(fn.from, fn.to))
      })()
      if (!ok) bad.push(metric)
    },
  })
  return bad
}

describe('generate: dashboard lint', () => {
  it('stable uids and titles from the catalog', () => {
    expect(dashboards.map((d) => d.json.uid).sort()).toEqual([ENFORCEMENT_DASHBOARD.uid, VIOLATIONS_DASHBOARD.uid].sort())
  })

  it.each(dashboards.map((d) => [d.path, d.json] as const))('%s declares a datasource variable for each datasource type it uses, defaulting to the provisioned uids', (_path, json) => {
    const used = new Set(json.panels.flatMap((p) => (p.targets ?? []).map((t) => t.datasource?.type)))
    const vars = json.templating.list
    const prom = vars.find((v) => v.name === PROMETHEUS_DS_VARIABLE)
    expect(prom).toMatchObject({ type: 'datasource', query: 'prometheus', current: { value: PROMETHEUS_DS_UID } })
    if (used.has('loki')) expect(vars.find((v) => v.name === LOKI_DS_VARIABLE)).toMatchObject({ type: 'datasource', query: 'loki', current: { value: LOKI_DS_UID } })
  })

  it.each(panels)('%s has an id, title, description and unit', (_where, p) => {
    expect(Number.isInteger(p.id)).toBe(true)
    expect(p.title?.trim()).toBeTruthy()
    expect(p.description?.trim()).toBeTruthy()
    expect(p.fieldConfig?.defaults?.unit).toBeTruthy()
  })

  it.each(dashboards.map((d) => [d.path, d.json] as const))('%s has unique panel ids', (_path, json) => {
    const ids = json.panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it.each(panels)('%s: panel and every target use the datasource variable, with explicit unique refIds', (_where, p) => {
    const targets = p.targets ?? []
    expect(targets.length).toBeGreaterThan(0)
    expect(p.datasource?.uid).toBe(`\${${VARIABLE_OF[p.datasource?.type ?? '']}}`)
    for (const t of targets) {
      expect(t.datasource).toEqual(p.datasource)
      expect(t.refId).toMatch(/^[A-Z]$/)
    }
    expect(new Set(targets.map((t) => t.refId)).size).toBe(targets.length)
  })

  it.each(panels.filter(([, p]) => p.datasource?.type === 'prometheus'))('%s: ranges are $__rate_interval in time series (or a rolling window the title names), windows named in the title otherwise', (_where, p) => {
    for (const t of p.targets ?? []) {
      const ranges = [...(t.expr ?? '').matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!)
      const named = (r: string, word: string) => p.title!.includes(`${word} ${r.replace(/(\d+)([a-z]+)/, '$1 $2')}`)
      if (p.type === 'timeseries') expect(ranges.every((r) => r === '$__rate_interval' || named(r, 'rolling')), t.expr).toBe(true)
      else for (const r of ranges) expect(named(r, 'last'), `${r} in ${t.expr}: title ${p.title}`).toBe(true)
    }
  })

  it.each(panels.filter(([, p]) => p.datasource?.type === 'prometheus'))('%s: counters only inside rate/increase', (_where, p) => {
    for (const t of p.targets ?? []) expect(bareCounters(substituteGrafanaVariables(t.expr ?? '')), t.expr).toEqual([])
  })

  it('the counter check flags a bare counter', () => {
    expect(bareCounters('sum(tenant_violations_total) + sum(rate(http_requests_total[5m]))')).toEqual(['tenant_violations_total'])
    expect(bareCounters('sum(increase(tenant_violations_total[24h] offset 1d))')).toEqual([])
  })

  it('thresholds on the panels are the config values the alerts use, one line per distinct phase value', () => {
    const steps = (uid: string, id: number) =>
      ((dashboards.find((d) => d.json.uid === uid)!.json.panels.find((p) => p.id === id)! as unknown as { fieldConfig: { defaults: { thresholds: { steps: Array<{ value: number | null }> } } } }).fieldConfig.defaults.thresholds.steps).map((s) => s.value)
    const E = ENFORCEMENT_DASHBOARD
    const t = (n: number) => config.phases[n]!.thresholds
    // phases 3-4 at 0.01 %, phase 2 at 0.1 %, the rollback at 1 %
    expect(steps(E.uid, E.panels.errorRate.id)).toEqual([null, t(3).errorRate, t(2).errorRate, t(2).errorRateRollback])
    // check cost: orange from the gate's p95 budget (0.5 ms), red from the alert (5 ms): not 5 and 10 ms, where the gate has long failed
    const budget = config.phases[1]!.successCriteria.find((c) => c.kind === 'checkP95Ms')!.below!
    expect(budget).toBe(0.5)
    expect(steps(E.uid, E.panels.checkP95.id)).toEqual([null, budget, t(1).checkLatencyWarningMs])
    expect(steps(E.uid, E.panels.bypassesLastHour.id)).toEqual([null, t(1).bypassPerHour])
    expect(steps(E.uid, E.panels.bypassesByReason.id)).toEqual([null, t(1).bypassPerHour])
    // violations per hour, like every rate: the spike's 10 a minute is 600 an hour
    expect(steps(VIOLATIONS_DASHBOARD.uid, VIOLATIONS_DASHBOARD.panels.overTime.id)).toEqual([null, t(1).violationSpikePerMinute * 60])
  })

  it('one unit for every rate of events across both dashboards: per hour', () => {
    // instances by mode is a count of instances, not a rate of events
    const counts: string[] = [ENFORCEMENT_DASHBOARD.panels.instancesByMode.title]
    const rates = panels.filter(([, p]) => p.type === 'timeseries' && p.fieldConfig?.defaults?.unit !== 'percentunit' && p.fieldConfig?.defaults?.unit !== 'ms' && !counts.includes(p.title!))
    expect(rates.map(([, p]) => p.title).sort()).toEqual(
      [VIOLATIONS_DASHBOARD.panels.overTime.title, ENFORCEMENT_DASHBOARD.panels.errorsByModel.title, ENFORCEMENT_DASHBOARD.panels.errorsByEndpoint.title, ENFORCEMENT_DASHBOARD.panels.bypassesByReason.title].sort(),
    )
    for (const [where, p] of rates) expect(p.fieldConfig?.defaults?.unit, where).toBe('suffix: /h')
  })

  it('a mixed fleet shows: instances by mode over time, stacked, in whole instances, naming the alert and its threshold', () => {
    const E = ENFORCEMENT_DASHBOARD
    const p = dashboards.find((d) => d.json.uid === E.uid)!.json.panels.find((x) => x.id === E.panels.instancesByMode.id)! as Omit<DashboardPanel, 'targets'> & {
      targets: { expr?: string; legendFormat?: string }[]
      fieldConfig: { defaults: { unit: string; decimals?: number; custom?: { stacking?: { mode?: string } } } }
      options?: { legend?: { displayMode?: string; calcs?: string[] } }
    }
    expect(p.type).toBe('timeseries')
    expect(p.title).toBe(E.panels.instancesByMode.title)
    expect(p.targets.map((t) => [t.expr, t.legendFormat])).toEqual([['count by (mode) (tenant_enforcement_mode{job=~"$job", instance=~"$instance"} == 1)', '{{mode}}']])
    expect(p.fieldConfig.defaults).toMatchObject({ unit: 'short', decimals: 0, custom: { stacking: { mode: 'normal' } } })
    expect(p.options?.legend).toMatchObject({ displayMode: 'table', calcs: ['lastNotNull', 'max'] })
    expect(p.description).toContain('TenantFleetModeMismatch')
    expect(p.description).toContain(config.thresholds.fleetModeMismatchFor)
  })

  it('the Loki panels select the app and env, and extract only the fields they show', () => {
    const v = dashboards.find((d) => d.json.uid === VIOLATIONS_DASHBOARD.uid)!.json
    const lines = v.panels.find((p) => p.type === 'logs')!
    expect(lines.targets?.[0]?.expr).toBe(`{app="${config.app.job}", env=~"$env"} |= "TENANT_VIOLATION" | json msg="msg", severity="severity", model="model", action="action", violation="violation", decision="decision", endpoint="endpoint" | msg="TENANT_VIOLATION"`)
    const top = v.panels.find((p) => p.id === VIOLATIONS_DASHBOARD.panels.topEndpoints.id)!
    expect(top.targets?.[0]?.expr).toContain('| json msg="msg", endpoint="endpoint" |')
    expect(v.templating.list.find((x) => x.name === 'env')).toMatchObject({ type: 'query', includeAll: true, allValue: '.*', datasource: { type: 'loki' } })
  })

  it.each(dashboards.map((d) => [d.path, d.json] as const))('%s: job and instance variables (the config\'s job by default), every Prometheus query selects them', (_path, json) => {
    const vars = Object.fromEntries(json.templating.list.map((v) => [v.name, v]))
    expect(vars.job).toMatchObject({ type: 'query', current: { value: config.app.job }, includeAll: true, allValue: '.*' })
    expect(vars.instance).toMatchObject({ type: 'query', current: { value: '$__all' }, includeAll: true, allValue: '.*' })
    const exprs = [...json.panels.flatMap((p) => (p.datasource?.type === 'prometheus' ? (p.targets ?? []).map((t) => t.expr ?? '') : [])), ...(json.annotations?.list ?? []).map((a) => a.expr ?? '')]
    for (const e of exprs) {
      expect(e).not.toContain('job="')
      for (const sel of e.match(/tenant_[a-z_]+\{[^}]*\}|http_requests_total\{[^}]*\}/g) ?? []) expect(sel, e).toContain('job=~"$job"')
    }
  })

  it.each(dashboards.map((d) => [d.path, d.json] as const))('%s: shared crosshair, links to the other dashboard and the runbooks, annotations for alerts and mode changes', (_path, json) => {
    expect(json.graphTooltip).toBe(1)
    const other = json.uid === ENFORCEMENT_DASHBOARD.uid ? VIOLATIONS_DASHBOARD : ENFORCEMENT_DASHBOARD
    expect(json.links?.map((l) => l.url)).toContain(`/d/${other.uid}`)
    expect(json.links?.some((l) => l.url.startsWith(`${config.app.runbookBaseUrl}/phase-`))).toBe(true)
    // on the dashboard itself, not hidden in the controls menu
    for (const l of [...(json.links ?? []), ...(json.annotations?.list ?? [])]) expect(l).not.toHaveProperty('placement')
    const ann = json.annotations!.list
    expect(ann.map((a) => a.name)).toEqual(['tenantfence alerts', 'Mode changes'])
    expect(ann[0]!.expr).toContain('ALERTS{alertstate="firing", alertname=~"Tenant.+"')
    expect(ann[1]!.expr).toContain('offset 1m')
  })

  it.each(panels.filter(([, p]) => p.type === 'timeseries'))('%s: every time series has a table legend with last and max (one style across panels)', (_where, p) => {
    expect(p.options?.legend).toMatchObject({ showLegend: true, displayMode: 'table', calcs: ['lastNotNull', 'max'] })
  })

  it.each(panels.filter(([, p]) => p.type === 'stat'))('%s: a dead scrape is no data, never a green 0', (_where, p) => {
    expect(p.fieldConfig?.defaults?.noValue ?? '').not.toMatch(/^0$/)
    expect(p.fieldConfig?.defaults?.noValue).toBeTruthy()
  })

  it('check cost shows p95 and p99; blocked and logged violations are apart; CRITICAL is red', () => {
    const find = (uid: string, id: number) => dashboards.find((d) => d.json.uid === uid)!.json.panels.find((p) => p.id === id)!
    const E = ENFORCEMENT_DASHBOARD.panels
    const V = VIOLATIONS_DASHBOARD.panels
    expect(find(ENFORCEMENT_DASHBOARD.uid, E.checkP95.id).targets!.map((t) => t.expr!.slice(0, 24))).toEqual(['histogram_quantile(0.95,', 'histogram_quantile(0.99,'])
    const total = find(VIOLATIONS_DASHBOARD.uid, V.total.id).targets!.map((t) => t.expr)
    expect(total.map((e) => /decision="(\w+)"/.exec(e!)?.[1])).toEqual(['logged', 'blocked'])
    expect(find(VIOLATIONS_DASHBOARD.uid, V.overTime.id).targets!.map((t) => /decision="(\w+)"/.exec(t.expr!)?.[1])).toEqual(['logged', 'blocked', 'logged'])
    const red = { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }
    expect(find(VIOLATIONS_DASHBOARD.uid, V.bySeverity.id).fieldConfig?.overrides).toEqual([{ matcher: { id: 'byName', options: 'CRITICAL' }, properties: [red] }])
    expect(find(VIOLATIONS_DASHBOARD.uid, V.byModel.id).fieldConfig?.overrides).toEqual([{ matcher: { id: 'byRegexp', options: '^(User|RefreshToken|PasswordResetToken|MfaBackupCode|AuditLog)( .*)?$' }, properties: [red] }])
  })
})
