// `tenantfence init`: the tenant model, field-scoped and relation-scoped models and global
// candidates read from the schema's relations (the foreign keys, never the names); the file it
// writes validates and passes the audit; it never overwrites without --force.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { main } from '../src/cli.ts'
import { loadConfig } from '../src/config/load.ts'
import { findSchema } from '../src/config/schema-files.ts'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { compilePolicy } from '../src/enforcement/policy.ts'
import { auditModels } from '../src/enforcement/audit.ts'
import { defineConfig } from '../src/config/define.ts'
import { proposeConfig, TenantUnclearError, type Proposal } from '../src/init/propose.ts'
import { reviewConfig } from '../src/init/review.ts'
import type { RealApp } from './fixtures/real-apps/types.ts'
import demoConfig from '../tenantfence.config.ts'
import { realApps } from './fixtures/real-apps/index.ts'

const root = resolve('.')
const realAppsDir = join(root, 'test/fixtures/real-apps')
const demoSchema = readFileSync(join(root, 'prisma/schema.prisma'), 'utf8')

/** A team app whose names mislead: Task's relation to Project is `parent` on `projectKey`, and its `projectId` is no key at all. */
const teamSchema = `
datasource db { provider = "sqlite" }
model Team {
  id       String    @id
  projects Project[]
  members  Member[]
}
model Account {
  id      Int      @id
  email   String
  members Member[]
}
model Member {
  id        Int     @id
  orgId     String
  accountId Int
  team      Team    @relation(fields: [orgId], references: [id])
  account   Account @relation(fields: [accountId], references: [id])
}
model Project {
  id     Int    @id
  orgId  String
  team   Team   @relation(fields: [orgId], references: [id])
  tasks  Task[]
}
model Task {
  id         Int       @id
  projectId  Int       // a legacy copy, not a foreign key
  projectKey Int
  reviewerId Int?
  parent     Project   @relation(fields: [projectKey], references: [id])
  reviewer   Member?   @relation(fields: [reviewerId], references: [id])
  comments   Comment[]
}
model Comment {
  id     Int  @id
  taskId Int
  task   Task @relation(fields: [taskId], references: [id])
}
model Country {
  code    String   @id
  capital Capital? // the other side of a one-to-one: Capital holds the key, so Country is not reached through it
}
model Capital {
  id          Int     @id
  orgId       String
  countryCode String  @unique
  country     Country @relation(fields: [countryCode], references: [code])
}
`

let dirs: string[] = []
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs = []
  vi.restoreAllMocks()
})

async function cli(cwd: string, ...args: string[]) {
  const out: string[] = []
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')))
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')))
  vi.spyOn(process, 'cwd').mockReturnValue(cwd)
  const code = await main(args)
  vi.restoreAllMocks()
  return { code, out: out.join('\n') }
}

describe('proposeConfig', () => {
  it('classifies the demo schema as the demo config does (severities aside)', () => {
    const p = proposeConfig(parseSchema(demoSchema))
    const demo = demoConfig as unknown as { models: Record<string, { via?: string }>; globalModels: string[] }
    expect(p.tenant).toEqual({ model: 'Tenant', field: 'tenantId', idField: 'id' })
    expect(p.fieldScoped.sort()).toEqual(Object.keys(demo.models).filter((m) => !demo.models[m]!.via).sort())
    expect(Object.fromEntries(p.relationScoped.map((r) => [r.model, r.via]))).toEqual(Object.fromEntries(Object.entries(demo.models).filter(([, m]) => m.via).map(([n, m]) => [n, m.via])))
    expect(p.globalCandidates.map((g) => g.model)).toEqual(demo.globalModels)
  })

  it('reads the tenant model, field and via from the foreign keys, never from names', () => {
    const p = proposeConfig(parseSchema(teamSchema))
    expect(p.tenant).toEqual({ model: 'Team', field: 'orgId', idField: 'id' })
    expect(p.fieldScoped).toEqual(['Member', 'Project', 'Capital'])
    expect(p.relationScoped).toEqual([
      // the required key (projectKey → Project) beats the optional one (reviewerId → Member)
      { model: 'Task', via: 'parent', target: 'Project', optional: false, alternatives: ['reviewer (Member)'] },
      { model: 'Comment', via: 'task', target: 'Task', optional: false, alternatives: [] },
      // Capital holds a unique key to Country: each Country row belongs to the Capital that points at it
      { model: 'Country', via: 'capital', target: 'Capital', optional: true, alternatives: [], ownerKey: 'countryCode' },
    ])
    // Account is only pointed at many-to-one (Member holds the key): its rows are not reached through a tenant
    expect(p.globalCandidates.map((g) => g.model)).toEqual(['Account'])
  })

  it('takes --tenant-model/--tenant-field, and says what to pass when the schema cannot tell', () => {
    const flat = 'model A {\n  id Int @id\n}\nmodel B {\n  id Int @id\n}\n'
    expect(() => proposeConfig(parseSchema(flat))).toThrow('pass --tenant-model <Model> and --tenant-field <field>')
    expect(() => proposeConfig(parseSchema(teamSchema), { tenantModel: 'Teams' })).toThrow(
      '--tenant-model names "Teams", which the schema does not have: did you mean "Team"? Best-supported candidates: Team, Project, Account. Models: Team, Account',
    )
    const p = proposeConfig(parseSchema(teamSchema), { tenantModel: 'Account' })
    expect(p.tenant.field).toBe('accountId')
    expect(p.fieldScoped).toEqual(['Member'])
  })
})

