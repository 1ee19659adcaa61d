// Two levels of tenancy (issue 22) both ways on a real SQLite database (the driver adapter), with the
// database as second judge (helpers/isolation-both-ways.ts): on the two-level fixture (Langfuse's
// Organization → Project), through tenantfence in enforce, each blocked shape is refused and changes
// nothing while the same query on the plain client really leaks; each scoped shape passes and
// returns what it must. Three contexts: a project's (o_acme, p_a1), an org admin's (o_acme, scope
// 'organization') and the organisation alone; then a context whose project is not one of its
// organisation's, and the level each violation names. The same shapes on PostgreSQL:
// test/two-level-isolation-pg.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runWithTenant } from '../src/index.ts'
import config from './fixtures/two-level-app/tenantfence.config.ts'
import { bothWays, type BothWaysEnv } from './helpers/isolation-both-ways.ts'
import { openIsolation, setFlags, stable, type IsolationDb } from './helpers/isolation-db.ts'
import type { IsolationSchema } from './helpers/isolation-schema.ts'
import { openTruthDatabases, snapshotOf, type TruthDatabases } from './helpers/isolation-truth.ts'
import { ORG_A, P_A1, P_B1, PROJECT_CONTEXT, TWO_LEVEL, TWO_LEVEL_ORG_ONLY, TWO_LEVEL_WIDE } from './helpers/two-level-app.ts'
import {
  ORG_ONLY_BLOCKED,
  ORG_ONLY_PASSES,
  PROJECT_BLOCKED,
  PROJECT_PASSES,
  WIDE_BLOCKED,
  WIDE_PASSES,
} from './helpers/two-level-cases.ts'

const ENFORCE = { TENANT_ENFORCEMENT_MODE: 'enforce' }

/** A seeded database of this request's scope through tenantfence, its ground truth, a reset before each test that wrote. */
function useTwoLevel(schema: IsolationSchema): () => BothWaysEnv {
  let db: IsolationDb
  let truth: TruthDatabases
  let seed: string
  beforeAll(async () => {
    db = await openIsolation(schema, config, ENFORCE)
    truth = await openTruthDatabases(db.base, schema)
    seed = stable(await snapshotOf(db.base, schema))
  })
  afterAll(async () => {
    await truth?.close()
    await db?.close()
  })
  beforeEach(async () => {
    setFlags(ENFORCE)
    db.lines.length = 0
    if (stable(await snapshotOf(db.base, schema)) !== seed) await db.reset()
  })
  return () => ({ db, truth })
}

describe('as a project (o_acme, p_a1): both levels checked, a sibling project and another organisation refused', () => {
  const env = useTwoLevel(TWO_LEVEL)
  bothWays(env, { blocked: PROJECT_BLOCKED, passes: PROJECT_PASSES })

  // tenantLevel, not level: pino writes its own numeric `level` on every line
  it('names the level that failed in the violation line', async () => {
    const { db } = env()
    const blockedAs = async (run: () => Promise<unknown>) => {
      db.lines.length = 0
      await expect(runWithTenant(PROJECT_CONTEXT, run)).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
      return db.violations().map((l) => [l.model, l.tenantLevel])
    }
    expect(await blockedAs(() => db.prisma.dataset.findMany({ where: { projectId: P_B1 } }))).toEqual([['Dataset', 'project']])
    expect(await blockedAs(() => db.prisma.organizationMembership.findMany({}))).toEqual([['OrganizationMembership', 'organization']])
  })

  it("refuses a context whose project is not one of its organisation's, even for queries scoped to it", async () => {
    const { db } = env()
    const foreignProject = { ...PROJECT_CONTEXT, tenantIds: { organization: ORG_A, project: P_B1 } }
    for (const run of [
      () => db.prisma.dataset.findMany({ where: { projectId: P_B1 } }),
      () => db.prisma.organizationMembership.findMany({ where: { orgId: ORG_A } }),
    ])
      await expect(runWithTenant(foreignProject, run)).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED', violation: 'tenant_mismatch' })
    // the same queries in a context whose project is the organisation's pass
    expect(await runWithTenant(PROJECT_CONTEXT, () => db.prisma.dataset.count({ where: { projectId: P_A1 } }))).toBe(2)
  })
})

describe("as an org admin (o_acme, scope 'organization'): every project of the organisation, nothing of another", () => {
  bothWays(useTwoLevel(TWO_LEVEL_WIDE), { blocked: WIDE_BLOCKED, passes: WIDE_PASSES })
})

describe('as the organisation alone (no project, no scope): organisation-level rows only', () => {
  bothWays(useTwoLevel(TWO_LEVEL_ORG_ONLY), { blocked: ORG_ONLY_BLOCKED, passes: ORG_ONLY_PASSES })
})
