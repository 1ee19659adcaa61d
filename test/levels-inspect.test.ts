// The check of two levels of tenancy, on compiled policies without a database: each level's
// one-level check, the merge rule for the lower level's model (Team), the organisation-wide scope
// (an org admin) and the org-only context. Schema: a small organisation → team app.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config/index.ts'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import type { Finding } from '../src/enforcement/inspect.ts'
import { checkLevels, compileLevels, contextFinding, inspectLevels, membershipFinding, membershipQuery, mergeLevels, NO_TENANT, wideConfig, type LevelContext } from '../src/enforcement/levels-inspect.ts'

const schema = parseSchema(`
model Organization {
  id        String     @id
  name      String
  teams     Team[]
  members   Member[]
  documents Document[]
}
model Team {
  id           String       @id
  orgId        String
  name         String
  organization Organization @relation(fields: [orgId], references: [id])
  documents    Document[]
  webhooks     Webhook[]
}
model Member {
  id           String       @id
  orgId        String
  email        String
  organization Organization @relation(fields: [orgId], references: [id])
}
model Document {
  id           String       @id
  teamId       String
  orgId        String
  title        String
  team         Team         @relation(fields: [teamId], references: [id])
  organization Organization @relation(fields: [orgId], references: [id])
  comments     Comment[]
}
model Comment {
  id         String   @id
  documentId String
  body       String
  document   Document @relation(fields: [documentId], references: [id])
}
model Webhook {
  id     String @id
  teamId String
  url    String
  team   Team   @relation(fields: [teamId], references: [id])
}
model Template {
  id     String @id
  teamId String
  name   String
}
`)
const config = parseConfig({
  levels: [
    { name: 'organization', model: 'Organization', field: 'orgId' },
    { name: 'team', model: 'Team', field: 'teamId', parent: 'organization' },
  ],
  models: {
    Member: { severity: 'HIGH', field: 'orgId' },
    Document: { severity: 'HIGH' },
    Comment: { severity: 'MEDIUM', via: 'document' },
    Webhook: { severity: 'HIGH' },
    Template: { severity: 'LOW' }, // a team's, with no relation to Team and no orgId: never provable org-wide
  },
})
const compiled = compileLevels(config, schema)
const team: LevelContext = { tenantIds: { organization: 'o1', team: 't1' } }
const admin: LevelContext = { tenantIds: { organization: 'o1' }, scope: 'organization' }
const orgOnly: LevelContext = { tenantIds: { organization: 'o1' } }

const check = (ctx: LevelContext | undefined, model: string | undefined, operation: string, args: unknown): Finding[] => checkLevels(compiled, model, operation, args, ctx).findings
const brief = (fs: readonly Finding[]) => fs.map((f) => `${f.level}:${f.model}:${f.violation}@${f.path}`)