describe('tenantfence init', () => {
  it('writes a config that validates and passes the audit; refuses to overwrite without --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-init-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@acme/billing-api' }))
    writeFileSync(join(dir, 'schema.prisma'), teamSchema)
    const first = await cli(dir, 'init')
    expect(first.code).toBe(0)
    expect(first.out).toContain('tenant: Team.id, field "orgId"')
    const file = join(dir, 'tenantfence.config.ts')
    const text = readFileSync(file, 'utf8')
    expect(text).toContain("import { defineConfig, type Severity } from 'tenantfence'")
    expect(text).toContain("Task: { severity: 'TO_REVIEW', via: 'parent' }")
    expect(text).toContain("Country: { severity: 'TO_REVIEW', via: 'capital' }, // review: owned through Capital.countryCode")
    expect(text).toMatch(/Severities are for your team to set/)
    expect(text).toContain("'Account', // review:")

    // The config as the user's project would load it (its import pointed at this checkout).
    writeFileSync(file, text.replace("from 'tenantfence'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`))
    const config = await loadConfig(undefined, dir)
    expect(config.tenant).toMatchObject({ model: 'Team', field: 'orgId' })
    expect(config.app.job).toBe('acme-billing-api')
    expect(Object.keys(config.models)).toEqual(['Member', 'Project', 'Capital', 'Task', 'Comment', 'Country'])
    // It runs (every placeholder as MEDIUM), but audit names each severity nobody set, until they are set.
    expect(Object.values(config.models).map((m) => m.severity)).toEqual(Array(6).fill('MEDIUM'))
    const unset = await cli(dir, 'audit')
    expect(unset.code).toBe(1)
    for (const m of Object.keys(config.models)) expect(unset.out).toContain(`- ${m} has severity 'TO_REVIEW' (runs as MEDIUM)`)
    // (another file: the loader keeps the module it loaded from the first path)
    writeFileSync(join(dir, 'set.config.ts'), readFileSync(file, 'utf8').replaceAll("severity: 'TO_REVIEW'", "severity: 'HIGH'"))
    const set = await cli(dir, 'audit', '--config', 'set.config.ts')
    expect(set.out).toBe(
      'audit: every model of schema.prisma is classified (tenant-owned or global).\n' +
        'Global models that tenant-owned rows point at (review that their rows are shared by every tenant):\n' +
        '  - Account ← Member.account (accountId, many-to-one: shared)',
    )
    expect(set.code).toBe(0)

    const edited = readFileSync(file, 'utf8')
    const again = await cli(dir, 'init')
    expect(again.code).toBe(1)
    expect(again.out).toContain('tenantfence.config.ts already exists; pass --force to overwrite it')
    expect(readFileSync(file, 'utf8')).toBe(edited)
    expect((await cli(dir, 'init', '--force', '--out', 'other.config.ts')).code).toBe(0)
    expect(existsSync(join(dir, 'other.config.ts'))).toBe(true)
    expect((await cli(dir, 'init', '--force')).code).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(text)
  })
})

describe('real-app fixtures', () => {
  it.each(Object.entries(realApps))('%s: the reduced schema parses, and the hand classification names each of its models once', async (folder, app) => {
    const source = await findSchema({ schema: join(realAppsDir, folder, app.schema), cwd: root })
    const models = Object.keys(parseSchema(source.text).models).sort()
    expect(Object.keys(app.models).sort()).toEqual(models)
    expect(app.models[app.tenant.model]?.kind).toBe('tenant')
    if (app.schema === 'schema') expect(source.files.length).toBeGreaterThan(1) // the multi-file layout is kept
    for (const [name, o] of Object.entries(app.models)) {
      if (o.kind === 'field') expect(parseSchema(source.text).models[name]!.fields.map((f) => f.name), name).toContain(o.field ?? app.tenant.field)
      if (o.kind === 'via') expect(parseSchema(source.text).models[name]!.fields.find((f) => f.name === o.via)?.kind, `${name}.${o.via}`).toBe('object')
    }
  })
})

