// The scan on a fixture of query shapes (test/fixtures/scan/app/shapes.ts): each query carries its
// expected verdict in an `// expect:` comment on the line above, so the table lives next to the
// code it is about. Also: what the reasons say, what is not a query, and keys of twin calls.
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { scan, type ScanReport, type ScanSite } from '../src/scan/scan.ts'
import config from '../tenantfence.config.ts'

const FIXTURE = 'test/fixtures/scan/app/shapes.ts'
const REFERENCES = 'test/fixtures/scan/app/references.ts'
const source = readFileSync(FIXTURE, 'utf8').split('\n')
const datamodel = parseSchema(readFileSync('prisma/schema.prisma', 'utf8'))

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
  report = await scan({ config, datamodel, paths: [FIXTURE, REFERENCES] })
}, 120_000)

describe('tenantfence scan on the shapes fixture', () => {
  it('finds exactly the marked queries, each with its expected verdict', () => {
    expect(expected.size).toBeGreaterThan(35)
    const got = new Map(report.sites.filter((s) => s.file === FIXTURE).map((s) => [s.line, s.verdict === 'unscoped' ? `unscoped ${s.violation}` : s.verdict]))
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected))
  })

  it('resolves clients by type: a lookalike object is not a query, an `any` receiver is reported as unresolved', () => {
    expect(report.sites.some((s) => s.line === lineOf('lookalike.user.findMany'))).toBe(false)
    expect(report.unresolved).toEqual([expect.objectContaining({ line: lineOf('untyped.user.findMany'), operation: 'findMany' })])
  })

  it('names models from the types, whatever the variable is called', () => {
    expect(at('tx.user.count()')).toMatchObject({ model: 'User', operation: 'count', enclosing: 'clients > db.$transaction()' })
    expect(at('users.findFirst')).toMatchObject({ model: 'User', operation: 'findFirst' })
    expect(at('ctx.services.db.securityAlert')).toMatchObject({ model: 'SecurityAlert' })
    expect(at('this.deps.prisma.user')).toMatchObject({ model: 'User', enclosing: 'UserService > list' })
    expect(at('$queryRaw`')).toMatchObject({ model: '$raw', operation: '$queryRaw' })
  })

  it('says why a call site is unverifiable', () => {
    expect(at('findMany({ where: filter })').reasons).toEqual(['where: `filter` is a parameter of hidden'])
    expect(at('{ ...opts }').reasons[0]).toMatch(/spread `\.\.\.opts`/)
    expect(at('tenantId: tenant }').reasons).toEqual(["where.tenantId: `tenant` is a parameter of hidden; not traced to the request's tenant"])
    // only the value that pins the tenant is named, not the id and email beside it
    expect(at('id: tenant + 1').reasons).toEqual(["where.tenantId: `tenant` is a parameter of hidden; not traced to the request's tenant"])
    expect(at('tenantId: reassignable').reasons[0]).toMatch(/may be reassigned/)
    expect(at('getTenantContext()?.tenantId').reasons[0]).toMatch(/is the request's tenant but may be undefined/)
    expect(at('tenantId: req.body.tenantId').reasons[0]).toMatch(/has type any/)
    expect(at("findMany({ where: { tenantId: 1 } })").reasons[0]).toMatch(/names tenant 1 by a literal/)
    expect(at('runWithTenant({ tenantId: 7 }, () => prisma.user.findMany({ where: { tenantId } }))').reasons[0]).toMatch(/`tenantId` is a parameter of contexts/)
  })

  it('says why a query stayed unverifiable, and the one change that would make it judgeable', () => {
    expect(at('where: { tenantId: t2 }')).toMatchObject({
      reasons: ["where.tenantId: `t2` is destructured from a parameter of followed; not traced to the request's tenant"],
      fix: expect.stringMatching(/^if every caller passes the request's tenant, mark `PlainOptions\.tenantId` with @requestTenant/),
    })
    expect(at('where: widened(tenant)').fix).toMatch(/^let the helper return an object literal/)
    expect(at('where: built })')).toMatchObject({ reasons: [expect.stringMatching(/`built` is changed after it is built/)], fix: expect.stringMatching(/^build the object in one literal/) })
    expect(at('...(email && { tenantId })').reasons).toEqual([expect.stringMatching(/pins the tenant only inside a conditional spread/)])
    expect(at('tenantId: reassignable').fix).toMatch(/^declare it with const/)
    expect(at('getTenantContext()?.tenantId').fix).toMatch(/^throw when the tenant context is missing/)
    expect(at('findMany({ where: filter })').fix).toMatch(/^build the filter in this function/)
  })

  it('says what is wrong with an unscoped call site, and what it could not see', () => {
    expect(at("findMany({ where: { isActive: true } })").reasons).toEqual(['missing_tenant_id on User at where: nothing in its filter or data sets the tenant field to one tenant (User is scoped by `tenantId`)'])
    const hiddenSelect = at('findMany({ where: { isActive: true }, select })')
    expect(hiddenSelect.verdict).toBe('unscoped')
    expect(hiddenSelect.reasons[1]).toMatch(/select: `select` is a parameter of hidden \(it could only add findings\)/)
    expect(at('include: { rolePermissions: true }')).toMatchObject({ violation: 'unscoped_nested_read', findingModel: 'RolePermission', severity: 'MEDIUM' })
  })

  it('judges a foreign key the query does not pin as the runtime does: verified at run time by default, nullable or not', async () => {
    const refs = readFileSync(REFERENCES, 'utf8').split('\n')
    const line = (needle: string) => refs.findIndex((l) => l.includes(needle)) + 1
    const got = (r: ScanReport, needle: string) => r.sites.find((s) => s.file === REFERENCES && s.line === line(needle))!
    const verify = report
    for (const needle of ['data: { userId } })', 'data: { userId: maybeUserId } })']) {
      expect(got(verify, needle)).toMatchObject({ verdict: 'scoped', verifiedAtRunTime: ['User (data.userId)'] })
    }
    const violation = await scan({ config, datamodel, paths: [REFERENCES], oldProgram: report.program, references: 'violation' })
    for (const needle of ['data: { userId } })', 'data: { userId: maybeUserId } })']) {
      expect(got(violation, needle)).toMatchObject({ verdict: 'unscoped', violation: 'unverified_reference', findingModel: 'User' })
    }
    // every unproven key is named, not only the first
    expect(got(violation, 'userRole.create').reasons).toEqual([
      expect.stringMatching(/^unverified_reference on UserRole at data\.userId: /),
      expect.stringMatching(/^unverified_reference on Role at data\.roleId: /),
    ])
  }, 60_000)

  it('gives twin calls in one function distinct keys, without line numbers', () => {
    const twins = report.sites.filter((s) => s.enclosing === 'twins')
    expect(twins).toHaveLength(2)
    expect(twins[0]!.key).toBe(`${FIXTURE}|twins|Role.findMany|${twins[0]!.shape}`)
    expect(twins[1]!.key).toBe(`${twins[0]!.key}#2`)
    for (const s of report.sites) expect(s.key).not.toMatch(new RegExp(`\\b${s.line}\\b`))
  })
})
