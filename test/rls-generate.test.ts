// The row-level security SQL that `generate` writes: golden files per variant, the demo's committed
// file current, refusals that name the bad value, and the SQL applied to a real PostgreSQL where
// a role that is neither superuser nor owner sees only its tenant's rows.
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TenantFenceConfig } from '../src/config/schema.ts'
import { parseSchema, type DataModel } from '../src/enforcement/datamodel.ts'
import { generateFiles } from '../src/generate/files.ts'
import { renderRlsMigration, renderRlsRollback, rlsFiles, rlsTables } from '../src/generate/rls.ts'
import demoConfig from '../tenantfence.config.ts'
import { createTestDatabase, ROLES, type TestDatabase } from './helpers/postgres.ts'

const mappedSchema = readFileSync('test/fixtures/rls/mapped.prisma', 'utf8')
const rls = { setting: 'app.org', bypassSetting: 'app.bypass_reason', scopeSetting: 'tenantfence.scope', bypass: 'reason_setting', dir: 'db/rls' } as const
/** The generator reads tenant, models, bypass and rls; the rest of the demo config comes along untouched. */
const mappedConfig = (over: Partial<TenantFenceConfig> = {}) =>
  ({
    ...demoConfig,
    tenant: { field: 'orgId', model: 'Organization', idField: 'id', severity: 'HIGH' },
    models: { Member: { severity: 'CRITICAL' }, Profile: { severity: 'HIGH', via: 'member' }, Project: { severity: 'HIGH', via: 'owner' }, Task: { severity: 'MEDIUM', via: 'project' } },
    globalModels: ['Country'],
    bypass: { reasons: ['nightly_cleanup', 'data_migration'] },
    rls,
    ...over,
  }) as TenantFenceConfig

/** A field of a parsed schema, or a failure naming it. */
const fieldIn = (dm: DataModel, model: string, field: string) => {
  const f = dm.models[model]?.fields.find((x) => x.name === field)
  if (!f) throw new Error(`no ${model}.${field}`)
  return f
}

describe('reading schema.prisma (parseSchema, the isolation core\'s reader)', () => {
  it('tables, schemas, columns, native types and relations as written', () => {
    const schema = parseSchema(mappedSchema)
    expect(schema.provider).toBe('postgresql')
    const member = schema.models.Member!
    expect([member.dbName, member.schema]).toEqual(['members', 'app'])
    expect(fieldIn(schema, 'Member', 'orgId')).toMatchObject({ dbName: 'org_id', nativeType: ['Uuid', []], type: 'String', kind: 'scalar' })
    expect(fieldIn(schema, 'Member', 'id')).not.toHaveProperty('dbName') // no @map: the field's name is the column
    expect(fieldIn(schema, 'Member', 'id')).not.toHaveProperty('nativeType')
    expect(fieldIn(schema, 'Member', 'profile')).toMatchObject({ kind: 'object', isRequired: false, relationName: 'MemberProfile', relationFromFields: ['profileId'], relationToFields: ['id'] })
    // an unnamed relation gets Prisma's name on both sides, so the side without the key finds the one with it
    expect(fieldIn(schema, 'Project', 'owner')).toMatchObject({ relationName: 'MemberToProject', relationFromFields: ['ownerId', 'ownerOrg'], relationToFields: ['id', 'orgId'] })
    expect(fieldIn(schema, 'Member', 'projects')).toMatchObject({ relationName: 'MemberToProject', relationFromFields: [], isList: true })
    expect(fieldIn(schema, 'Profile', 'member')).toMatchObject({ relationName: 'MemberProfile', relationFromFields: [], relationToFields: [] })
    expect(schema.models.Organization!.fields.map((f) => f.name)).toEqual(['id', 'name', 'members']) // the string's "//" and "{" are not syntax
  })

  it('native types keep their arguments, as Prisma writes them', () => {
    const schema = parseSchema(`model T {
  id    BigInt  @id @db.BigInt
  code  String  @db.VarChar(191) @unique
  price Decimal @db.Decimal(10, 2)
  note  String  @db.Text
}`)
    expect(['id', 'code', 'price', 'note'].map((f) => fieldIn(schema, 'T', f).nativeType)).toEqual([['BigInt', []], ['VarChar', ['191']], ['Decimal', ['10', '2']], ['Text', []]])
    expect(schema.models.T!.uniques!.map((u) => u.name)).toEqual(['id', 'code']) // the @db argument does not hide @unique
  })

  it('@map(name: …), @@schema on a model without @@map, and no provider without a datasource', () => {
    const schema = parseSchema('model T {\n  id Int @id @map(name: "t_id")\n  @@schema("audit")\n}')
    expect(fieldIn(schema, 'T', 'id').dbName).toBe('t_id')
    expect([schema.models.T!.dbName, schema.models.T!.schema]).toEqual([null, 'audit'])
    expect(schema.provider).toBeUndefined()
    expect(parseSchema(readFileSync('prisma/schema.prisma', 'utf8')).provider).toBe('sqlite')
  })

  it('attributes written inside strings or comments are not read', () => {
    const schema = parseSchema(`datasource db {
  // provider = "mysql"
  url      = "postgres://x/provider=sqlite"
  provider = "postgresql"
}
model T {
  id   Int    @id
  name String @default("@map(\\"nope\\") @db.Uuid") // @map("nor_this")
  // @@schema("commented")
}`)
    expect(schema.provider).toBe('postgresql')
    expect(fieldIn(schema, 'T', 'name')).not.toHaveProperty('dbName')
    expect(fieldIn(schema, 'T', 'name')).not.toHaveProperty('nativeType')
    expect(schema.models.T).not.toHaveProperty('schema')
  })

  it('the generated SQL does not depend on layout: comments and attributes over several lines read the same', () => {
    const relaid = mappedSchema
      .replace('@relation(fields: [ownerId, ownerOrg], references: [id, orgId])', '@relation(\n    fields: [ownerId, ownerOrg], // the composite key\n    references: [id, orgId]\n  )')
      .replace('orgId     String       @map("org_id") @db.Uuid', 'orgId     String       @map(\n    "org_id"\n  ) @db.Uuid // "uuid"')
    expect(relaid).not.toBe(mappedSchema)
    expect(renderRlsMigration(mappedConfig(), parseSchema(relaid), 'x')).toBe(renderRlsMigration(mappedConfig(), parseSchema(mappedSchema), 'x'))
  })
})