describe('two levels: each level judges its own rows', () => {
  it('passes queries scoped to the team and to the organisation', () => {
    expect(check(team, 'Document', 'findMany', { where: { teamId: 't1' } })).toEqual([])
    expect(check(team, 'Comment', 'findMany', { where: { document: { teamId: 't1' } } })).toEqual([])
    expect(check(team, 'Member', 'findMany', { where: { orgId: 'o1' } })).toEqual([])
  })

  it('reports a team-level leak with level team and an org-level leak with level organization', () => {
    expect(brief(check(team, 'Document', 'findMany', {}))).toEqual(['team:Document:missing_tenant_id@where'])
    expect(brief(check(team, 'Member', 'findMany', { where: { email: 'a@b' } }))).toEqual(['organization:Member:missing_tenant_id@where'])
    // the organisation id never proves a team's row in the team scope (Document carries orgId too)
    expect(brief(check(team, 'Document', 'findMany', { where: { orgId: 'o1' } }))).toEqual(['team:Document:missing_tenant_id@where'])
  })

  it('a sibling team of the same organisation, and a team of another organisation, are mismatches', () => {
    expect(check(team, 'Webhook', 'findMany', { where: { teamId: 't2' } })).toEqual([
      { model: 'Webhook', severity: 'HIGH', violation: 'tenant_mismatch', path: 'where', queryTenantIds: ['t2'], level: 'team' },
    ])
    expect(brief(check(team, 'Member', 'findMany', { where: { orgId: 'o2' } }))).toEqual(['organization:Member:tenant_mismatch@where'])
    // a team row's own organisation copy naming another organisation is a mismatch though its team proves it
    expect(brief(check(team, 'Document', 'create', { data: { id: 'd1', title: 'x', teamId: 't1', orgId: 'o2' } }))).toEqual(['organization:Document:tenant_mismatch@data.orgId'])
    expect(brief(check(team, 'Document', 'updateMany', { where: { teamId: 't1' }, data: { orgId: 'o2' } }))).toEqual(['organization:Document:tenant_mismatch@data.orgId'])
  })

  it('proves the lower level model (Team) by either level, never one of another organisation', () => {
    expect(check(team, 'Team', 'findMany', { where: { orgId: 'o1' } })).toEqual([]) // the organisation's teams
    expect(check(team, 'Team', 'findUnique', { where: { id: 't1' } })).toEqual([]) // its own team
    expect(brief(check(team, 'Team', 'findMany', {}))).toEqual(['organization:Team:missing_tenant_id@where', 'team:Team:missing_tenant_id@where'])
    expect(brief(check(team, 'Team', 'findUnique', { where: { id: 't2' } }))).toEqual(['organization:Team:missing_tenant_id@where', 'team:Team:tenant_mismatch@where'])
    // a sibling team's row with the organisation pinned is a row of the organisation
    expect(check(team, 'Team', 'findMany', { where: { id: 't2', orgId: 'o1' } })).toEqual([])
    expect(brief(check(team, 'Team', 'findMany', { where: { id: 't2', orgId: 'o2' } }))).toEqual(['organization:Team:tenant_mismatch@where', 'team:Team:tenant_mismatch@where'])
    // moving its own team to another organisation: the team proves the row, the organisation refuses the move
    expect(brief(check(team, 'Team', 'update', { where: { id: 't1' }, data: { orgId: 'o2' } }))).toEqual(['organization:Team:tenant_mismatch@data.orgId'])
  })

  it('what a team row the organisation proves holds stays the team level\'s (found by the two-level fuzz)', () => {
    // deleting its own organisation as a team: the sibling teams are the organisation's, but the
    // delete cascades into their documents and webhooks
    expect(brief(check(team, 'Organization', 'delete', { where: { id: 'o1' } }))).toEqual(expect.arrayContaining(['team:Document:unscoped_nested_write@', 'team:Webhook:unscoped_nested_write@']))
    expect(check(admin, 'Organization', 'delete', { where: { id: 'o1' } })).toEqual([]) // an org admin may
    // its own webhook moved under a sibling team the organisation proves: the webhook would move
    expect(brief(check(team, 'Team', 'update', { where: { id: 't2', orgId: 'o1' }, data: { webhooks: { connect: { id: 'w1' } } } }))).toEqual(['team:Webhook:unscoped_nested_write@data.webhooks.connect'])
    expect(brief(check(team, 'Team', 'update', { where: { id: 't2', orgId: 'o1' }, data: { webhooks: { connectOrCreate: { where: { id: 'w1' }, create: { id: 'w1', url: 'u' } } } } }))).toEqual(['team:Webhook:unscoped_nested_write@data.webhooks.connectOrCreate.where', 'team:Webhook:missing_tenant_id@data.webhooks.connectOrCreate.create'])
    // its own team with its organisation: the team pins itself, a team of the organisation (membership)
    expect(check(team, 'Team', 'findUnique', { where: { id: 't1' }, include: { organization: { include: { members: true } } } })).toEqual([])
    expect(brief(check(team, 'Team', 'findUnique', { where: { id: 't2' }, include: { organization: true } }))).toContain('organization:Organization:unscoped_nested_read@include.organization')
  })

  it('nested reads and writes per level', () => {
    expect(check(team, 'Team', 'findUnique', { where: { id: 't1' }, include: { documents: { include: { comments: true } }, webhooks: true } })).toEqual([])
    // the organisation's teams with every team's documents: the teams are the organisation's, the documents are not this team's
    expect(brief(check(team, 'Organization', 'findUnique', { where: { id: 'o1' }, include: { teams: { include: { documents: true } }, members: true } }))).toEqual(['team:Document:unscoped_nested_read@include.teams.include.documents'])
    expect(check(team, 'Organization', 'update', { where: { id: 'o1' }, data: { members: { create: { id: 'm1', email: 'a@b' } } } })).toEqual([])
    expect(check(team, 'Team', 'update', { where: { id: 't1' }, data: { webhooks: { create: { id: 'w1', url: 'u' } } } })).toEqual([])
    expect(brief(check(team, 'Team', 'update', { where: { id: 't1' }, data: { webhooks: { updateMany: { where: {}, data: { teamId: 't2' } } } } }))).toEqual(['team:Webhook:tenant_mismatch@data.webhooks.updateMany.data.teamId'])
    // two global hops in the team level's policy (Member → Organization → Team): still checked
    expect(brief(check(team, 'Member', 'findMany', { where: { orgId: 'o1' }, include: { organization: { include: { teams: { include: { webhooks: true } } } } } }))).toEqual(['team:Webhook:unscoped_nested_read@include.organization.include.teams.include.webhooks'])
  })

  it('verifies each level reference with its own policy and tenant', () => {
    // a webhook (a team row; global for the organisation level) linked to a team: the organisation level looks the team up with o1
    const runs = inspectLevels(compiled, 'Webhook', 'create', { data: { id: 'w1', url: 'u', team: { connect: { id: 't2' } } } }, team)
    const org = runs.find((r) => r.level === 'organization')!
    expect([org.policy, org.inspection.tenant, org.inspection.references.map((x) => x.model)]).toEqual([compiled.policies.get('organization'), 'o1', ['Team']])
    const own = runs.find((r) => r.level === 'team')!
    expect([own.policy, own.inspection.tenant]).toEqual([compiled.policies.get('team'), 't1'])
    expect(brief(own.inspection.findings)).toEqual(['team:Webhook:tenant_mismatch@data.team.connect'])
  })

  it('reports raw SQL once', () => {
    expect(brief(check(team, undefined, '$queryRaw', {}))).toEqual(['organization:$raw:raw_query@'])
    expect(check(team, 'Document', 'findRaw', {})).toHaveLength(1)
  })

  it('outside a request, each level names its own tenant', () => {
    expect(check(undefined, 'Document', 'findMany', { where: { teamId: 't2' } })).toEqual([])
    expect(check(undefined, 'Member', 'findMany', { where: { orgId: 'o2' } })).toEqual([])
    expect(brief(check(undefined, 'Member', 'findMany', {}))).toEqual(['organization:Member:missing_tenant_id@where'])
  })
})

