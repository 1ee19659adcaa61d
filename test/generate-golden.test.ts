// Golden tests: the committed dashboards/ and alerts/ are exactly what the generator makes
// from tenantfence.config.ts (what `generate --check` verifies), and every file says so.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { generateFiles } from '../src/generate/files.ts'
import { phaseRules, runbookUrl } from '../src/generate/alerts/rules.ts'
import { phaseRuleFile } from '../src/generate/alerts/phases.ts'
import { renderTemplate } from '../src/generate/alerts/humanize.ts'
import { defineConfig } from '../src/config/define.ts'
import { checkGenerated } from '../src/generate/write.ts'
import { alertRules, REPO } from './fixtures/generate/helpers.ts'

const files = generateFiles(config)

describe('generate: golden files', () => {
  it('the committed files are exactly the generated ones (none changed, missing or extra)', async () => {
    expect(await checkGenerated(REPO, files)).toEqual({ changed: [], missing: [], extra: [] })
  })

  it.each(files.map((f) => [f.path, f] as const))('%s matches the committed file byte for byte', (path, f) => {
    expect(readFileSync(join(REPO, path), 'utf8')).toBe(f.content)
  })

  it('is deterministic: two runs give the same bytes', () => {
    expect(generateFiles(config)).toEqual(files)
  })

  it('writes both dashboards and, per phase and for the silence alerts, a rule file, a promtool test file and a runbook', () => {
    expect(files.map((f) => f.path)).toEqual([
      'alerts/metrics-missing.rules.yml',
      'alerts/phase-0-deploy-disabled.rules.yml',
      'alerts/phase-1-log-only.rules.yml',
      'alerts/phase-2-selective-enforcement.rules.yml',
      'alerts/phase-3-full-enforcement.rules.yml',
      'alerts/phase-4-hardened.rules.yml',
      'alerts/runbooks/metrics-missing.md',
      'alerts/runbooks/phase-0-deploy-disabled.md',
      'alerts/runbooks/phase-1-log-only.md',
      'alerts/runbooks/phase-2-selective-enforcement.md',
      'alerts/runbooks/phase-3-full-enforcement.md',
      'alerts/runbooks/phase-4-hardened.md',
      'alerts/tests/metrics-missing.test.yml',
      'alerts/tests/phase-0-deploy-disabled.test.yml',
      'alerts/tests/phase-1-log-only.test.yml',
      'alerts/tests/phase-2-selective-enforcement.test.yml',
      'alerts/tests/phase-3-full-enforcement.test.yml',
      'alerts/tests/phase-4-hardened.test.yml',
      'dashboards/tenant-enforcement.json',
      'dashboards/tenant-violations.json',
    ])
  })

  it.each(files.map((f) => [f.path, f] as const))('%s says it is generated, DO NOT EDIT, and the command a package user runs', (_path, f) => {
    const text = f.path.endsWith('.json') ? `${JSON.parse(f.content).__generated} ${JSON.parse(f.content).description}` : f.content.split('\n').slice(0, 3).join('\n')
    expect(text).toContain('DO NOT EDIT')
    expect(text).toContain('`npx tenantfence generate`')
    expect(text).not.toContain('npm run')
    expect(text).toContain('tenantfence.config.ts')
  })

  it('a config found under another name is named in the regenerate command', () => {
    const other = generateFiles(config, { configName: 'ops/tenancy.config.ts' })
    expect(other.find((f) => f.path.endsWith('.rules.yml'))!.content).toContain('run `npx tenantfence generate --config ops/tenancy.config.ts`')
  })
})

