// The baseline ratchet and the report formats, on a small app written to a temporary folder and
// edited between scans: moving code around keeps every key; a new unscoped query is the only new
// finding; a fixed one leaves the baseline as "gone". JSON and SARIF (validated against the SARIF
// 2.1.0 schema) carry the baseline state.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import AjvModule from 'ajv-draft-04'
import { afterAll, describe, expect, it } from 'vitest'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { baselineOf, compareBaseline, readBaseline, writeBaseline } from '../src/scan/baseline.ts'
import { formatJson } from '../src/scan/format-json.ts'
import { FINGERPRINT, formatSarif } from '../src/scan/format-sarif.ts'
import { formatText } from '../src/scan/format-text.ts'
import { scan, type ScanReport } from '../src/scan/scan.ts'
import config from '../tenantfence.config.ts'

const dir = mkdtempSync(join(tmpdir(), 'tenantfence-scan-baseline-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const datamodel = parseSchema(readFileSync('prisma/schema.prisma', 'utf8'))
const client = resolve('src/demo/generated/prisma/client.ts')
const context = resolve('src/enforcement/context.ts')

writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, allowImportingTsExtensions: true, noEmit: true, skipLibCheck: true, types: [] } }))
const header = `import type { PrismaClient } from '${client}'\nimport { getTenantContext } from '${context}'\ndeclare const prisma: PrismaClient\n`
const listAdmins = `export function listAdmins() {\n  return prisma.user.findMany({ where: { isActive: true }, take: 50 })\n}\n`
const exportLog = `export async function exportLog(since: Date) {\n  const rows = await prisma.auditLog.findMany({ where: { createdAt: { gte: since } } })\n  return rows.length\n}\n`
const scoped = `export function roles() {\n  return prisma.role.findMany({ where: { tenantId: Number(getTenantContext()!.tenantId) } })\n}\n`

let last: ScanReport | undefined
async function scanApp(code: string): Promise<ScanReport> {
  writeFileSync(join(dir, 'app.ts'), header + code)
  last = await scan({ config, datamodel, cwd: dir, paths: ['app.ts'], ...(last ? { oldProgram: last.program } : {}) })
  return last
}

describe('the baseline ratchet', () => {
  const file = join(dir, 'tenantfence-baseline.json')

  it('accepts today\'s findings, keyed without line numbers', async () => {
    const report = await scanApp(listAdmins + exportLog)
    writeBaseline(file, baselineOf(report.sites))
    const baseline = readBaseline(file)
    expect(baseline.findings.map((f) => [f.file, f.function, f.query, f.verdict, f.violation])).toEqual([
      ['app.ts', 'exportLog', 'AuditLog.findMany', 'unscoped', 'missing_tenant_id'],
      ['app.ts', 'listAdmins', 'User.findMany', 'unscoped', 'missing_tenant_id'],
    ])
    expect(compareBaseline(report.sites, baseline).gone).toEqual([])
    expect([...compareBaseline(report.sites, baseline).state.values()]).toEqual(['unchanged', 'unchanged'])
  }, 120_000)

  it('keeps every key when code moves: reordered functions, new lines, a new scoped query, changed values', async () => {
    const moved = `// a comment that shifts every line\n\n${scoped}\n${exportLog}\n\n${listAdmins.replace('take: 50', 'take: 100')}`
    const report = await scanApp(moved)
    const cmp = compareBaseline(report.sites, readBaseline(file))
    expect(cmp.gone).toEqual([])
    expect([...cmp.state.values()]).toEqual(['unchanged', 'unchanged'])
    expect(report.sites.find((s) => s.enclosing === 'roles')?.verdict).toBe('scoped')
  }, 120_000)

  it('fails only on the new finding, and reports the fixed one as gone', async () => {
    const added = `export function resetTokens(userId: number) {\n  return prisma.passwordResetToken.findMany({ where: { userId } })\n}\n`
    const fixed = exportLog.replace('createdAt: { gte: since }', 'createdAt: { gte: since }, tenantId: Number(getTenantContext()!.tenantId)')
    const report = await scanApp(listAdmins + fixed + added)
    const cmp = compareBaseline(report.sites, readBaseline(file))
    const state = Object.fromEntries(report.sites.filter((s) => cmp.state.has(s.key)).map((s) => [s.enclosing, cmp.state.get(s.key)]))
    expect(state).toEqual({ listAdmins: 'unchanged', resetTokens: 'new' })
    expect(cmp.gone.map((g) => g.function)).toEqual(['exportLog'])

    const outcome = { report, baselineFile: 'tenantfence-baseline.json', comparison: cmp }
    const text = formatText(outcome)
    expect(text).toContain('UNSCOPED NEW  app.ts:')
    expect(text).toContain('UNSCOPED (baseline)  app.ts:')
    expect(text).toMatch(/1 baseline entry is no longer found/)
    expect(text.trim().split('\n').at(-1)).toBe('2 findings (2 unscoped, 0 unverifiable), 1 scoped, 0 bypassed · 1 new (not in tenantfence-baseline.json)')

    const json = JSON.parse(formatJson(outcome, { cwd: dir }))
    expect(json.summary).toMatchObject({ queries: 3, scoped: 1, unscoped: 2, new: 1, gone: 1 })
    expect(json.tsconfig).toBe('tsconfig.json')
    expect(json.sites.map((s: { enclosing: string; baselineState: string | null }) => [s.enclosing, s.baselineState])).toEqual([
      ['listAdmins', 'unchanged'],
      ['exportLog', null],
      ['resetTokens', 'new'],
    ])
    expect(JSON.stringify(json)).not.toContain(tmpdir())

    const sarif = JSON.parse(formatSarif(outcome))
    // unicodeRegExp off: the published schema's `language` pattern is not valid with the u flag.
    const validate = new AjvModule.default({ allErrors: true, strict: false, unicodeRegExp: false, formats: { uri: true, 'uri-reference': true, 'date-time': true } }).compile(JSON.parse(readFileSync('test/fixtures/scan/sarif-2.1.0-rtm.5.json', 'utf8')))
    expect(validate(sarif), JSON.stringify(validate.errors, null, 2)).toBe(true)
    const results = sarif.runs[0].results
    expect(results.map((r: { ruleId: string; baselineState: string; level: string }) => [r.ruleId, r.baselineState, r.level])).toEqual([
      ['tenantfence/missing_tenant_id', 'unchanged', 'error'],
      ['tenantfence/missing_relation_filter', 'new', 'error'],
    ])
    const rules = sarif.runs[0].tool.driver.rules
    for (const r of results) expect(rules[r.ruleIndex].id).toBe(r.ruleId)
    expect(results[1].locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: 'app.ts', uriBaseId: '%SRCROOT%' },
      region: expect.objectContaining({ startLine: report.sites[2]!.line, startColumn: report.sites[2]!.column }),
    })
    expect(results[1].partialFingerprints[FINGERPRINT]).toBe(report.sites[2]!.key)
  }, 120_000)

  it('refuses a baseline that is not one, naming the file and the problem', () => {
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ tool: 'tenantfence scan', version: 1, findings: [{ key: 'k' }] }))
    expect(() => readBaseline(bad)).toThrow(/bad\.json is not a tenantfence scan baseline \(version 1\): findings\.0\.file/)
    writeFileSync(bad, '{')
    expect(() => readBaseline(bad)).toThrow(/bad\.json is not JSON/)
    expect(() => readBaseline(join(dir, 'missing.json'))).toThrow(/missing\.json not found: create it with --baseline .* --update-baseline/)
  })
})
