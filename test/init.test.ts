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
import { proposeConfig } from '../src/init/propose.ts'
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