describe('two levels: organisation-wide scope and an org-only context', () => {
  it('projects the lower level models onto the organisation, and lists what it cannot prove', () => {
    const wide = wideConfig(config, schema)
    expect(wide.config.models).toMatchObject({ Team: { field: 'orgId' }, Member: { field: 'orgId' }, Document: { field: 'orgId' }, Webhook: { via: 'team' }, Comment: { via: 'document' } })
    expect(wide.unprovable).toEqual(['Template'])
  })

  it("an org admin's scope proves team rows through the team's organisation or the row's own organisation field", () => {
    expect(check(admin, 'Webhook', 'findMany', { where: { team: { orgId: 'o1' } } })).toEqual([])
    expect(check(admin, 'Document', 'findMany', { where: { orgId: 'o1' } })).toEqual([])
    expect(check(admin, 'Comment', 'findMany', { where: { document: { orgId: 'o1' } } })).toEqual([])
    expect(check(admin, 'Team', 'findMany', { where: { orgId: 'o1' }, include: { webhooks: true, documents: true } })).toEqual([])
    expect(check(admin, 'Member', 'findMany', { where: { orgId: 'o1' } })).toEqual([])
    // a team id alone, or the organisation id where the row does not carry it, proves nothing org-wide
    expect(brief(check(admin, 'Webhook', 'findMany', { where: { teamId: 't1' } }))).toEqual(['team:Webhook:missing_relation_filter@where'])
    expect(brief(check(admin, 'Webhook', 'findMany', { where: { team: { orgId: 'o2' } } }))).toEqual(['team:Webhook:tenant_mismatch@where.team', 'team:Team:tenant_mismatch@where.team'])
    // a write into a team of another organisation: the foreign key is looked up with the wide policy
    const runs = inspectLevels(compiled, 'Document', 'create', { data: { id: 'd1', title: 'x', orgId: 'o1', teamId: 't9' } }, admin)
    expect(runs.map((r) => [r.wide, r.inspection.tenant, r.inspection.references.map((x) => x.model)])).toEqual([[true, 'o1', ['Document', 'Team']]])
  })

  it('never proves an unprovable model org-wide, whatever the filter names', () => {
    for (const where of [{ teamId: 't1' }, { teamId: 'o1' }, {}]) {
      const [f, ...rest] = check(admin, 'Template', 'findMany', { where })
      expect(rest).toEqual([])
      expect(f).toMatchObject({ model: 'Template', level: 'team', violation: 'missing_tenant_id' })
      expect(f!.detail).toMatch(/cannot be proven in the organization-wide scope/)
    }
    expect(check(admin, 'Template', 'create', { data: { id: 'x', name: 'n', teamId: 'o1' } })[0]).toMatchObject({ model: 'Template', violation: 'missing_tenant_id' })
  })

  it('an org-only context without scope proves organisation rows and no team row', () => {
    expect(check(orgOnly, 'Member', 'findMany', { where: { orgId: 'o1' } })).toEqual([])
    expect(check(orgOnly, 'Team', 'findMany', { where: { orgId: 'o1' } })).toEqual([])
    expect(brief(check(orgOnly, 'Webhook', 'findMany', { where: { team: { orgId: 'o1' } } }))).toEqual(['team:Webhook:missing_tenant_id@where'])
    expect(brief(check(orgOnly, 'Document', 'findMany', { where: { teamId: 't1' } }))).toEqual(['team:Document:tenant_mismatch@where'])
    expect(brief(check(orgOnly, 'Team', 'findUnique', { where: { id: 't1' } }))).toEqual(['organization:Team:missing_tenant_id@where', 'team:Team:tenant_mismatch@where'])
    expect(inspectLevels(compiled, 'Document', 'findMany', { where: { teamId: 't1' } }, orgOnly).find((r) => r.level === 'team')!.inspection.tenant).toBe(NO_TENANT)
  })
})