describe('golden files', () => {
  it('mapped schema, reason bypass', async () => {
    await expect(renderRlsMigration(mappedConfig(), parseSchema(mappedSchema), 'mapped.config.ts')).toMatchFileSnapshot('fixtures/rls/mapped.migration.sql')
    await expect(renderRlsRollback(mappedConfig(), 'mapped.config.ts')).toMatchFileSnapshot('fixtures/rls/mapped.rollback.sql')
  })

  it('mapped schema, BYPASSRLS role for jobs: no bypass policy', async () => {
    const sql = renderRlsMigration(mappedConfig({ rls: { ...rls, bypass: 'bypassrls_role' } }), parseSchema(mappedSchema), 'mapped.config.ts')
    expect(sql).not.toContain('CREATE POLICY tenantfence_bypass')
    await expect(sql).toMatchFileSnapshot('fixtures/rls/mapped.bypassrls-role.migration.sql')
  })

  it('the demo: prisma/rls/*.sql are what the config and prisma/schema.prisma generate (npm run generate)', () => {
    const files = generateFiles(demoConfig, { schema: readFileSync('prisma/schema.prisma', 'utf8') }).filter((f) => f.path.startsWith('prisma/rls/'))
    expect(files.map((f) => f.path)).toEqual(['prisma/rls/migration.sql', 'prisma/rls/rollback.sql'])
    for (const f of files) expect(readFileSync(f.path, 'utf8'), f.path).toBe(f.content)
  })

  it('every tenant-owned model and the tenant model get a policy; global models none', () => {
    const tables = rlsTables(demoConfig, parseSchema(readFileSync('prisma/schema.prisma', 'utf8')))
    expect(tables.map((t) => t.model).sort()).toEqual([...Object.keys(demoConfig.models), 'Tenant'].sort())
    const sql = readFileSync('prisma/rls/migration.sql', 'utf8')
    expect(sql).not.toMatch(/"Permission"/)
    expect(sql.match(/FORCE ROW LEVEL SECURITY;/g)).toHaveLength(tables.length)
  })

  it('no rls in the config: no file (and generate needs no schema)', () => {
    expect(rlsFiles({ ...demoConfig, rls: undefined } as TenantFenceConfig, mappedSchema, 'x')).toEqual([])
    expect(generateFiles(demoConfig).some((f) => f.path.includes('rls'))).toBe(false)
  })
})

