// Two levels with row-level security (issue 22), the second line: on PostgreSQL with the policies
// `generate` writes for the two-level fixture's config applied, and the extension's rls option on,
// the check disabled (log_only: it logs the leak and lets the query run), the leaking reads of the
// two-level suite (helpers/two-level-cases.ts) return only what the request may see: the database
// refuses the same leaks. The same queries as a superuser (never subject to the policies) do leak,
// so each case proves something. The tables' owner runs the queries: FORCE ROW LEVEL SECURITY
// subjects it to the policies.
import { readFileSync } from 'node:fs'
import { PrismaPg } from '@prisma/adapter-pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RLS_DEFAULTS } from '../src/config/schema.ts'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { renderRlsMigration } from '../src/generate/rls.ts'
import { runWithTenant } from '../src/index.ts'
import fixtureConfig from './fixtures/two-level-app/tenantfence.config.ts'
import type { Blocked } from './helpers/isolation-both-ways.ts'
import { openIsolation, ownership, readTables, type AnyClient, type IsolationDb, type Tables } from './helpers/isolation-db.ts'
import { isWrite, type GenQuery } from './helpers/isolation-gen.ts'
import { contextOf, type IsolationSchema } from './helpers/isolation-schema.ts'
import { foreignRowsIn, runQuery, settle } from './helpers/isolation-truth.ts'
import { ORG_A, P_A2, P_B1, TWO_LEVEL, TWO_LEVEL_WIDE } from './helpers/two-level-app.ts'
import { PROJECT_BLOCKED, WIDE_BLOCKED } from './helpers/two-level-cases.ts'
import { openTwoLevelPostgres, twoLevelClientClass, TWO_LEVEL_SCHEMA, type TwoLevelDatabase } from './helpers/two-level-client.ts'
import { runSql } from './helpers/postgres.ts'

const config = { ...fixtureConfig, rls: RLS_DEFAULTS }
const POLICIES = renderRlsMigration(config, parseSchema(readFileSync(TWO_LEVEL_SCHEMA, 'utf8')), 'tenantfence.config.ts')
const LOG_ONLY = { TENANT_ENFORCEMENT_MODE: 'log_only' }

let pgDb: TwoLevelDatabase | undefined
let db: IsolationDb
let admin: AnyClient
let seed: Tables
beforeAll(async () => {
  const schema: IsolationSchema = {
    ...TWO_LEVEL,
    open: async () => (pgDb = await openTwoLevelPostgres()),
  }
  // seeded first (as the owner, before the policies), then the policies
  db = await openIsolation(schema, config, LOG_ONLY, { rls: true })
  await runSql(pgDb!.pg!.url('owner'), POLICIES)
  const PrismaClient = await twoLevelClientClass('postgresql')
  admin = new PrismaClient({ adapter: new PrismaPg({ connectionString: pgDb!.pg!.url('admin'), max: 1 }) })
  seed = await readTables(admin, TWO_LEVEL)
})
afterAll(async () => {
  await admin?.$disconnect()
  await db?.close()
})

/** The leaking reads of a scope's blocked shapes (a rule-only shape leaks nothing to refuse). */
const leakingReads = (cases: Blocked[]) => cases.filter((c) => typeof c.run !== 'function' && !isWrite(c.run.op) && !c.ruleOnly)

for (const [scope, schema, cases] of [
  ['as a project (o_acme, p_a1)', TWO_LEVEL, PROJECT_BLOCKED],
  ["as an org admin (o_acme, scope 'organization')", TWO_LEVEL_WIDE, WIDE_BLOCKED],
] as const) {
  describe(`rls on, the check disabled (log_only), ${scope}: the database refuses the leaks`, () => {
    it.each(leakingReads(cases).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const q = c.run as GenQuery
      const own = [ownership(seed, schema)]
      expect(foreignRowsIn(await runQuery(admin, q, schema), q.model, own, schema), 'without the policies it leaks').not.toEqual([])
      db.lines.length = 0
      const outcome = await runWithTenant(contextOf(schema), () => settle(() => runQuery(db.prisma, q, schema)))
      expect(outcome.ok, JSON.stringify(outcome)).toBe(true)
      expect(db.violations().length, 'the check saw it and let it run (log_only)').toBeGreaterThan(0)
      expect(foreignRowsIn(outcome.ok ? outcome.value : undefined, q.model, own, schema)).toEqual([])
    })
  })
}

it("rls on, the check disabled: a write to another organisation's project finds no row, and changes nothing", async () => {
  const outcome = await runWithTenant(contextOf(TWO_LEVEL), () =>
    settle(() => db.prisma.project.update({ where: { id: P_B1 }, data: { name: 'taken' } })),
  )
  expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/^P2025/) })
  expect(await readTables(admin, TWO_LEVEL)).toEqual(seed)
})

it('rls on, the check disabled: its own API key moved into the sibling project is refused by the policy (the new row is not its project\'s)', async () => {
  const outcome = await runWithTenant(contextOf(TWO_LEVEL), () =>
    settle(() => db.prisma.project.update({ where: { id: P_A2, orgId: ORG_A }, data: { apiKeys: { connect: { id: 'ak_a1' } } } })),
  )
  // the database's refusal (Prisma's driver error), not the check's (log_only lets it run)
  expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/^P\d{4} /) })
  expect(await readTables(admin, TWO_LEVEL)).toEqual(seed)
})
