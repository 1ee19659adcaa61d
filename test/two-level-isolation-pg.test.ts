// Two levels of tenancy (issue 22) on PostgreSQL (a server the run starts itself, a database of each
// context's own): the shapes of test/two-level-isolation.test.ts (helpers/two-level-cases.ts) through
// tenantfence in enforce on the two-level fixture's PostgreSQL client. Each blocked shape is refused
// and changes nothing (a read of it on the plain client returns rows outside the request's, or it is
// marked rule-only); each scoped shape passes and returns what it must (writes in a transaction that
// is rolled back). The SQLite run asks the database for the ground truth of every shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runWithTenant } from '../src/index.ts'
import config from './fixtures/two-level-app/tenantfence.config.ts'
import type { Blocked, Passes } from './helpers/isolation-both-ways.ts'
import { openIsolation, ownership, readTables, type IsolationDb, type Tables } from './helpers/isolation-db.ts'
import { isWrite, type GenQuery } from './helpers/isolation-gen.ts'
import { contextOf, type IsolationSchema } from './helpers/isolation-schema.ts'
import { foreignRowsIn, rolledBack, runQuery } from './helpers/isolation-truth.ts'
import { ORG_A, P_A1, P_B1, PROJECT_CONTEXT, TWO_LEVEL, TWO_LEVEL_ORG_ONLY, TWO_LEVEL_WIDE } from './helpers/two-level-app.ts'
import {
  ORG_ONLY_BLOCKED,
  ORG_ONLY_PASSES,
  PROJECT_BLOCKED,
  PROJECT_PASSES,
  WIDE_BLOCKED,
  WIDE_PASSES,
} from './helpers/two-level-cases.ts'
import { openTwoLevelPostgres } from './helpers/two-level-client.ts'

/** The seed as tables (every write of these tests is rolled back, so the database keeps it). */
const SEED_TABLES = TWO_LEVEL.seed as Tables
const onPostgres = (schema: IsolationSchema): IsolationSchema => ({ ...schema, open: () => openTwoLevelPostgres() })

function onPg(schema: IsolationSchema, cases: { blocked: Blocked[]; passes: Passes[] }, more?: (db: () => IsolationDb) => void): void {
  let db: IsolationDb
  beforeAll(async () => {
    db = await openIsolation(onPostgres(schema), config, { TENANT_ENFORCEMENT_MODE: 'enforce' })
  })
  afterAll(async () => {
    await db?.close()
  })
  const inContext = <T>(fn: () => Promise<T>) => runWithTenant(contextOf(schema), fn)

  it.each(cases.blocked.map((c) => [c.name, c] as const))('blocks %s', async (_name, c) => {
    const q = c.run as GenQuery
    const write = isWrite(q.op)
    // a read changes nothing: only a write is compared before and after (each comparison reads every table)
    const before = write ? await readTables(db.base, schema) : undefined
    if (!write && !c.ruleOnly) {
      const plain = await runQuery(db.base, q, schema)
      expect(foreignRowsIn(plain, q.model, [ownership(SEED_TABLES, schema)], schema), 'the plain client returns rows outside the request').not.toEqual([])
    }
    // a write in a transaction rolled back: one let through must not spoil the tests after it
    const error = await inContext(() =>
      isWrite(q.op) ? rolledBack(db.prisma, (tx) => runQuery(tx, q, schema)) : runQuery(db.prisma, q, schema),
    ).then(
      (value) => expect.fail(`let through, returned ${JSON.stringify(value)?.slice(0, 300)}`),
      (e: Record<string, unknown>) => e,
    )
    expect(error.code, String(error.message)).toBe('TENANT_CONTEXT_REQUIRED')
    if (c.violation) expect([c.violation].flat()).toContain(error.violation)
    if (c.model) expect([c.model].flat()).toContain(error.model)
    if (write) expect(await readTables(db.base, schema)).toEqual(before)
  })

  it.each(cases.passes.map((c) => [c.name, c] as const))('passes %s', async (_name, c) => {
    const q = c.run as GenQuery
    const write = isWrite(q.op)
    const before = write ? await readTables(db.base, schema) : undefined
    const result = await inContext(() =>
      write ? rolledBack(db.prisma, (tx) => runQuery(tx, q, schema)) : runQuery(db.prisma, q, schema),
    )
    await c.check?.(result, db.base)
    if (write) expect(await readTables(db.base, schema)).toEqual(before)
  })
  more?.(() => db)
}

describe('PostgreSQL, as a project (o_acme, p_a1)', () => {
  onPg(TWO_LEVEL, { blocked: PROJECT_BLOCKED, passes: PROJECT_PASSES }, (db) => {
    it("refuses a context whose project is not one of its organisation's", async () => {
      const foreignProject = { ...PROJECT_CONTEXT, tenantIds: { organization: ORG_A, project: P_B1 } }
      await expect(runWithTenant(foreignProject, () => db().prisma.dataset.findMany({ where: { projectId: P_B1 } }))).rejects.toMatchObject({
        code: 'TENANT_CONTEXT_REQUIRED',
        violation: 'tenant_mismatch',
      })
      expect(await runWithTenant(PROJECT_CONTEXT, () => db().prisma.dataset.count({ where: { projectId: P_A1 } }))).toBe(2)
    })
  })
})

describe("PostgreSQL, as an org admin (o_acme, scope 'organization')", () => {
  onPg(TWO_LEVEL_WIDE, { blocked: WIDE_BLOCKED, passes: WIDE_PASSES })
})

describe('PostgreSQL, as the organisation alone', () => {
  onPg(TWO_LEVEL_ORG_ONLY, { blocked: ORG_ONLY_BLOCKED, passes: ORG_ONLY_PASSES })
})