describe('refusals name the bad value and the valid ones', () => {
  const render = (over: Partial<TenantFenceConfig>, schema = mappedSchema) => () => renderRlsMigration(mappedConfig(over), parseSchema(schema), 'x')
  it.each([
    ['a model the schema lacks', { models: { Membr: { severity: 'HIGH' } } }, /models: model names "Membr": did you mean "Member"\? Valid: Organization, Member/],
    ['a via the model lacks', { models: { Member: { severity: 'HIGH' }, Task: { severity: 'HIGH', via: 'projet' } } }, /models.Task.via: field of Task names "projet": did you mean "project"\?/],
    ['a via that is a scalar', { models: { Member: { severity: 'HIGH' }, Task: { severity: 'HIGH', via: 'title' } } }, /models.Task.via names "title", which is not a to-one relation of Task/],
    ['a chain into a global model', { models: { Member: { severity: 'HIGH' }, Task: { severity: 'HIGH', via: 'project' } } }, /the relation chain Task → Project reaches Project, which is neither tenant-owned/],
    ['a tenant field the model lacks', { tenant: { field: 'orgid', model: 'Organization', idField: 'id', severity: 'HIGH' } }, /models.Member: field of Member names "orgid": did you mean "orgId"\?/],
    ['a tenant field that is a relation', { tenant: { field: 'org', model: 'Organization', idField: 'id', severity: 'HIGH' } }, /Member.org is the relation to Organization, not a column/],
  ] as const)('%s', (_name, over, message) => {
    expect(render(over as Partial<TenantFenceConfig>)).toThrow(message)
  })

  it('a tenant column of a type that cannot hold a tenant id', () => {
    expect(render({}, mappedSchema.replace('orgId     String       @map("org_id") @db.Uuid', 'orgId     Boolean      @map("org_id")'))).toThrow(/Member.orgId is a Boolean: a tenant column must be an Int, a BigInt or a String/)
  })

  it('via relations that loop', () => {
    const looped = mappedSchema.replace('model Task {', 'model Task {\n  other Task? @relation("Loop", fields: [otherId], references: [id])\n  otherId Int?\n  back Task[] @relation("Loop")')
    expect(render({ models: { Member: { severity: 'HIGH' }, Task: { severity: 'HIGH', via: 'other' } } }, looped)).toThrow(/the via relations loop: Task → Task/)
  })
})

