// What the two-level fuzz files share (test/two-level-fuzz.test.ts and its slow twin): the databases
// of one request's scope and what every run must show.
import { afterAll, beforeAll, expect } from 'vitest'
import config from '../fixtures/two-level-app/tenantfence.config.ts'
import { openIsolation, type IsolationDb } from './isolation-db.ts'
import type { FuzzResult } from './isolation-fuzz-run.ts'
import type { IsolationSchema } from './isolation-schema.ts'
import { openTruthDatabases, type TruthDatabases } from './isolation-truth.ts'

/** What every fuzz run must show (the slow file asserts the same on its larger runs). */
export function expectNoLeak(r: FuzzResult, runs: number): void {
  expect(r.missed.length, `${r.summary}\n\nLeaking queries tenantfence let through:\n${r.missed.slice(0, 25).join('\n\n')}\n`).toBe(0)
  expect(
    r.altered.length,
    `${r.summary}\n\nQueries the extension let through but answered differently:\n${r.altered.slice(0, 10).join('\n\n')}\n`,
  ).toBe(0)
  expect(r.overBlockedTemplates, `${r.summary}\nscoped templates (untwisted) blocked`).toEqual([])
  expect(r.overBlocked.length, `${r.summary}\nevery safe query was blocked`).toBeLessThan(r.safe)
  if (runs >= 50) expect(r.leaking, `${r.summary}\nthe generator must produce leaking queries, or this test proves nothing`).toBeGreaterThan(runs / 20)
  if (runs >= 50) expect(r.invalid, `${r.summary}\ntoo many generated queries are not valid Prisma`).toBeLessThan(runs * 0.2)
}

/** The seeded database through tenantfence in enforce and the ground-truth databases of a request. */
export function useFuzzDatabases(schema: IsolationSchema) {
  const state: { db?: IsolationDb; truth?: TruthDatabases } = {}
  beforeAll(async () => {
    state.db = await openIsolation(schema, config, { TENANT_ENFORCEMENT_MODE: 'enforce' })
    state.truth = await openTruthDatabases(state.db.base, schema)
  })
  afterAll(async () => {
    await state.truth?.close()
    await state.db?.close()
  })
  return state as { db: IsolationDb; truth: TruthDatabases }
}

