// Row-level security for two levels of tenancy (issue 22; docs/rls.md, "Two levels"): the policies
// `generate` writes for organisations above projects (golden file), the settings they read checked in
// the config, and the SQL applied to a real PostgreSQL where a role that is neither superuser nor owner,
// setting the settings by hand as the extension would, sees exactly its level's rows: on a schema of
// our own (casts, back-side via), and on the two-level fixture (Langfuse reduced, its seed) against
// the ownership of every seeded row.
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig, tenantLevels } from '../src/config/index.ts'
import { RLS_DEFAULTS, type TenantFenceConfigInput } from '../src/config/schema.ts'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { renderRlsMigration, renderRlsRollback, rlsTables } from '../src/generate/rls.ts'
import { checkRlsDatabase } from '../src/ops/rls-check.ts'
import fixtureConfig from './fixtures/two-level-app/tenantfence.config.ts'
import { createTestDatabase, ROLES, runSql, type TestDatabase } from './helpers/postgres.ts'
import { ORG_A, ORG_B, P_A1, P_A2, P_B1, TWO_LEVEL_SEED } from './helpers/two-level-app.ts'
import { TWO_LEVEL_PG_MIGRATION, TWO_LEVEL_SCHEMA } from './helpers/two-level-client.ts'

const schemaText = readFileSync('test/fixtures/rls/levels.prisma', 'utf8')
const schema = parseSchema(schemaText)
const input = {
  levels: [
    { name: 'organization', model: 'Organization', field: 'orgId' },
    { name: 'project', model: 'Project', field: 'projectId', parent: 'organization' },
  ],
  models: {
    Member: { severity: 'HIGH', field: 'orgId' },
    MemberNote: { severity: 'MEDIUM', via: 'member' },
    Dataset: { severity: 'HIGH' },
    DatasetMeta: { severity: 'LOW', via: 'dataset' },
    DatasetItem: { severity: 'MEDIUM', via: 'dataset' },
    Trace: { severity: 'HIGH' },
    ProjectSetting: { severity: 'HIGH', via: 'project' },
  },
  globalModels: ['Country'],
  bypass: { reasons: ['nightly_cleanup'] },
  rls: {},
} satisfies TenantFenceConfigInput
const config = parseConfig(input)

