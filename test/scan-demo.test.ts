// The scan on the demo API (issue 15, point 4): every broken path of src/demo/app.ts (the `// BUG`
// lines, the rare audit export included) is found with its file, line and model, and nothing in
// the fixed code; the nightly job's bypass is not a finding. The demo prints the same result in
// its phase 0 step.
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEMO_FIXES } from '../src/demo/fixes.ts'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { describeDemoFindings } from '../src/scan/demo-line.ts'
import { isFinding, scan, type ScanReport } from '../src/scan/scan.ts'
import config from '../tenantfence.config.ts'

const APP = 'src/demo/app.ts'
const appLines = readFileSync(APP, 'utf8').split('\n')
const bugLines = appLines.flatMap((l, i) => (l.includes('// BUG') ? [i + 1] : []))

let report: ScanReport
beforeAll(async () => {
  report = await scan({ config, datamodel: parseSchema(readFileSync('prisma/schema.prisma', 'utf8')), paths: [APP, 'src/demo/jobs.ts'], references: 'violation' })
}, 120_000)

describe('tenantfence scan on the demo', () => {
  it('finds every broken path of the demo API, and only those', () => {
    expect(bugLines).toHaveLength(Object.keys(DEMO_FIXES).length)
    const findings = report.sites.filter(isFinding)
    expect(findings.map((s) => `${s.file}:${s.line}`)).toEqual(bugLines.map((l) => `${APP}:${l}`))
    expect(findings.every((s) => s.verdict === 'unscoped')).toBe(true)
    // each broken path is the one its fix names, by the model whose rows leak and the route
    // (the foreign-key IDOR is a SecurityAlert write that reaches another tenant's User)
    const exposed = (s: (typeof findings)[number]) => s.findingModel ?? s.model
    expect(findings.map(exposed).sort()).toEqual(Object.values(DEMO_FIXES).map((f) => f.model).sort())
    for (const f of Object.values(DEMO_FIXES)) {
      const [method, route] = f.endpoint.split(' ')
      expect(findings.filter((s) => exposed(s) === f.model).map((s) => s.enclosing)).toContain(`createDemoApp > app.${method!.toLowerCase()}('${route}')`)
    }
    expect(report.sites.find((s) => s.enclosing.includes('/assignee') && isFinding(s))).toMatchObject({ model: 'SecurityAlert', findingModel: 'User', violation: 'unverified_reference' })
  })

  it('by default, as the runtime (references: verify), lists the foreign-key IDOR as verified at run time', async () => {
    const byDefault = await scan({ config, datamodel: parseSchema(readFileSync('prisma/schema.prisma', 'utf8')), paths: [APP], oldProgram: report.program })
    const assignee = byDefault.sites.filter((s) => s.enclosing.includes('/assignee'))
    expect(assignee.map((s) => s.verdict)).toEqual(['scoped', 'scoped'])
    expect(assignee.map((s) => s.verifiedAtRunTime)).toEqual([[], ['User (data.userId)']])
    expect(byDefault.sites.filter(isFinding)).toHaveLength(bugLines.length - 1)
  }, 60_000)

  it('finds the rare audit export that log_only never sees in the demo', () => {
    const exportLine = appLines.findIndex((l) => l.includes('auditLog.findMany({ where: { createdAt')) + 1
    expect(report.sites.find((s) => s.line === exportLine && s.file === APP)).toMatchObject({ model: 'AuditLog', verdict: 'unscoped', violation: 'missing_tenant_id', severity: 'CRITICAL' })
  })

  it('judges every other query of the API scoped, and the nightly job bypassed', () => {
    const rest = report.sites.filter((s) => s.file === APP && !bugLines.includes(s.line))
    expect(rest.length).toBeGreaterThanOrEqual(12)
    expect(rest.filter((s) => s.verdict !== 'scoped')).toEqual([])
    expect(report.sites.filter((s) => s.file === 'src/demo/jobs.ts').map((s) => s.verdict)).toEqual(['bypassed', 'bypassed'])
  })

  it('gives the demo its phase 0 line', () => {
    const line = describeDemoFindings(report)
    expect(line).toMatch(/^found before deploying: 8 unscoped queries by `tenantfence scan src\/demo\/app.ts` \(\d+\.\d s\): /)
    for (const l of bugLines) expect(line).toContain(`(app.ts:${l})`)
  })
})
