// The scan with two levels of tenancy (issue 22): Langfuse's schema as Organization → Project, and
// query functions written after its organization and project procedures
// (test/fixtures/real-apps/langfuse/levels/). Each query carries its expected verdict, violation and
// level in an `// expect:` comment above it. The one-level scan's own table is test/scan-shapes.test.ts.
// Slow: it generates the Langfuse fixture's Prisma client on first use (seconds), as test/scan-real-apps.slow.test.ts does.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config/index.ts'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { formatJson } from '../src/scan/format-json.ts'
import { formatText } from '../src/scan/format-text.ts'
import { scan, type ScanReport, type ScanSite } from '../src/scan/scan.ts'
import { ensureRealAppClient } from './helpers/real-app-client.ts'

const FIXTURE = 'test/fixtures/real-apps/langfuse/levels/queries.ts'
const source = readFileSync(FIXTURE, 'utf8').split('\n')

const config = parseConfig({
  levels: [
    { name: 'organization', model: 'Organization', field: 'orgId' },
    { name: 'project', model: 'Project', field: 'projectId', parent: 'organization' },
  ],
  models: {
    OrganizationMembership: { severity: 'HIGH', field: 'orgId' },
    Dataset: { severity: 'HIGH' },
    DatasetItem: { severity: 'MEDIUM' },
    Prompt: { severity: 'HIGH' },
  },
  globalModels: ['User'],
})

/** line (1-based) of each query → its expectation, from the comment on the line above. */
const expected = new Map<number, string>()
source.forEach((text, i) => {
  const m = text.match(/\/\/ expect: (.+)$/)
  if (m) expected.set(i + 2, m[1]!.trim())
})
const lineOf = (needle: string) => source.findIndex((l) => l.includes(needle)) + 1

let report: ScanReport
const at = (needle: string): ScanSite => {
  const line = lineOf(needle)
  const site = report.sites.find((s) => s.file === FIXTURE && s.line === line)
  if (!site) throw new Error(`no query found on line ${line} (${needle})`)
  return site
}

beforeAll(async () => {
  const appDir = await ensureRealAppClient('langfuse')
  const datamodel = parseSchema(readFileSync(join(appDir, 'schema.prisma'), 'utf8'))
  report = await scan({ config, datamodel, paths: [FIXTURE] })
}, 120_000)

describe('tenantfence scan with two levels (Organization → Project)', () => {
  it('judges each query with each level and names the level that fails', () => {
    expect(expected.size).toBeGreaterThan(10)
    const got = new Map(report.sites.filter((s) => s.file === FIXTURE).map((s) => [s.line, [s.verdict, s.verdict === 'unscoped' ? s.violation : undefined, s.level].filter(Boolean).join(' ')]))
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected))
    const text = formatText({ report })
    expect(text).toContain(`UNSCOPED  ${FIXTURE}:${lineOf('where: { name: input.name }')}:12  Dataset.findFirst [HIGH] missing_tenant_id (project level)`)
    expect(text).toContain(`UNSCOPED  ${FIXTURE}:${lineOf("where: { role: 'OWNER' }")}:12  OrganizationMembership.findMany [HIGH] missing_tenant_id (organization level)`)
    const json = JSON.parse(formatJson({ report })) as { sites: Array<{ line: number; level?: string }> }
    expect(json.sites.find((x) => x.line === lineOf('where: { name: input.name }'))?.level).toBe('project')
  })

  it('says in each reason which level failed, and why a value is not the level it pins', () => {
    expect(at("where: { role: 'OWNER' }").reasons).toEqual([
      'missing_tenant_id on OrganizationMembership (organization level) at where: nothing in its filter or data sets the tenant field to one tenant (OrganizationMembership is scoped by `orgId`)',
    ])
    expect(at('where: { name: input.name }').reasons[0]).toMatch(/^missing_tenant_id on Dataset \(project level\) at where: /)
    expect(at('projectId: input.orgId').reasons).toEqual(["where.projectId: `input.orgId` is the request's organization id, compared to the project level's field"])
    expect(at('projectId: String(tenantId)')).toMatchObject({
      reasons: [expect.stringMatching(/`String\(tenantId\)` is the request's tenant, but names no level/)],
      fix: expect.stringMatching(/tenantIds\.project, or tag its declaration `@requestTenant project`/),
    })
    expect(at("projectId: 'proj_2'").reasons[0]).toMatch(/names tenant proj_2 by a literal/)
    // an untraced id: which level's it would have to be, and the tag that says so
    expect(at('projectId: input.targetProjectId')).toMatchObject({
      reasons: [expect.stringMatching(/^where\.projectId: .*; not traced to the request's project id$/)],
      fix: expect.stringMatching(/with @requestTenant project \(on the parameter, or on the property of its type\); else read it from getTenantContext\(\)\.tenantIds\.project$/),
    })
  })

  it("judges an organization admin's query in the organization-wide context only where the code declares it", () => {
    // declared (@tenantScope organization, or runWithTenant's scope): project rows proven through `project: { orgId }`
    expect(at('select: { id: true, name: true, projectId: true }').verdict).toBe('scoped')
    expect(at('prisma.dataset.count({ where: { project: { orgId } } })').verdict).toBe('scoped')
    // not declared: the same query fails in a request of one project, so it is unverifiable, with the fix
    for (const needle of ['where: { project: { orgId: input.orgId } } })', 'project: { orgId: ctx.session.orgId }']) {
      expect(at(needle)).toMatchObject({
        verdict: 'unverifiable',
        level: 'project',
        reasons: [expect.stringMatching(/^scoped only in an organization-wide context \(scope: 'organization', an organization admin's\): in a request of one project it is missing_tenant_id on Dataset \(project level\)$/)],
        fix: expect.stringMatching(/tag its function `@tenantScope organization`/),
      })
    }
    // organization-wide, a project id proves nothing, and a model with no way to its organization is never proven
    expect(at('where: { projectId: input.projectId } })').reasons).toEqual([expect.stringMatching(/in the organization-wide context it is missing_relation_filter on Dataset \(project level\): .* never by a project id$/)])
    expect(at('datasetItem.findMany').reasons[0]).toMatch(/^missing_tenant_id on DatasetItem \(project level, organization-wide\) at where: .*DatasetItem rows cannot be proven in the organization-wide scope/)
  })
})