describe('applied to a real PostgreSQL', () => {
  const A = '00000000-0000-0000-0000-00000000000a'
  const B = '00000000-0000-0000-0000-00000000000b'
  let db: TestDatabase
  let owner: pg.Client
  let app: pg.Client
  beforeAll(async () => {
    db = await createTestDatabase()
    owner = new pg.Client({ connectionString: db.url('owner') })
    await owner.connect()
    await owner.query(readFileSync('test/fixtures/rls/mapped.sql', 'utf8'))
    await owner.query(`
      INSERT INTO app.organizations (id, name) VALUES ('${A}', 'a'), ('${B}', 'b');
      INSERT INTO app.profiles VALUES (1, 'a'), (2, 'b');
      INSERT INTO app.members VALUES (1, '${A}', 1), (2, '${B}', 2);
      INSERT INTO app.projects VALUES (10, 1, '${A}'), (20, 2, '${B}');
      INSERT INTO app.tasks VALUES (100, 10, 'a'), (200, 20, 'b');
      INSERT INTO app.countries VALUES ('FR');
      GRANT USAGE ON SCHEMA app TO ${ROLES.app};
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO ${ROLES.app};`)
    await owner.query(renderRlsMigration(mappedConfig(), parseSchema(mappedSchema), 'x'))
    app = new pg.Client({ connectionString: db.url('app') })
    await app.connect()
  })
  afterAll(async () => {
    await app?.end()
    await owner?.end()
    await db?.drop()
  })

  /** Run fn in a transaction with these settings (set_config(…, true): they end with it). */
  async function as(client: pg.Client, settings: Record<string, string>, fn: () => Promise<unknown>): Promise<unknown> {
    await client.query('BEGIN')
    try {
      for (const [k, v] of Object.entries(settings)) await client.query('SELECT set_config($1, $2, true)', [k, v])
      return await fn()
    } finally {
      await client.query('ROLLBACK')
    }
  }
  const ids = async (client: pg.Client, table: string) => (await client.query(`SELECT ${table === 'organizations' ? 'name AS id' : table === 'countries' ? 'code AS id' : 'id'} FROM app.${table} ORDER BY 1`)).rows.map((r) => r.id)
  const visible = (client: pg.Client, settings: Record<string, string>) =>
    as(client, settings, async () => Object.fromEntries(await Promise.all(['organizations', 'members', 'profiles', 'projects', 'tasks', 'countries'].map(async (t) => [t, await ids(client, t)]))))

  it.each([
    ['the app role', 'app'],
    ['the owner of the tables (FORCE ROW LEVEL SECURITY)', 'owner'],
  ] as const)('%s sees only the tenant of the setting, through every hop; global rows all', async (_name, role) => {
    const client = role === 'app' ? app : owner
    expect(await visible(client, { 'app.org': A })).toEqual({ organizations: ['a'], members: [1], profiles: [1], projects: [10], tasks: [100], countries: ['FR'] })
    expect(await visible(client, { 'app.org': B })).toEqual({ organizations: ['b'], members: [2], profiles: [2], projects: [20], tasks: [200], countries: ['FR'] })
    expect(await visible(client, {})).toEqual({ organizations: [], members: [], profiles: [], projects: [], tasks: [], countries: ['FR'] })
  })

  it('a documented bypass reason sees every tenant; any other reason nothing', async () => {
    expect(await visible(app, { 'app.bypass_reason': 'nightly_cleanup' })).toEqual({ organizations: ['a', 'b'], members: [1, 2], profiles: [1, 2], projects: [10, 20], tasks: [100, 200], countries: ['FR'] })
    expect(await visible(app, { 'app.bypass_reason': 'because' })).toMatchObject({ members: [], tasks: [] })
  })

  it('WITH CHECK: no write into another tenant, no row moved out of the tenant', async () => {
    const denied = /new row violates row-level security policy/
    await expect(as(app, { 'app.org': A }, () => app.query(`INSERT INTO app.tasks VALUES (300, 20, 'into b')`))).rejects.toThrow(denied)
    await expect(as(app, { 'app.org': A }, () => app.query(`UPDATE app.tasks SET project_id = 20 WHERE id = 100`))).rejects.toThrow(denied)
    await expect(as(app, { 'app.org': A }, () => app.query(`INSERT INTO app.members VALUES (3, '${B}', NULL)`))).rejects.toThrow(denied)
    await expect(as(app, { 'app.org': A }, () => app.query(`INSERT INTO app.tasks VALUES (301, 10, 'into a')`))).resolves.toMatchObject({ rowCount: 1 })
    // Another tenant's rows are not there to update or delete.
    await expect(as(app, { 'app.org': A }, () => app.query(`DELETE FROM app.tasks WHERE id = 200`))).resolves.toMatchObject({ rowCount: 0 })
  })

  it('a row owned through a key its owner holds (Profile via member) cannot be written before an owner holds it', async () => {
    // The database checks each row as it is written, and Prisma writes the owned row before the owner
    // that takes its key (a nested create too): under these policies only a bypass can (docs/rls.md).
    const denied = /new row violates row-level security policy/
    await expect(as(app, { 'app.org': A }, () => app.query(`INSERT INTO app.profiles VALUES (3, 'new')`))).rejects.toThrow(denied)
    await expect(as(app, { 'app.bypass_reason': 'nightly_cleanup' }, () => app.query(`INSERT INTO app.profiles VALUES (3, 'new')`))).resolves.toMatchObject({ rowCount: 1 })
  })

  it('re-applying is idempotent; a model taken out of the config loses its policy; the rollback removes all', async () => {
    await owner.query(renderRlsMigration(mappedConfig(), parseSchema(mappedSchema), 'x'))
    expect(await visible(app, { 'app.org': A })).toMatchObject({ tasks: [100] })
    const withoutTask = mappedConfig({ models: { Member: { severity: 'CRITICAL' }, Profile: { severity: 'HIGH', via: 'member' }, Project: { severity: 'HIGH', via: 'owner' } } })
    await owner.query(renderRlsMigration(withoutTask, parseSchema(mappedSchema), 'x'))
    expect(await visible(app, { 'app.org': A })).toMatchObject({ projects: [10], tasks: [100, 200] })
    const state = async () => (await owner.query(`SELECT c.relname, c.relrowsecurity AS on, c.relforcerowsecurity AS forced, (SELECT count(*)::int FROM pg_policies p WHERE p.schemaname = 'app' AND p.tablename = c.relname) AS policies FROM pg_class c WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'r' ORDER BY 1`)).rows
    expect(await state()).toEqual([
      { relname: 'countries', on: false, forced: false, policies: 0 },
      { relname: 'members', on: true, forced: true, policies: 2 },
      { relname: 'organizations', on: true, forced: true, policies: 2 },
      { relname: 'profiles', on: true, forced: true, policies: 2 },
      { relname: 'projects', on: true, forced: true, policies: 2 },
      { relname: 'tasks', on: false, forced: false, policies: 0 },
    ])
    await owner.query(renderRlsRollback(mappedConfig(), 'x'))
    expect((await state()).filter((t) => t.on || t.forced || t.policies)).toEqual([])
    expect(await visible(app, {})).toMatchObject({ members: [1, 2], tasks: [100, 200] })
  })
})
