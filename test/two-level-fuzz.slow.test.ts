// The two-level differential fuzz (test/two-level-fuzz.test.ts says what it judges and how) at a
// size too slow for every `npm test`: more queries a scope, from another seed. `npm run test:slow`
// and CI run it; a fresh seed: TENANTFENCE_FUZZ_SEED=<n> TENANTFENCE_FUZZ_RUNS=<n> npx vitest run --project slow test/two-level-fuzz.slow.test.ts
import { describe, expect, it } from 'vitest'
import { fuzzSettings, runDifferentialFuzz } from './helpers/isolation-fuzz-run.ts'
import { snapshotOf } from './helpers/isolation-truth.ts'
import { TWO_LEVEL, TWO_LEVEL_WIDE } from './helpers/two-level-app.ts'
import { expectNoLeak, useFuzzDatabases } from './helpers/two-level-fuzz.ts'

const FILE = 'test/two-level-fuzz.slow.test.ts'
const { seed: SEED, runs: RUNS, replay: REPLAY } = fuzzSettings(FILE, { seed: 2026120722, runs: 500 })

const project = useFuzzDatabases(TWO_LEVEL)
const wide = useFuzzDatabases(TWO_LEVEL_WIDE)

describe(`differential fuzz on two levels, the long run (seed ${SEED}, ${RUNS} queries a scope, enforce)`, () => {
  it('as a project (o_acme, p_a1)', async () => {
    const before = await snapshotOf(project.db.base, TWO_LEVEL)
    const r = await runDifferentialFuzz({ truth: project.truth, prisma: project.db.prisma, seed: SEED, runs: RUNS, replay: REPLAY })
    console.log(r.summary)
    expectNoLeak(r, RUNS)
    expect(await snapshotOf(project.db.base, TWO_LEVEL)).toEqual(before)
  }, 600_000)

  it("as an org admin (o_acme, scope 'organization')", async () => {
    const before = await snapshotOf(wide.db.base, TWO_LEVEL_WIDE)
    const r = await runDifferentialFuzz({ truth: wide.truth, prisma: wide.db.prisma, seed: SEED + 1, runs: RUNS, replay: REPLAY })
    console.log(r.summary)
    expectNoLeak(r, RUNS)
    expect(await snapshotOf(wide.db.base, TWO_LEVEL_WIDE)).toEqual(before)
  }, 600_000)
})