describe('the policies of a two-level config', () => {
  it('golden file: one setting per level, the scope setting for organisation-wide rows', async () => {
    await expect(renderRlsMigration(config, schema, 'levels.config.ts')).toMatchFileSnapshot('fixtures/rls/levels.migration.sql')
  })

  it('every model of both levels and both level models get a policy; the global model none', () => {
    expect(rlsTables(config, schema).map((t) => t.model)).toEqual([...Object.keys(input.models), 'Organization', 'Project'])
    expect(renderRlsMigration(config, schema, 'x')).not.toContain('"countries"')
  })

  it('the settings the policies read are four distinct ones, named in the refusal', () => {
    expect(config.rls?.scopeSetting).toBe('tenantfence.scope')
    expect(() => parseConfig({ ...input, rls: { scopeSetting: 'app.project_id' } })).toThrow(/rls.scopeSetting must differ from levels\[1\].rlsSetting \(both "app.project_id"\)/)
    expect(() => parseConfig({ ...input, rls: { scopeSetting: 'tenantfence.bypass_reason' } })).toThrow(/rls.scopeSetting must differ from rls.bypassSetting/)
    expect(() => parseConfig({ ...input, rls: { bypassSetting: 'app.organization_id' } })).toThrow(/the level "organization" carries its id in "app.organization_id", the bypass reason's setting/)
    expect(() => parseConfig({ tenant: { model: 'Organization', field: 'orgId' }, models: { Member: { severity: 'HIGH' } }, rls: { scopeSetting: 'app.tenant_id' } })).toThrow(/rls.scopeSetting must differ from rls.setting/)
  })
})

describe('applied to a real PostgreSQL, the settings set by hand', () => {
  const A = '00000000-0000-0000-0000-00000000000a'
  const B = '00000000-0000-0000-0000-00000000000b'
  const ORG = 'app.organization_id'
  const PROJECT = 'app.project_id'
  const SCOPE = 'tenantfence.scope'
  // Projects 1 and 2 are organisation A's, 3 is B's. Each project-level table has one row per
  // project, with the project's id; members and notes: 1 is A's, 2 is B's.
  const LOWER = ['datasets', 'dataset_metas', 'dataset_items', 'traces', 'project_settings'] as const
  const TABLES = ['organizations', 'members', 'member_notes', 'projects', ...LOWER, 'countries'] as const
  let db: TestDatabase
  let owner: pg.Client
  let app: pg.Client
  beforeAll(async () => {
    db = await createTestDatabase()
    owner = new pg.Client({ connectionString: db.url('owner') })
    await owner.connect()
    await owner.query(readFileSync('test/fixtures/rls/levels.sql', 'utf8'))
    await owner.query(`
      INSERT INTO lv.organizations VALUES ('${A}', 'a'), ('${B}', 'b');
      INSERT INTO lv.projects VALUES (1, '${A}'), (2, '${A}'), (3, '${B}');
      INSERT INTO lv.members VALUES (1, '${A}'), (2, '${B}');
      INSERT INTO lv.member_notes VALUES (1, 1), (2, 2);
      INSERT INTO lv.dataset_metas VALUES (1), (2), (3);
      INSERT INTO lv.datasets VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3);
      INSERT INTO lv.dataset_items VALUES (1, 1), (2, 2), (3, 3);
      INSERT INTO lv.traces VALUES (1, 1, '${A}'), (2, 2, '${A}'), (3, 3, '${B}');
      INSERT INTO lv.project_settings VALUES (1, 1), (2, 2), (3, 3);
      INSERT INTO lv.countries VALUES ('FR');
      GRANT USAGE ON SCHEMA lv TO ${ROLES.app};
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA lv TO ${ROLES.app};`)
    await owner.query(renderRlsMigration(config, schema, 'x'))
    app = new pg.Client({ connectionString: db.url('app') })
    await app.connect()
  })
  afterAll(async () => {
    await app?.end()
    await owner?.end()
    await db?.drop()
  })

  /** Run fn in a transaction with these settings (set_config(…, true): they end with it). */
  async function as<T>(settings: Record<string, string>, fn: () => Promise<T>): Promise<T> {
    await app.query('BEGIN')
    try {
      for (const [k, v] of Object.entries(settings)) await app.query('SELECT set_config($1, $2, true)', [k, v])
      return await fn()
    } finally {
      await app.query('ROLLBACK')
    }
  }
  const key = (table: string) => (table === 'organizations' ? 'name' : table === 'countries' ? 'code' : 'id')
  /** The ids of every table the app role sees with these settings. */
  const visible = (settings: Record<string, string>) =>
    as(settings, async () => {
      const out: Record<string, unknown[]> = {}
      for (const t of TABLES) out[t] = (await app.query(`SELECT ${key(t)} AS k FROM lv.${t} ORDER BY 1`)).rows.map((r) => r.k)
      return out
    })
  /** The same ids in every project-level table. */
  const lower = (ids: number[]) => Object.fromEntries(LOWER.map((t) => [t, ids]))

  it('a project sees only its rows; a sibling project of the same organisation none of them', async () => {
    expect(await visible({ [ORG]: A, [PROJECT]: '1', [SCOPE]: '' })).toEqual({
      organizations: ['a'], members: [1], member_notes: [1], projects: [1, 2], ...lower([1]), countries: ['FR'],
    })
    expect(await visible({ [ORG]: A, [PROJECT]: '2', [SCOPE]: '' })).toMatchObject(lower([2]))
  })

  it("the organisation's rows need the organisation setting", async () => {
    expect(await visible({ [PROJECT]: '1' })).toEqual({
      organizations: [], members: [], member_notes: [], projects: [1], ...lower([1]), countries: ['FR'],
    })
    expect(await visible({ [ORG]: B, [PROJECT]: '' })).toMatchObject({ organizations: ['b'], members: [2], member_notes: [2], projects: [3] })
  })

  it("organisation-wide scope: every project's rows of the organisation, none of another organisation's", async () => {
    expect(await visible({ [ORG]: A, [PROJECT]: '', [SCOPE]: 'organization' })).toEqual({
      organizations: ['a'], members: [1], member_notes: [1], projects: [1, 2], ...lower([1, 2]), countries: ['FR'],
    })
    expect(await visible({ [ORG]: B, [PROJECT]: '', [SCOPE]: 'organization' })).toMatchObject(lower([3]))
  })

  it('the organisation without the scope (or with another scope) and no project: no project-level row', async () => {
    for (const scope of ['', 'project', 'Organization']) {
      expect(await visible({ [ORG]: A, [PROJECT]: '', [SCOPE]: scope }), scope).toEqual({
        organizations: ['a'], members: [1], member_notes: [1], projects: [1, 2], ...lower([]), countries: ['FR'],
      })
    }
    // the scope alone, with no organisation, proves nothing
    expect(await visible({ [SCOPE]: 'organization' })).toMatchObject({ projects: [], ...lower([]) })
  })

  it('a documented bypass reason admits every row; nothing set, nothing', async () => {
    expect(await visible({ 'tenantfence.bypass_reason': 'nightly_cleanup' })).toEqual({
      organizations: ['a', 'b'], members: [1, 2], member_notes: [1, 2], projects: [1, 2, 3], ...lower([1, 2, 3]), countries: ['FR'],
    })
    expect(await visible({ 'tenantfence.bypass_reason': 'because' })).toMatchObject({ members: [], projects: [], ...lower([]) })
    expect(await visible({})).toEqual({
      organizations: [], members: [], member_notes: [], projects: [], ...lower([]), countries: ['FR'],
    })
  })

  it('WITH CHECK: writes stay in the project (or, organisation-wide, the organisation); a project stays in its organisation', async () => {
    const denied = /new row violates row-level security policy/
    const project1 = { [ORG]: A, [PROJECT]: '1', [SCOPE]: '' }
    await expect(as(project1, () => app.query(`INSERT INTO lv.datasets VALUES (4, 2, NULL)`))).rejects.toThrow(denied)
    await expect(as(project1, () => app.query(`INSERT INTO lv.traces VALUES (4, 2, '${A}')`))).rejects.toThrow(denied)
    await expect(as(project1, () => app.query(`UPDATE lv.dataset_items SET dataset_id = 2 WHERE id = 1`))).rejects.toThrow(denied)
    await expect(as(project1, () => app.query(`INSERT INTO lv.datasets VALUES (4, 1, NULL)`))).resolves.toMatchObject({ rowCount: 1 })
    // A project's row: not moved to another organisation, by its own project's request either.
    await expect(as(project1, () => app.query(`UPDATE lv.projects SET org_id = '${B}' WHERE id = 1`))).rejects.toThrow(denied)
    await expect(as({ [PROJECT]: '1' }, () => app.query(`UPDATE lv.projects SET org_id = '${B}' WHERE id = 1`))).rejects.toThrow(denied)
    await expect(as(project1, () => app.query(`INSERT INTO lv.projects VALUES (4, '${A}')`))).resolves.toMatchObject({ rowCount: 1 })
    const wide = { [ORG]: A, [PROJECT]: '', [SCOPE]: 'organization' }
    await expect(as(wide, () => app.query(`INSERT INTO lv.datasets VALUES (4, 2, NULL)`))).resolves.toMatchObject({ rowCount: 1 })
    await expect(as(wide, () => app.query(`INSERT INTO lv.datasets VALUES (4, 3, NULL)`))).rejects.toThrow(denied)
    await expect(as(wide, () => app.query(`INSERT INTO lv.traces VALUES (4, 3, '${B}')`))).rejects.toThrow(denied)
  })

  it('the rollback removes every policy', async () => {
    await owner.query(renderRlsRollback(config, 'x'))
    try {
      expect(await visible({})).toMatchObject({ organizations: ['a', 'b'], projects: [1, 2, 3], ...lower([1, 2, 3]) })
    } finally {
      await owner.query(renderRlsMigration(config, schema, 'x'))
    }
  })
})

describe('the two-level fixture (Langfuse reduced): every seeded row seen exactly by its owners', () => {
  const config = { ...fixtureConfig, rls: RLS_DEFAULTS }
  const schema = parseSchema(readFileSync(TWO_LEVEL_SCHEMA, 'utf8'))
  const [upper, lower] = tenantLevels(config)
  type Row = Readonly<Record<string, unknown>>
  const seed = TWO_LEVEL_SEED as unknown as Readonly<Record<string, readonly Row[]>>
  const promptProject = new Map(seed.Prompt!.map((p) => [p.id, p.projectId]))
  /**
   * The ground truth, by hand from the fixture's ownership: may a request of these organisations and
   * projects (an org-wide one: every project of its organisation) see this row?
   */
  function owned(model: string, row: Row, orgs: readonly string[], projects: readonly string[]): boolean {
    if (model === 'User') return true
    if (model === 'Organization') return orgs.includes(row.id as string)
    if (model === 'Project') return orgs.includes(row.orgId as string) || projects.includes(row.id as string)
    if (model === 'PromptDependency') return projects.includes(promptProject.get(row.parentId) as string)
    if ('projectId' in row && !('orgId' in row)) return projects.includes(row.projectId as string)
    return orgs.includes(row.orgId as string) // organisation level (AuditLog, MembershipInvitation also name a project)
  }
  const tableOf = (model: string) => schema.models[model]!.dbName ?? model
  const columnOf = (model: string, field: string) => schema.models[model]!.fields.find((f) => f.name === field)!.dbName ?? field
  let db: TestDatabase
  let app: pg.Client
  beforeAll(async () => {
    db = await createTestDatabase({ template: 'template0' })
    const inserts = Object.entries(seed).flatMap(([model, rows]) =>
      rows.map((row) => {
        const fields = Object.keys(row)
        const values = fields.map((f) => (row[f] === null ? 'NULL' : typeof row[f] === 'number' ? String(row[f]) : `'${String(row[f]).replace(/'/g, "''")}'`))
        return `INSERT INTO "${tableOf(model)}" (${fields.map((f) => `"${columnOf(model, f)}"`).join(', ')}) VALUES (${values.join(', ')});`
      }),
    )
    await runSql(db.url('owner'), [
      readFileSync(TWO_LEVEL_PG_MIGRATION, 'utf8'),
      ...inserts,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${ROLES.app};`,
      renderRlsMigration(config, schema, 'tenantfence.config.ts'),
    ].join('\n'))
    app = new pg.Client({ connectionString: db.url('app') })
    await app.connect()
  })
  afterAll(async () => {
    await app?.end()
    await db?.drop()
  })

  /** Every table's ids seen by the app role with these settings, and what the ground truth expects. */
  async function seenAndOwned(settings: Record<string, string>, orgs: readonly string[], projects: readonly string[]) {
    await app.query('BEGIN')
    try {
      for (const [k, v] of Object.entries(settings)) await app.query('SELECT set_config($1, $2, true)', [k, v])
      const seen: Record<string, string[]> = {}
      const expected: Record<string, string[]> = {}
      for (const [model, rows] of Object.entries(seed)) {
        seen[model] = (await app.query(`SELECT id FROM "${tableOf(model)}" ORDER BY id`)).rows.map((r) => r.id)
        expected[model] = rows.filter((r) => owned(model, r, orgs, projects)).map((r) => r.id as string).sort()
      }
      return { seen, expected }
    } finally {
      await app.query('ROLLBACK')
    }
  }

  it.each([
    ["a project's request", { org: ORG_A, project: P_A1, scope: '' }, [ORG_A], [P_A1]],
    ['its sibling project', { org: ORG_A, project: P_A2, scope: '' }, [ORG_A], [P_A2]],
    ['a project of the other organisation', { org: ORG_B, project: P_B1, scope: '' }, [ORG_B], [P_B1]],
    ["an org admin (scope 'organization')", { org: ORG_A, project: '', scope: 'organization' }, [ORG_A], [P_A1, P_A2]],
    ['the organisation only, no scope', { org: ORG_A, project: '', scope: '' }, [ORG_A], []],
    ['nothing set', { org: '', project: '', scope: '' }, [], []],
  ] as const)('%s', async (_name, ctx, orgs, projects) => {
    const { seen, expected } = await seenAndOwned({ [upper!.rlsSetting]: ctx.org, [lower!.rlsSetting]: ctx.project, [config.rls.scopeSetting]: ctx.scope }, orgs, projects)
    expect(seen).toEqual(expected)
    // the truth is not vacuous: both levels' rows are in it, and some rows are outside it
    if (orgs.length) expect(seen.AuditLog!.length * (projects.length ? seen.Dataset!.length : 1)).toBeGreaterThan(0)
    expect(Object.values(seen).flat().length).toBeLessThan(Object.values(seed).flat().length)
  })

  it('phase check 4 finds every table of both levels enabled, forced and with its policies', async () => {
    const result = await checkRlsDatabase(config, readFileSync(TWO_LEVEL_SCHEMA, 'utf8'), db.url('app'))
    expect(result.tables.map((t) => t.model)).toEqual([...Object.keys(config.models), 'Organization', 'Project'])
    expect(result.passed).toBe(true)
  })

  it('a documented bypass reason sees every row', async () => {
    const { seen } = await seenAndOwned({ [config.rls.bypassSetting]: config.bypass.reasons[0]! }, [], [])
    expect(seen).toEqual(Object.fromEntries(Object.entries(seed).map(([m, rows]) => [m, rows.map((r) => r.id as string).sort()])))
  })
})
