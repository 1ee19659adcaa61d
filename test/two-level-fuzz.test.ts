// Differential fuzz test of the two-level check (issue 22) on the two-level fixture
// (test/fixtures/two-level-app: Langfuse's Organization → Project): random queries over it and near
// misses of scoped templates (helpers/isolation-gen.ts driven by helpers/two-level-app.ts), judged by
// the database, not by the rule. A query leaks when, on the plain client (in a transaction rolled
// back), it returned or changed a row outside what the request may touch, linked a row to one, or
// answered differently once those rows were deleted or altered:
//   - as a project (o_acme, p_a1): p_a1's project-level rows, o_acme's organisation-level rows and
//     Project rows; a sibling project's rows (p_a2) and the other organisation's are outside;
//   - as an org admin (o_acme, scope 'organization'): o_acme's rows and every project's of o_acme.
// Through tenantfence in enforce every leaking query must be blocked, every query let through must
// answer as Prisma does, and a scoped template run untwisted must pass; other over-blocking is
// counted in the summary, not asserted. A larger run of fresh seeds: test/two-level-fuzz.slow.test.ts.
//
// Reproduce a run: TENANTFENCE_FUZZ_SEED=<seed> TENANTFENCE_FUZZ_RUNS=<n> npx vitest run test/two-level-fuzz.test.ts
import { describe, expect, it } from 'vitest'
import { fuzzSettings, runDifferentialFuzz } from './helpers/isolation-fuzz-run.ts'
import type { GenQuery } from './helpers/isolation-gen.ts'
import { groundTruth, snapshotOf, type TruthDatabases } from './helpers/isolation-truth.ts'
import { expectNoLeak, useFuzzDatabases } from './helpers/two-level-fuzz.ts'
import { ORG_A, ORG_B, P_A1, P_A2, P_B1, TWO_LEVEL, TWO_LEVEL_WIDE } from './helpers/two-level-app.ts'

const FILE = 'test/two-level-fuzz.test.ts'
const { seed: SEED, runs: RUNS, replay: REPLAY } = fuzzSettings(FILE, { seed: 20261207, runs: 50 })

const project = useFuzzDatabases(TWO_LEVEL)
const wide = useFuzzDatabases(TWO_LEVEL_WIDE)

describe('the ground truth of two levels (taken from the database, not from the rule)', () => {
  const leaks = (truth: TruthDatabases, model: string, op: string, args: Record<string, unknown>) =>
    groundTruth(truth, { model, op, args } satisfies GenQuery).then((t) => t.leaks.join('\n'))

  it("as a project: a sibling project's rows and another organisation's are outside, the organisation's own rows inside", async () => {
    const t = project.truth
    expect(await leaks(t, 'Dataset', 'findMany', { where: { project: { orgId: ORG_A } } })).toMatch(/returned Dataset#ds_a2 \(tenant p_a2\)/)
    expect(await leaks(t, 'Dataset', 'findMany', { where: { projectId: P_A1 } })).toBe('')
    expect(await leaks(t, 'OrganizationMembership', 'findMany', {})).toMatch(/tenant o_globex/)
    expect(await leaks(t, 'OrganizationMembership', 'findMany', { where: { orgId: ORG_A } })).toBe('')
    // a Project row is its organisation's: the sibling project's row itself is inside, its rows are not
    expect(await leaks(t, 'Project', 'findMany', { where: { orgId: ORG_A } })).toBe('')
    expect(await leaks(t, 'Project', 'findMany', { where: { orgId: ORG_A }, include: { datasets: true } })).toMatch(/Dataset#ds_a2/)
    // an answer that depends on the sibling's rows
    expect(await leaks(t, 'Dataset', 'count', { where: { name: 'eval', project: { orgId: ORG_A } } })).toMatch(/returned|depends/)
  })

  it('as a project: a link to an organisation-level row of another organisation, or a project of it, is a leak', async () => {
    const t = project.truth
    expect(
      await leaks(t, 'ProjectMembership', 'create', { data: { projectId: P_A1, userId: 'u_dave', orgMembershipId: 'om_b1', role: 'VIEWER' } }),
    ).toMatch(/changed other tenants' rows/)
    expect(await leaks(t, 'MembershipInvitation', 'update', { where: { id: 'mi_a1' }, data: { projectId: P_B1 } })).toMatch(/changed/)
    expect(await leaks(t, 'MembershipInvitation', 'update', { where: { id: 'mi_a1' }, data: { projectId: P_A2 } })).toBe('')
  })

  it("as an org admin: every project of the organisation is inside, the other organisation's outside", async () => {
    const t = wide.truth
    expect(await leaks(t, 'Dataset', 'findMany', { where: { project: { orgId: ORG_A } } })).toBe('')
    expect(await leaks(t, 'Dataset', 'findMany', { where: { projectId: { in: [P_A2, P_B1] } } })).toMatch(/returned Dataset#ds_b1 \(tenant p_b1\)/)
    expect(await leaks(t, 'Project', 'findMany', { where: { orgId: ORG_B } })).toMatch(/tenant o_globex/)
  })

  it('a new project of the organisation is a new tenant: its nested rows are its own', async () => {
    const data = { name: 'Third', datasets: { create: { name: 'eval' } } }
    expect(await leaks(project.truth, 'Project', 'create', { data: { ...data, orgId: ORG_A } })).toBe('')
    expect(await leaks(project.truth, 'Project', 'create', { data: { ...data, orgId: ORG_B } })).toMatch(/changed/)
  })

  it('leaves the databases as it found them', async () => {
    for (const { truth, schema } of [
      { truth: project.truth, schema: TWO_LEVEL },
      { truth: wide.truth, schema: TWO_LEVEL_WIDE },
    ]) {
      const all = () => Promise.all([truth.original, truth.deleted, truth.altered].map((c) => snapshotOf(c, schema)))
      const before = await all()
      expect(before[0]).toEqual(truth.seed)
      expect(await leaks(truth, 'Organization', 'delete', { where: { id: ORG_B } })).toMatch(/changed/)
      expect(await all()).toEqual(before)
    }
  })
})

describe(`differential fuzz on two levels (seed ${SEED}, ${RUNS} queries a scope, enforce)`, () => {
  it('as a project (o_acme, p_a1): blocks every generated query that leaks', async () => {
    const before = await snapshotOf(project.db.base, TWO_LEVEL)
    const r = await runDifferentialFuzz({ truth: project.truth, prisma: project.db.prisma, seed: SEED, runs: RUNS, replay: REPLAY })
    console.log(r.summary)
    expectNoLeak(r, RUNS)
    expect(await snapshotOf(project.db.base, TWO_LEVEL)).toEqual(before)
  }, 180_000)

  it("as an org admin (o_acme, scope 'organization'): blocks every generated query that leaks", async () => {
    const before = await snapshotOf(wide.db.base, TWO_LEVEL_WIDE)
    const r = await runDifferentialFuzz({ truth: wide.truth, prisma: wide.db.prisma, seed: SEED + 1, runs: RUNS, replay: REPLAY })
    console.log(r.summary)
    expectNoLeak(r, RUNS)
    expect(await snapshotOf(wide.db.base, TWO_LEVEL_WIDE)).toEqual(before)
  }, 180_000)
})