describe('two levels: the context and the merge', () => {
  it('refuses level names the config does not have, and a two-level context without tenantIds', () => {
    expect(contextFinding(compiled, team)).toBeUndefined()
    expect(contextFinding(compiled, admin)).toBeUndefined()
    expect(contextFinding(compiled, undefined)).toBeUndefined()
    expect(contextFinding(compiled, { tenantIds: { organization: 'o1', teem: 't1' } })).toMatchObject({ model: 'Team', violation: 'tenant_mismatch', path: 'context', level: 'team', detail: expect.stringMatching(/valid: organization, team/) })
    expect(contextFinding(compiled, { tenantId: 't1' })).toMatchObject({ path: 'context', detail: expect.stringMatching(/needs tenantIds/) })
  })

  it('names the membership lookup and its finding', () => {
    expect(membershipQuery(compiled, 'o1', 't1')).toEqual({ where: { id: 't1', orgId: 'o1' }, select: { id: true } })
    expect(membershipFinding(compiled)).toMatchObject({ model: 'Team', violation: 'tenant_mismatch', path: 'context', level: 'team' })
  })

  it('drops a level finding on the lower model only when the other level proves it and its list was not cut', () => {
    const missing = (level: string, model = 'Team'): Finding => ({ model, severity: 'HIGH', violation: 'missing_tenant_id', path: 'where', level })
    expect(mergeLevels(compiled, [{ level: 'organization', findings: [missing('organization')] }, { level: 'team', findings: [] }])).toEqual([])
    const cut = Array.from({ length: 10 }, () => missing('team', 'Webhook'))
    expect(mergeLevels(compiled, [{ level: 'organization', findings: [missing('organization')] }, { level: 'team', findings: cut }])).toHaveLength(11)
    // the organisation's evidence (another organisation's team) is never dropped; the team level's (a sibling team) is, when the organisation proves it
    const mismatch: Finding = { ...missing('organization'), violation: 'tenant_mismatch' }
    expect(mergeLevels(compiled, [{ level: 'organization', findings: [mismatch] }, { level: 'team', findings: [] }])).toEqual([mismatch])
    const sibling: Finding = { ...missing('team'), violation: 'tenant_mismatch' }
    expect(mergeLevels(compiled, [{ level: 'organization', findings: [] }, { level: 'team', findings: [sibling] }])).toEqual([])
    expect(mergeLevels(compiled, [{ level: 'organization', findings: [missing('organization')] }, { level: 'team', findings: [sibling] }])).toHaveLength(2)
    // a carrier (Document.orgId) is proven by its team only: the team's finding is never dropped, the organisation's unproven-kind ones always
    expect(mergeLevels(compiled, [{ level: 'organization', findings: [missing('organization', 'Document')] }, { level: 'team', findings: [missing('team', 'Document')] }])).toEqual([missing('team', 'Document')])
  })
})