/** The ownership init proposes for each model, in the shape of the hand classification. */
function classification(p: Proposal): Record<string, string> {
  const out: Record<string, string> = { [p.tenant.model]: 'tenant' }
  for (const m of p.fieldScoped) out[m] = p.ownFields[m] ? `field ${p.ownFields[m]}` : 'field'
  for (const r of p.relationScoped) out[r.model] = `via ${r.via}`
  for (const g of p.globalCandidates) out[g.model] = 'global'
  return out
}

function expectedClassification(app: RealApp): Record<string, string> {
  return Object.fromEntries(
    Object.entries(app.models).map(([m, o]) => [m, o.kind === 'via' ? `via ${o.via}` : o.kind === 'field' && o.field ? `field ${o.field}` : o.kind]),
  )
}

async function realSchema(folder: string) {
  const app = realApps[folder]!
  const source = await findSchema({ schema: join(realAppsDir, folder, app.schema), cwd: root })
  return { app, source, datamodel: parseSchema(source.text) }
}

/** The config the hand classification makes (every severity set), as a team would write it. */
function handConfig(app: RealApp, change: (c: { tenant: { model: string; field: string }; models: Record<string, { severity: 'HIGH'; via?: string; field?: string }>; globalModels: string[] }) => void = () => {}) {
  const c = {
    tenant: { model: app.tenant.model, field: app.tenant.field },
    models: {} as Record<string, { severity: 'HIGH'; via?: string; field?: string }>,
    globalModels: [] as string[],
  }
  for (const [m, o] of Object.entries(app.models)) {
    if (o.kind === 'field') c.models[m] = o.field ? { severity: 'HIGH', field: o.field } : { severity: 'HIGH' }
    if (o.kind === 'via') c.models[m] = { severity: 'HIGH', via: o.via }
    if (o.kind === 'global') c.globalModels.push(m)
  }
  change(c)
  return defineConfig(c)
}

