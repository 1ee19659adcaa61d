// One run of the differential fuzz test over a schema description: generated queries judged by the
// database (helpers/isolation-truth.ts) and run through tenantfence in enforce as the schema's
// request. Returns what a test asserts on: the leaking queries let through, the queries let through
// whose answer differs from Prisma's, over-blocking and the mix, with a summary that says how to
// replay the run.
import { inspect } from 'node:util'
import { stable, type AnyClient } from './isolation-db.ts'
import { QueryGenerator, Rng, type GenQuery } from './isolation-gen.ts'
import { fencedRun, groundTruth, normalize, type TruthDatabases } from './isolation-truth.ts'

function envInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name}=${JSON.stringify(raw)} is not a non-negative integer (e.g. ${name}=${fallback})`)
  return n
}

/** A fuzz file's seed and size (TENANTFENCE_FUZZ_SEED, TENANTFENCE_FUZZ_RUNS), and the line that replays it. */
export function fuzzSettings(file: string, defaults: { seed: number; runs: number }): { seed: number; runs: number; replay: string } {
  const seed = envInt('TENANTFENCE_FUZZ_SEED', defaults.seed)
  const runs = envInt('TENANTFENCE_FUZZ_RUNS', defaults.runs)
  return { seed, runs, replay: `TENANTFENCE_FUZZ_SEED=${seed} TENANTFENCE_FUZZ_RUNS=${runs} npx vitest run ${file}` }
}

export interface FuzzResult {
  runs: number
  /** queries that leak on the plain client (returned, changed, or depend on another tenant's rows) */
  leaking: number
  leakKinds: { returned: number; changed: number; depends: number }
  safe: number
  /** rejected by Prisma's validation before running: nothing was read or written */
  invalid: number
  /** leaking queries tenantfence let through */
  missed: string[]
  /** queries let through whose answer differs from the plain client's */
  altered: string[]
  /** safe queries tenantfence blocked */
  overBlocked: string[]
  /** of those, the schema's scoped templates run untwisted: plainly scoped shapes, which must pass */
  overBlockedTemplates: string[]
  summary: string
}

export const showQuery = (q: GenQuery) =>
  `${q.model[0]!.toLowerCase()}${q.model.slice(1)}.${q.op}(${inspect(q.args, { depth: null, breakLength: 140 })})`

/** Generate `runs` queries from `seed` and judge each on the plain client and through `prisma`. */
export async function runDifferentialFuzz(opts: {
  truth: TruthDatabases
  prisma: AnyClient
  seed: number
  runs: number
  replay: string
}): Promise<FuzzResult> {
  const { truth, prisma, seed, runs } = opts
  const gen = new QueryGenerator(new Rng(seed), truth.schema)
  const r: FuzzResult = {
    runs,
    leaking: 0,
    leakKinds: { returned: 0, changed: 0, depends: 0 },
    safe: 0,
    invalid: 0,
    missed: [],
    altered: [],
    overBlocked: [],
    overBlockedTemplates: [],
    summary: '',
  }
  const templates = new Set(truth.schema.gen.templates.map((t) => stable(t)))
  for (let i = 0; i < runs; i++) {
    const q = gen.query()
    const verdict = await groundTruth(truth, q)
    // reads alternate between a direct call and an interactive transaction; writes are always rolled back
    const fenced = await fencedRun(prisma, q, i % 2 === 0, truth.schema)
    const blocked = !fenced.ok && fenced.blocked !== undefined
    if (verdict.invalid) r.invalid++
    if (verdict.leaks.length) {
      r.leaking++
      for (const l of verdict.leaks)
        r.leakKinds[l.startsWith('returned') ? 'returned' : l.startsWith('changed') ? 'changed' : 'depends']++
      if (!blocked) r.missed.push(`#${i} ${showQuery(q)}\n    leaks: ${verdict.leaks.join('\n    ')}`)
    } else if (!verdict.invalid) {
      r.safe++
      if (blocked && !fenced.ok) {
        const line = `#${i} ${q.model}.${q.op} blocked as ${fenced.blocked?.violation} on ${fenced.blocked?.model}`
        r.overBlocked.push(line)
        if (templates.has(stable(q))) r.overBlockedTemplates.push(`${line}: ${showQuery(q)}`)
      }
    }
    // a query let through must do exactly what Prisma does without the extension
    if (!blocked && normalize(fenced) !== normalize(verdict.outcome))
      r.altered.push(
        `#${i} ${showQuery(q)}\n    plain: ${normalize(verdict.outcome).slice(0, 300)}\n    fenced: ${normalize(fenced).slice(0, 300)}`,
      )
  }
  const k = r.leakKinds
  r.summary =
    `seed ${seed}: ${runs} queries, ${r.leaking} leak (${k.returned} returned, ${k.changed} changed, ${k.depends} depend on ` +
    `another tenant's rows), ${r.safe} safe (${r.overBlocked.length} of them blocked: over-blocking), ${r.invalid} rejected ` +
    `by Prisma; ${r.missed.length} leaking queries let through.\nReplay: ${opts.replay}`
  return r
}