describe('generate: alert rules follow the config', () => {
  it.each(config.phases.map((p) => [p.phase, p] as const))('phase %i runs exactly the alerts it lists, labelled and annotated, gated per job on its mode', (_n, phase) => {
    const rules = phaseRules(config, phase)
    expect(rules.map((r) => r.alert)).toEqual(phase.alerts)
    for (const r of rules) {
      expect(r.labels.severity).toBe(phase.severities[r.alert as keyof typeof phase.severities])
      expect(r.labels.phase).toBe(String(phase.phase))
      expect(r.annotations.summary).toMatch(/^[A-Z][^\n]*\.$/)
      expect(r.annotations.description).toContain('{{ $value')
      expect(r.annotations.runbook_url).toBe(runbookUrl(config, phaseRuleFile(config, phase), r.alert))
      expect(r.expr).toContain(`and on(job) (max by (job) (tenant_enforcement_mode{job="${config.app.job}", mode="${phase.mode}"}) == 1)`)
      // every alert keeps the job label, so one Prometheus can watch several apps
      expect(r.expr.split('\n')[0]).toMatch(/sum by \(job[,)]|count by \(job\)|histogram_quantile\(0\.95, sum by \(job, le\)/)
    }
  })

  it('the silence alerts are in their own file, never gated on a mode', () => {
    const rules = alertRules(files).filter((r) => r.file === 'alerts/metrics-missing.rules.yml')
    expect(rules.map((r) => r.alert)).toEqual(['TenantMetricsMissing', 'TenantInstanceNotReporting', 'TenantFleetModeMismatch'])
    for (const r of rules) {
      // no phase's mode gate (TenantFleetModeMismatch joins on job, but names no mode)
      expect(r.expr).not.toContain('and on(job) (max by (job) (tenant_enforcement_mode')
      expect(r.expr).not.toContain('mode="')
      expect(r.labels).not.toHaveProperty('phase')
    }
    expect(rules[0]!.expr).toBe(`absent(tenant_enforcement_mode{job="${config.app.job}"} == 1)`)
  })

  it('per-phase snapshot of alert, severity, for and condition', () => {
    const summary = Object.fromEntries(config.phases.map((p) => [`phase ${p.phase} ${p.mode}`, phaseRules(config, p).map((r) => `${r.alert} [${r.labels.severity}] for ${r.for}: ${r.expr.split('\n')[0]}`)]))
    expect(summary).toMatchSnapshot()
  })

  it('thresholds and severities come from each phase of the config', () => {
    const rule = (phase: number, name: string) => phaseRules(config, config.phases[phase]!).find((r) => r.alert === name)!
    for (const phase of [2, 3]) {
      const t = config.phases[phase]!.thresholds
      expect(rule(phase, 'TenantEnforcementErrors').expr).toContain(`> ${t.errorRate}\n`)
      expect(rule(phase, 'TenantEnforcementErrors').labels.severity).toBe(config.phases[phase]!.severities.TenantEnforcementErrors)
      expect(rule(phase, 'TenantEnforcementRollback').expr).toContain(`> ${t.errorRateRollback}\n`)
      expect(rule(phase, 'TenantBypassUsage').expr).toContain(`> ${t.bypassPerHour}\n`)
      expect(rule(phase, 'TenantCheckLatencyHigh').expr).toContain(`* 1000 > ${t.checkLatencyWarningMs}\n`)
      expect(rule(phase, 'TenantCheckLatencyCritical').expr).toContain(`* 1000 > ${t.checkLatencyCriticalMs}\n`)
      expect(rule(phase, 'TenantEnforcementRollback').for).toBe(t.errorRateRollbackFor)
    }
    // the document: 0.1 % warning in phase 2, 0.01 % critical in phase 3
    expect([rule(2, 'TenantEnforcementErrors').expr, rule(2, 'TenantEnforcementErrors').labels.severity]).toEqual([expect.stringContaining('> 0.001\n'), 'warning'])
    expect([rule(3, 'TenantEnforcementErrors').expr, rule(3, 'TenantEnforcementErrors').labels.severity]).toEqual([expect.stringContaining('> 0.0001\n'), 'critical'])
    expect(rule(2, 'TenantViolationSpike').expr).toContain(`/ 5 > ${config.phases[2]!.thresholds.violationSpikePerMinute}\n`)
  })

  it('the error rate divides blocked requests of users by users\' requests; the spike and CRITICAL alerts read logged violations only', () => {
    const rules = phaseRules(config, config.phases[2]!)
    const expr = (name: string) => rules.find((r) => r.alert === name)!.expr
    expect(expr('TenantEnforcementErrors')).toContain('tenant_enforcement_errors_total{job="tenantfence-demo", endpoint!="unknown"}')
    expect(expr('TenantEnforcementErrors')).toContain('http_requests_total{job="tenantfence-demo", route!~"/healthz|/metrics"}')
    expect(expr('TenantEnforcementErrors')).toContain('increase(http_requests_total{job="tenantfence-demo", route!~"/healthz|/metrics"}[5m])')
    expect(expr('TenantEnforcementErrors')).toMatch(/\) > 0\) > 0\.001\n/)
    expect(expr('TenantJobQueriesBlocked')).toContain('endpoint="unknown"')
    expect(expr('TenantViolationSpike')).toContain('decision="logged"')
    expect(expr('TenantCriticalModelViolation')).toContain('severity="CRITICAL", decision="logged"')
  })

  it('counts print as whole numbers ("358 tenant violations", never "358.3")', () => {
    const counts = ['TenantViolationSummary', 'TenantCriticalModelViolation', 'TenantJobQueriesBlocked', 'TenantBypassUsage', 'TenantFlagReloadFailed', 'TenantInstanceNotReporting', 'TenantFleetModeMismatch']
    const rules = alertRules(files).filter((r) => counts.includes(r.alert))
    expect(new Set(rules.map((r) => r.alert))).toEqual(new Set(counts))
    for (const r of rules) {
      expect(r.annotations.description, r.alert).toContain('{{ $value | printf "%.0f" }}')
      expect(r.annotations.description, r.alert).not.toContain('humanize')
    }
    expect(renderTemplate('{{ $value | printf "%.0f" }} violations', 358.3, {})).toBe('358 violations')
    expect(renderTemplate('{{ $value | printf "%.0f" }}', 1.063, {})).toBe('1')
    expect(renderTemplate('{{ $value | printf "%.0f" }}', 2.5, {})).toBe('2') // Go rounds halves to even
  })

  it('the daily summary is a notification once a day at its time (UTC), not an alert firing all day', () => {
    const summary = alertRules(files).find((r) => r.alert === 'TenantViolationSummary')!
    // 09:00 UTC is 32 400 s into the day: shifted by 86 400 - 32 400, open for its 15m `for` + 15m
    expect(summary.expr).toContain('and on() ((vector(time()) + 54000) % 86400 < 1800)\n')
    expect(summary.annotations.description).toContain('once a day at 09:00 UTC')
  })

  it('TenantFlagReloadFailed compares, per instance, the last refused flag change with the last one applied', () => {
    const flag = alertRules(files).find((r) => r.alert === 'TenantFlagReloadFailed')!
    expect(flag.expr.split('\n')[0]).toBe(
      'count by (job) (max by (job, instance) (tenant_flag_reload_timestamp_seconds{job="tenantfence-demo", outcome="refused"}) > max by (job, instance) (tenant_flag_reload_timestamp_seconds{job="tenantfence-demo", outcome="applied"}))',
    )
  })

  it('TenantFleetModeMismatch: the instances of one job report more than one mode, for thresholds.fleetModeMismatchFor', () => {
    const rule = alertRules(files).find((r) => r.alert === 'TenantFleetModeMismatch')!
    expect(rule.file).toBe('alerts/metrics-missing.rules.yml')
    const mode = 'tenant_enforcement_mode{job="tenantfence-demo"}'
    expect(rule.expr).toBe(`count by (job) (${mode} == 1)\nand on(job) (count by (job) (count by (job, mode) (${mode} == 1)) > 1)`)
    expect(rule.for).toBe(config.thresholds.fleetModeMismatchFor)
    expect(rule.labels).toEqual({ severity: 'warning' })
    expect(rule.annotations.description).toContain('The {{ $value | printf "%.0f" }} instances of job tenantfence-demo have reported more than one tenant enforcement mode')
    // a slower flag source (a rolling restart) raises it
    const slow = defineConfig({ ...config, thresholds: { ...config.thresholds, fleetModeMismatchFor: '20m' } })
    const slowRule = alertRules(generateFiles(slow)).find((r) => r.alert === 'TenantFleetModeMismatch')!
    expect([slowRule.for, slowRule.annotations.description]).toEqual(['20m', expect.stringContaining('for 20m,')])
  })

  it('the rollback alert names the rollback from config.rollback, for where config.rollout.flags says the app reads its flags', () => {
    for (const r of alertRules(files).filter((r) => r.alert === 'TenantEnforcementRollback')) {
      expect(r.labels.severity).toBe('critical')
      // the demo reads its environment (compose): set it and restart, no kubectl
      expect(r.annotations.description).toContain("set TENANT_ENFORCEMENT_MODE=log_only in the app's environment and restart it")
      expect(r.annotations.description).not.toContain('kubectl')
    }
  })

  it('without rollout.flags no deployment is guessed from the job: every form with placeholders, and what to set', () => {
    const { rollout: _none, ...rest } = config
    const bare = defineConfig({ app: rest.app, tenant: rest.tenant, models: rest.models, globalModels: rest.globalModels })
    const texts = [
      ...alertRules(generateFiles(bare)).filter((r) => r.alert === 'TenantEnforcementRollback').map((r) => r.annotations.description),
      generateFiles(bare).find((f) => f.path === 'alerts/runbooks/phase-3-full-enforcement.md')!.content,
    ]
    for (const text of texts) {
      expect(text).not.toContain(`deployment/${config.app.job}`)
      expect(text).toContain('kubectl -n <namespace> set env deployment/<deployment> TENANT_ENFORCEMENT_MODE=log_only')
      expect(text).toContain("rollout.flags in the config says where the app reads its flags ({ source: 'file', path }")
    }
  })

  it('a flag-file app gets the atomic rewrite of its file in the alert and the runbook (complete flags, tmp then mv)', () => {
    const withFile = defineConfig({ app: config.app, tenant: config.tenant, models: config.models, globalModels: config.globalModels, rollout: { flags: { source: 'file', path: '/etc/tenantfence/flags.env' } } })
    const out = generateFiles(withFile)
    const command = "> /etc/tenantfence/flags.env.tmp && mv /etc/tenantfence/flags.env.tmp /etc/tenantfence/flags.env"
    for (const r of alertRules(out).filter((r) => r.alert === 'TenantEnforcementRollback')) {
      expect(r.annotations.description).toContain(command)
      // the phase's own flags with the rollback's over them: a file replaces every flag (bypass stays allowed)
      expect(r.annotations.description).toContain("printf '%s\\n' TENANT_ENFORCEMENT_ENABLED=true TENANT_ENFORCEMENT_MODE=log_only ")
      expect(r.annotations.description).toContain('TENANT_ENFORCEMENT_ALLOW_BYPASS=true')
    }
    expect(out.find((f) => f.path === 'alerts/runbooks/phase-2-selective-enforcement.md')!.content).toContain(command)
  })

  it('every runbook_url points at a section of a generated runbook', () => {
    for (const r of alertRules(files)) {
      const [, file, anchor] = /\/([^/]+\.md)#(.+)$/.exec(r.annotations.runbook_url)!
      const runbook = files.find((f) => f.path === `alerts/runbooks/${file ?? ''}`)
      expect(runbook, r.annotations.runbook_url).toBeDefined()
      const headings = runbook!.content.split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3).toLowerCase())
      expect(headings).toContain(anchor ?? '')
    }
  })

  it('without runbookBaseUrl, runbook links are relative to the rule file', () => {
    const { runbookBaseUrl: _none, ...app } = config.app
    const bare = defineConfig({ app, tenant: config.tenant, models: config.models, globalModels: config.globalModels })
    expect(phaseRules(bare, bare.phases[1]!)[0]!.annotations.runbook_url).toBe('runbooks/phase-1-log-only.md#tenantviolationsummary')
  })

  it('runbooks name the dashboard panel, the report command and the rollback for each alert', () => {
    const runbook = files.find((f) => f.path === 'alerts/runbooks/phase-2-selective-enforcement.md')!.content
    const section = runbook.slice(runbook.indexOf('## TenantEnforcementRollback'))
    expect(section).toContain('tenantfence / Tenant enforcement')
    expect(section).toContain('/d/tenantfence-enforcement?viewPanel=panel-5')
    expect(section).toContain('tenantfence report')
    expect(section).toContain("# set these in the app's environment and restart it")
    expect(section).toContain('\nTENANT_ENFORCEMENT_MODE=log_only\n')
  })
})