describe('init and audit on real apps', () => {
  it.each(Object.keys(realApps))('%s: init chooses the tenant the hand classification expects, proposes its two levels, or refuses naming exactly the candidates', async (folder) => {
    const { app, datamodel } = await realSchema(folder)
    if ('chooses' in app.init) {
      expect(proposeConfig(datamodel).tenant.model).toBe(app.init.chooses)
      expect(proposeConfig(datamodel).levels).toBeUndefined()
    } else if ('levels' in app.init) {
      expect(proposeConfig(datamodel).levels?.map((l) => l.model)).toEqual(app.init.levels)
    } else {
      let refused: unknown
      try {
        proposeConfig(datamodel)
      } catch (err) {
        refused = err
      }
      expect(refused).toBeInstanceOf(TenantUnclearError)
      expect([...(refused as TenantUnclearError).candidates].sort()).toEqual([...app.init.refuses].sort())
    }
  })

  it.each(Object.keys(realApps))('%s: with the tenant named, init classifies every model as the hand classification does', async (folder) => {
    const { app, datamodel } = await realSchema(folder)
    const p = proposeConfig(datamodel, { tenantModel: app.tenant.model })
    expect(p.levels).toBeUndefined() // --tenant-model keeps one level
    expect(p.tenant.field).toBe(app.tenant.field)
    expect(classification(p)).toEqual(expectedClassification(app))
  })

  it.each(Object.keys(realApps))('%s: the hand classification compiles and passes the audit; the tenant swapped for another model does not', async (folder) => {
    const { app, datamodel } = await realSchema(folder)
    const config = handConfig(app)
    expect(() => compilePolicy(config, datamodel)).not.toThrow()
    expect(auditModels(config, datamodel)).toEqual([])
    expect(reviewConfig(config, datamodel).filter((f) => f.kind !== 'shared')).toEqual([])
    // The model people hang off, taken as the tenant: audit says the schema supports another.
    const wrong = proposeConfig(datamodel, { tenantModel: 'User' })
    const userConfig = defineConfig({
      tenant: { model: 'User', field: wrong.tenant.field },
      models: Object.fromEntries(wrong.fieldScoped.map((m) => [m, { severity: 'HIGH' as const }])),
      globalModels: Object.keys(datamodel.models).filter((m) => m !== 'User' && !wrong.fieldScoped.includes(m)),
    })
    const choice = reviewConfig(userConfig, datamodel).filter((f) => f.kind === 'tenant_choice')
    expect(choice).toHaveLength(1)
    const supported = 'chooses' in app.init ? [app.init.chooses] : 'levels' in app.init ? app.init.levels : app.init.refuses
    expect(choice[0]!.reason).toContain(`the schema's relations support ${supported.join(' or ')}`)
  })

  it('audit: a one-to-one row left global is owned (review), and global rows pointed at many-to-one are listed as shared', async () => {
    const { app, datamodel } = await realSchema('trigger.dev')
    const config = handConfig(app, (c) => {
      delete c.models.WorkerGroupToken
      c.globalModels.push('WorkerGroupToken')
    })
    const shared = (model: string, reason: string) => ({ model, kind: 'shared', reason: `← ${reason}, many-to-one: shared)` })
    expect(reviewConfig(config, datamodel)).toEqual([
      shared('User', 'OrgMember.user (userId'),
      shared('User', 'OrgMemberInvite.inviter (inviterId'),
      {
        model: 'WorkerGroupToken',
        kind: 'owned_global',
        reason:
          'is global, but tenant-owned WorkerInstanceGroup holds a unique key to it (WorkerInstanceGroup.tokenId: one-to-one, owned, review): ' +
          "each row belongs to the WorkerInstanceGroup that points at it. Move it to models with via: 'workerGroup'",
      },
      shared('User', 'WorkerDeployment.triggeredBy (triggeredById'),
      shared('SecretReference', 'EnvironmentVariableValue.valueReference (valueReferenceId'),
    ])
  })

  it('init refuses on a real app whose tenant is not clear, printing the ranking and the exact lines to run; writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-init-'))
    dirs.push(dir)
    // Organization above Project above RuntimeEnvironment: three levels, not a parent/child pair.
    const schema = join(realAppsDir, 'trigger.dev/schema.prisma')
    const r = await cli(dir, 'init', '--schema', schema)
    expect(r.code).toBe(1)
    expect(r.out).toContain('tenantfence init: the tenant model is not clear from the schema: Organization sits above Project and RuntimeEnvironment')
    expect(r.out).toContain('    Organization: 11 model(s) reach it; 4 hold a key to it (organizationId ×4)')
    expect(r.out).toContain('    Project: 8 model(s) reach it; 7 hold a key to it (projectId ×7)')
    for (const m of ['Organization', 'Project', 'RuntimeEnvironment']) expect(r.out).toContain(`  npx tenantfence init --schema ${schema} --tenant-model ${m}`)
    // and the pairs that could be two levels (the lower holds a single key to the upper)
    expect(r.out).toContain(`  npx tenantfence init --schema ${schema} --levels Organization,Project`)
    expect(r.out).toContain(`  npx tenantfence init --schema ${schema} --levels Project,RuntimeEnvironment`)
    expect(existsSync(join(dir, 'tenantfence.config.ts'))).toBe(false)

    const chosen = await cli(dir, 'init', '--schema', schema, '--tenant-model', 'Organization')
    expect(chosen.code).toBe(0)
    expect(chosen.out).toContain('tenant: Organization.id, field "organizationId" (--tenant-model)')
    // Langfuse, two levels by the schema, keeps one level when the tenant is named
    const langfuse = await cli(dir, 'init', '--force', '--schema', join(realAppsDir, 'langfuse/schema.prisma'), '--tenant-model', 'Project')
    expect(langfuse.code).toBe(0)
    expect(langfuse.out).toContain('tenant: Project.id, field "projectId" (--tenant-model)')
    expect(readFileSync(join(dir, 'tenantfence.config.ts'), 'utf8')).not.toContain('levels')
  })

  it('init on a multi-file schema prints the ranking it chose from, and proposes the owned side of a one-to-one for review', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-init-'))
    dirs.push(dir)
    const r = await cli(dir, 'init', '--schema', join(realAppsDir, 'dub/schema'))
    expect(r.code).toBe(0)
    expect(r.out).toContain('(23 files)')
    expect(r.out).toContain('    Project: 19 model(s) reach it; 12 hold a key to it (projectId ×10, workspaceId ×2)')
    expect(r.out).toContain('Program (workspaceId)')
    const text = readFileSync(join(dir, 'tenantfence.config.ts'), 'utf8')
    expect(text).toContain("Program: { severity: 'TO_REVIEW', field: 'workspaceId' }, // its own key to Project is workspaceId")

    const trigger = await cli(dir, 'init', '--force', '--schema', join(realAppsDir, 'trigger.dev/schema.prisma'), '--tenant-model', 'Organization')
    expect(trigger.code).toBe(0)
    expect(trigger.out).toContain('WorkerGroupToken via workerGroup (one-to-one held by WorkerInstanceGroup: review)')
    expect(readFileSync(join(dir, 'tenantfence.config.ts'), 'utf8')).toContain(
      "WorkerGroupToken: { severity: 'TO_REVIEW', via: 'workerGroup' }, // review: owned through WorkerInstanceGroup.tokenId",
    )
  })
})

