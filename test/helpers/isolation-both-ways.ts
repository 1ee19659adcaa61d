// Shapes tested both ways on a real database, with the database as a second judge: each blocked shape
// is rejected with TENANT_CONTEXT_REQUIRED (the kind and model docs/isolation.md names) and changes
// nothing, and the same query on the plain client really leaks (returns, changes or depends on another
// tenant's rows) unless the case says the rule blocks it although this seed shows no leak; each
// scoped shape passes, returns or changes exactly what its check says, and leaks nothing.
import { expect, it } from 'vitest'
import { runWithTenant } from '../../src/index.ts'
import type { AnyClient, IsolationDb } from './isolation-db.ts'
import type { GenQuery } from './isolation-gen.ts'
import { contextOf } from './isolation-schema.ts'
import { groundTruth, runQuery, snapshotOf, type TruthDatabases } from './isolation-truth.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
type Run = GenQuery | ((p: AnyClient) => Promise<unknown>)

export interface Blocked {
  name: string
  run: Run
  /** the kinds docs/isolation.md allows for this shape */
  violation?: string | readonly string[]
  /** the model the error names */
  model?: string | readonly string[]
  /**
   * Why the rule blocks a shape that does not leak on this seed (a row that happens not to exist, a
   * filter that happens to match nothing): without it, the plain client must show a leak.
   */
  ruleOnly?: string
}

export interface Passes {
  name: string
  run: Run
  /** the rows it must return, or what the plain client must see afterwards */
  check?(result: any, base: AnyClient): Promise<void> | void
  /** tenantfence lets it through and the database refuses it with this Prisma code (as without tenantfence) */
  rejects?: string
}

export interface BothWaysEnv {
  db: IsolationDb
  truth: TruthDatabases
}

export interface BothWaysOptions {
  /** the tenantfence client to run through (default: the database's enforce client) */
  client?: () => AnyClient
  /** false: run outside any runWithTenant (a job); the ground truth is then not asked */
  context?: boolean
}

const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))?.slice(0, 400)

/** Each blocked shape is rejected and changes nothing; each scoped shape passes and is checked. */
export function bothWays(
  env: () => BothWaysEnv,
  cases: { blocked?: Blocked[]; passes?: Passes[] },
  opts: BothWaysOptions = {},
): void {
  const client = () => opts.client?.() ?? env().db.prisma
  const inContext = <T>(fn: () => Promise<T>) =>
    opts.context === false ? fn() : runWithTenant(contextOf(env().db.schema), fn)
  const exec = (run: Run, p: AnyClient) => (typeof run === 'function' ? run(p) : runQuery(p, run, env().db.schema))
  const judged = (run: Run) => typeof run !== 'function' && opts.context !== false

  const blocked = cases.blocked ?? []
  if (blocked.length)
    it.each(blocked.map((c) => [c.name, c] as const))('blocks %s', async (_name, c) => {
      const { db, truth } = env()
      if (judged(c.run)) {
        const verdict = await groundTruth(truth, c.run as GenQuery)
        expect(verdict.invalid, `Prisma rejects the shape itself: ${show(verdict.outcome)}`).toBe(false)
        if (c.ruleOnly) expect(verdict.leaks, `marked rule-only (${c.ruleOnly}) but it leaks`).toEqual([])
        else
          expect(
            verdict.leaks.length,
            'the plain client shows no leak: mark the case ruleOnly and say why',
          ).toBeGreaterThan(0)
      }
      const before = await snapshotOf(db.base, db.schema)
      const outcome = await inContext(() => exec(c.run, client())).then(
        (value) => ({ value }),
        (error) => ({ error }),
      )
      const err = 'error' in outcome ? (outcome.error as Record<string, unknown>) : undefined
      expect(err?.code, `let through, returned ${show('value' in outcome ? outcome.value : err?.message)}`).toBe(
        'TENANT_CONTEXT_REQUIRED',
      )
      if (c.violation)
        expect([c.violation].flat(), `violation ${String(err!.violation)} on ${String(err!.model)}`).toContain(
          err!.violation,
        )
      if (c.model)
        expect([c.model].flat(), `model ${String(err!.model)} (${String(err!.violation)})`).toContain(err!.model)
      expect(await snapshotOf(db.base, db.schema)).toEqual(before)
    })

  const passes = cases.passes ?? []
  if (passes.length)
    it.each(passes.map((c) => [c.name, c] as const))('passes %s', async (_name, c) => {
      const { db, truth } = env()
      if (judged(c.run)) {
        const verdict = await groundTruth(truth, c.run as GenQuery)
        expect(verdict.invalid, `Prisma rejects the shape itself: ${show(verdict.outcome)}`).toBe(false)
        expect(verdict.leaks, 'a scoped shape must not leak on the plain client').toEqual([])
      }
      if (c.rejects) {
        const error = await inContext(() => exec(c.run, client())).then(
          (value) => expect.fail(`expected the database to refuse it (${c.rejects}), it returned ${show(value)}`),
          (e: { code?: unknown; message?: unknown }) => e,
        )
        expect(error.code, String(error.message)).toBe(c.rejects)
      } else {
        const result = await inContext(() => exec(c.run, client()))
        await c.check?.(result, db.base)
      }
    })
}
