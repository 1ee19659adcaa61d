// Golden tests: the committed dashboards/ and alerts/ are exactly what the generator makes
// from tenantfence.config.ts (what `generate --check` verifies), and every file says so.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { generateFiles } from '../src/generate/files.ts'
import { phaseRules, runbookUrl } from '../src/generate/alerts/rules.ts'
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

  it('writes both dashboards and, per phase, a rule file, a promtool test file and a runbook', () => {
    expect(files.map((f) => f.path)).toEqual([
      'alerts/phase-0-deploy-disabled.rules.yml',
      'alerts/phase-1-log-only.rules.yml',
      'alerts/phase-2-selective-enforcement.rules.yml',
      'alerts/phase-3-full-enforcement.rules.yml',
      'alerts/phase-4-hardened.rules.yml',
      'alerts/runbooks/phase-0-deploy-disabled.md',
      'alerts/runbooks/phase-1-log-only.md',
      'alerts/runbooks/phase-2-selective-enforcement.md',
      'alerts/runbooks/phase-3-full-enforcement.md',
      'alerts/runbooks/phase-4-hardened.md',
      'alerts/tests/phase-0-deploy-disabled.test.yml',
      'alerts/tests/phase-1-log-only.test.yml',
      'alerts/tests/phase-2-selective-enforcement.test.yml',
      'alerts/tests/phase-3-full-enforcement.test.yml',
      'alerts/tests/phase-4-hardened.test.yml',
      'dashboards/tenant-enforcement.json',
      'dashboards/tenant-violations.json',
    ])
  })

  it.each(files.map((f) => [f.path, f] as const))('%s says it is generated, DO NOT EDIT, and how to regenerate', (_path, f) => {
    const text = f.path.endsWith('.json') ? `${JSON.parse(f.content).__generated} ${JSON.parse(f.content).description}` : f.content.split('\n').slice(0, 3).join('\n')
    expect(text).toContain('DO NOT EDIT')
    expect(text).toContain('npm run generate')
    expect(text).toContain('tenantfence.config.ts')
  })
})

describe('generate: alert rules follow the config', () => {
  it.each(config.phases.map((p) => [p.phase, p] as const))('phase %i runs exactly the alerts it lists, labelled and annotated', (_n, phase) => {
    const rules = phaseRules(config, phase)
    expect(rules.map((r) => r.alert)).toEqual(phase.alerts)
    for (const r of rules) {
      expect(['critical', 'warning', 'info']).toContain(r.labels.severity)
      expect(r.labels.phase).toBe(String(phase.phase))
      expect(r.annotations.summary).toMatch(/^[A-Z][^\n]*\.$/)
      expect(r.annotations.description).toContain('{{ $value')
      expect(r.annotations.runbook_url).toBe(runbookUrl(config, phase, r.alert))
      expect(r.expr).toContain(`and on() (max(tenant_enforcement_mode{job="${config.app.job}", mode="${phase.mode}"}) == 1)`)
    }
  })

  it('per-phase snapshot of alert, severity, for and condition', () => {
    const summary = Object.fromEntries(config.phases.map((p) => [`phase ${p.phase} ${p.mode}`, phaseRules(config, p).map((r) => `${r.alert} [${r.labels.severity}] for ${r.for}: ${r.expr.split('\n')[0]}`)]))
    expect(summary).toMatchSnapshot()
  })

  it('thresholds come from config.thresholds', () => {
    const t = config.thresholds
    const rule = (name: string) => alertRules(files).find((r) => r.alert === name)!
    expect(rule('TenantViolationSpike').expr).toContain(`* 60 > ${t.violationSpikePerMinute}\n`)
    expect(rule('TenantEnforcementErrors').expr).toContain(`> ${t.errorRateWarning}\n`)
    expect(rule('TenantEnforcementRollback').expr).toContain(`> ${t.errorRateRollback}\n`)
    expect(rule('TenantBypassUsage').expr).toContain(`> ${t.bypassPerHour}\n`)
    expect(rule('TenantCheckLatencyHigh').expr).toContain(`* 1000 > ${t.checkLatencyWarningMs}\n`)
    expect(rule('TenantCheckLatencyCritical').expr).toContain(`* 1000 > ${t.checkLatencyCriticalMs}\n`)
    expect(rule('TenantViolationSpike').for).toBe(t.violationSpikeFor)
    expect(rule('TenantEnforcementRollback').for).toBe(t.errorRateRollbackFor)
  })

  it('the rollback alert names the rollback command from config.rollback', () => {
    for (const r of alertRules(files).filter((r) => r.alert === 'TenantEnforcementRollback')) {
      expect(r.labels.severity).toBe('critical')
      expect(r.annotations.description).toContain(`kubectl set env deployment/${config.app.job} TENANT_ENFORCEMENT_MODE=log_only`)
    }
  })

  it('every runbook_url points at a section of a generated runbook', () => {
    for (const r of alertRules(files)) {
      const [, file, anchor] = /\/([^/]+\.md)#(.+)$/.exec(r.annotations.runbook_url)!
      const runbook = files.find((f) => f.path === `alerts/runbooks/${file ?? ''}`)
      expect(runbook, r.annotations.runbook_url).toBeDefined()
      const headings = runbook!.content.split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3).toLowerCase())
      expect(headings).toContain(anchor ?? "")
    }
  })

  it('runbooks name the dashboard panel, the report command and the rollback for each alert', () => {
    const runbook = files.find((f) => f.path === 'alerts/runbooks/phase-2-selective-enforcement.md')!.content
    const section = runbook.slice(runbook.indexOf('## TenantEnforcementRollback'))
    expect(section).toContain('tenantfence / Tenant enforcement')
    expect(section).toContain('/d/tenantfence-enforcement?viewPanel=panel-5')
    expect(section).toContain('tenantfence report')
    expect(section).toContain('kubectl set env deployment/tenantfence-demo TENANT_ENFORCEMENT_MODE=log_only')
  })
})