/**
 * More models hang off the people than off the teams (sign-in rows, tokens, passkeys…), and a
 * membership joins them: init must not take User for the tenant because it has the most keys.
 */
const peopleHeavySchema = `
datasource db { provider = "sqlite" }
model User {
  id Int @id
}
model Account { id Int @id
  userId Int
  user User @relation(fields: [userId], references: [id]) }
model Session { id Int @id
  userId Int
  user User @relation(fields: [userId], references: [id]) }
model Passkey { id Int @id
  userId Int
  user User @relation(fields: [userId], references: [id]) }
model ApiToken { id Int @id
  userId Int
  user User @relation(fields: [userId], references: [id]) }
model SecurityLog { id Int @id
  userId Int
  user User @relation(fields: [userId], references: [id]) }
model Team {
  id Int @id
}
model TeamMember { id Int @id
  userId Int
  teamId Int
  user User @relation(fields: [userId], references: [id])
  team Team @relation(fields: [teamId], references: [id])
  @@unique([userId, teamId]) }
model Document { id Int @id
  userId Int
  teamId Int
  user User @relation(fields: [userId], references: [id])
  team Team @relation(fields: [teamId], references: [id]) }
model Template { id Int @id
  userId Int
  teamId Int
  user User @relation(fields: [userId], references: [id])
  team Team @relation(fields: [teamId], references: [id]) }
model Recipient { id Int @id
  documentId Int
  document Document @relation(fields: [documentId], references: [id]) }
model TeamEmail { id Int @id
  teamId Int @unique
  team Team @relation(fields: [teamId], references: [id]) }
`

describe('init: honest about the tenant and the tenant field', () => {
  it('refuses to take the model people hang off for the tenant when a membership joins it to another candidate', () => {
    let refused: unknown
    try {
      proposeConfig(parseSchema(peopleHeavySchema))
    } catch (err) {
      refused = err
    }
    expect(refused).toBeInstanceOf(TenantUnclearError)
    expect((refused as TenantUnclearError).candidates).toEqual(['User', 'Team'])
    expect((refused as Error).message).toContain('joined by a model holding required keys to both')
    // and the audit of a config that took User anyway says so
    const p = proposeConfig(parseSchema(peopleHeavySchema), { tenantModel: 'User' })
    const config = defineConfig({
      tenant: { model: 'User', field: p.tenant.field },
      models: Object.fromEntries(p.fieldScoped.map((m) => [m, { severity: 'HIGH' as const }])),
      globalModels: p.globalCandidates.map((g) => g.model),
    })
    expect(reviewConfig(config, parseSchema(peopleHeavySchema)).map((f) => f.kind)).not.toContain('tenant_choice') // User is one of the two open candidates
    const teamConfig = proposeConfig(parseSchema(peopleHeavySchema), { tenantModel: 'Team' })
    expect(teamConfig.fieldScoped).toEqual(['TeamMember', 'Document', 'Template', 'TeamEmail'])
    expect(teamConfig.relationScoped.map((r) => `${r.model} via ${r.via}`)).toEqual(['Recipient via document'])
  })

  it('--tenant-field that no model has is refused with the keys to the tenant ("did you mean"), and nothing is written', async () => {
    expect(() => proposeConfig(parseSchema(peopleHeavySchema), { tenantModel: 'Team', tenantField: 'temId' })).toThrow(
      '--tenant-field names "temId", which no model has: did you mean "teamId"? Foreign keys to Team: teamId (4 models)',
    )
    const dir = mkdtempSync(join(tmpdir(), 'tf-init-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'schema.prisma'), teamSchema)
    const r = await cli(dir, 'init', '--tenant-field', 'ordId')
    expect(r.code).toBe(1)
    expect(r.out).toContain('--tenant-field names "ordId", which no model has: did you mean "orgId"?')
    expect(existsSync(join(dir, 'tenantfence.config.ts'))).toBe(false)
    const model = await cli(dir, 'init', '--tenant-model', 'Tem')
    expect(model.code).toBe(1)
    expect(model.out).toContain('--tenant-model names "Tem", which the schema does not have: did you mean "Team"?')
  })
})
