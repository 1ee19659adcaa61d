// `tenantfence generate` from the outside: a user's own config via --config/--out gets its own
// files and thresholds (and its promtool tests pass), and --check names what differs.
// The command runs in-process (test/helpers/cli.ts); one test runs the real CLI through tsx.
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import demo from '../tenantfence.config.ts'
import { parseConfig } from '../src/config/define.ts'
import { generateFiles } from '../src/generate/files.ts'
import { REPO } from './fixtures/generate/helpers.ts'
import { runCli } from './helpers/cli.ts'
import { promtool, promtoolTestRules } from './helpers/promtool.ts'
import { runTsx, testTimeoutFor } from './helpers/spawn.ts'
import { tempDir } from './helpers/tmp.ts'

const dir = tempDir('tenantfence-generate-')
const out = join(dir, 'ops')
const configFile = join(dir, 'acme.config.ts')

beforeAll(async () => {
  const template = readFileSync(resolve(REPO, 'test/fixtures/generate/user.config.ts.template'), 'utf8')
  writeFileSync(configFile, template.replaceAll('__CONFIG_INDEX__', resolve(REPO, 'src/config/index.ts')))
  const r = await runCli(['generate', '--config', configFile, '--out', out])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
})

const read = (path: string) => readFileSync(join(out, path), 'utf8')

describe('generate: a user config via --config and --out', () => {
  it('writes files named after its own phases, sourced from its own config file', () => {
    for (const f of ['alerts/phase-1-watch.rules.yml', 'alerts/phase-2-block-invoices.rules.yml', 'alerts/tests/phase-4-locked.test.yml', 'alerts/runbooks/phase-3-block-all.md', 'dashboards/tenant-violations.json', 'dashboards/tenant-enforcement.json']) {
      expect(existsSync(join(out, f)), f).toBe(true)
    }
    expect(read('alerts/phase-1-watch.rules.yml')).toContain('from acme.config.ts. DO NOT EDIT: change acme.config.ts and run `npx tenantfence generate --config acme.config.ts`')
    expect(existsSync(join(out, 'alerts/phase-1-log-only.rules.yml'))).toBe(false)
  })

  it('uses its job, probe routes, per-phase thresholds, fors, rollback and runbook base', () => {
    const phase2 = read('alerts/phase-2-block-invoices.rules.yml')
    expect(phase2).toContain('job="acme-billing"')
    expect(phase2).toContain('route!~"/livez|/readyz|/metrics"')
    expect(phase2).toContain('> 0.05\n')
    expect(phase2).toContain('> 0.002\n')
    expect(phase2).toContain('for: 4m')
    expect(read('alerts/phase-3-block-all.rules.yml')).toContain('> 0.001\n')
    expect(phase2).not.toContain('tenantfence-demo')
    expect(phase2).toContain('runbook_url: https://wiki.acme.test/runbooks/tenancy/phase-2-block-invoices.md#tenantenforcementrollback')
    expect(phase2).toContain('kubectl -n acme set env deployment/billing-api TENANT_ENFORCEMENT_MODE=log_only TENANT_ENFORCEMENT_ENABLED=true')
    expect(phase2).not.toContain('deployment/acme-billing')
    const enforcement = JSON.parse(read('dashboards/tenant-enforcement.json'))
    const errorRate = enforcement.panels.find((p: { id: number }) => p.id === 5)
    expect(errorRate.fieldConfig.defaults.thresholds.steps.map((s: { value: number | null }) => s.value)).toEqual([null, 0.001, 0.002, 0.05])
  })

  it('its generated promtool tests use its own models, routes and probe routes, never the demo\'s', () => {
    const tests = ['phase-1-watch', 'phase-2-block-invoices', 'phase-3-block-all', 'phase-4-locked', 'metrics-missing'].map((t) => read(`alerts/tests/${t}.test.yml`)).join('\n')
    for (const demoName of ['tenantfence-demo', '/api/users', 'User', 'nightly_cleanup', 'RefreshToken']) expect(tests).not.toContain(demoName)
    expect(tests).toContain('model="Invoice", endpoint="/invoices/:id"')
    expect(tests).toContain('route="/livez"')
    expect(tests).toContain('route="/readyz"')
    expect(tests).toContain('model="Project", severity="HIGH"')
  })

  it('differs from the demo config output', () => {
    const demoFiles = generateFiles(demo)
    const demoViolations = demoFiles.find((f) => f.path === 'dashboards/tenant-violations.json')!.content
    expect(read('dashboards/tenant-violations.json')).not.toBe(demoViolations)
  })

  it('its rule files load and its generated promtool tests pass', async () => {
    const rules = ['phase-0-ship-it-dark', 'phase-1-watch', 'phase-2-block-invoices', 'phase-3-block-all', 'phase-4-locked', 'metrics-missing']
    const check = await promtool(['check', 'rules', ...rules.map((r) => join(out, `alerts/${r}.rules.yml`))])
    expect(check.status, check.output).toBe(0)
    const tests = rules.map((r) => join(out, `alerts/tests/${r}.test.yml`))
    const verdicts = await promtoolTestRules(tests)
    for (const t of tests) expect(verdicts.get(t)!.passed, verdicts.get(t)!.output).toBe(true)
  })

  it('--check passes right after generating', async () => {
    const r = await runCli(['generate', '--check', '--config', configFile, '--out', out])
    expect(r.code, r.stderr).toBe(0)
  })

  it('--check exits non-zero naming each changed, missing and extra file', async () => {
    appendFileSync(join(out, 'alerts/phase-1-watch.rules.yml'), '# hand edit\n')
    rmSync(join(out, 'dashboards/tenant-enforcement.json'))
    writeFileSync(join(out, 'alerts/hand-made.rules.yml'), 'groups: []\n')
    const r = await runCli(['generate', '--check', '--config', configFile, '--out', out])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('changed: alerts/phase-1-watch.rules.yml')
    expect(r.stderr).toContain('missing: dashboards/tenant-enforcement.json')
    expect(r.stderr).toContain('extra:   alerts/hand-made.rules.yml')
    expect(r.stderr).not.toContain('phase-2-block-invoices')
    // regenerating repairs it and leaves the hand-made file alone
    expect((await runCli(['generate', '--config', configFile, '--out', out])).code).toBe(0)
    expect(existsSync(join(out, 'alerts/hand-made.rules.yml'))).toBe(true)
    rmSync(join(out, 'alerts/hand-made.rules.yml'))
    expect((await runCli(['generate', '--check', '--config', configFile, '--out', out])).code).toBe(0)
  })
})

describe('generate: the repo', () => {
  // The one real process: `npm run generate -- --check` as CI runs it, exit code included.
  it('generate --check passes on the committed dashboards/ and alerts/ (the real CLI through tsx)', { timeout: testTimeoutFor() }, async () => {
    const r = await runTsx('src/cli.ts', ['generate', '--check'])
    expect(r.stdout).toContain('up to date')
    expect(r.code, r.stderr).toBe(0)
  })

  it('an unknown option exits 2 with the options', async () => {
    const r = await runCli(['generate', '--chek'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--check')
  })

  it('refuses a latency threshold the histogram cannot reach (the alert would never fire)', () => {
    const config = parseConfig({ ...demo, phases: { 3: { thresholds: { checkLatencyCriticalMs: 30 } } } })
    expect(() => generateFiles(config)).toThrow(/phases\[3\]: thresholds.checkLatency\*Ms = 30 ms can never fire/)
  })
})
