// The setup every test file of the app schema shares: its seeded database through tenantfence in
// enforce (as team_Acme), the ground-truth databases, a client without lookups, a reset before each
// test that wrote, and small helpers for writing cases.
import { afterAll, beforeAll, beforeEach } from 'vitest'
import appConfig from '../fixtures/isolation-app/tenantfence.config.ts'
import { APP } from './isolation-app.ts'
import type { BothWaysEnv } from './isolation-both-ways.ts'
import { openIsolation, setFlags, stable, type AnyClient, type IsolationDb } from './isolation-db.ts'
import type { GenQuery } from './isolation-gen.ts'
import { openTruthDatabases, snapshotOf, type TruthDatabases } from './isolation-truth.ts'

export { appConfig }
export { ACME as A, GLOBEX as G, ACME_LOWER as L, REQUEST } from './isolation-app.ts'

export const ENFORCE = { TENANT_ENFORCEMENT_MODE: 'enforce' }
export const MISMATCH = 'tenant_mismatch'
export const NESTED_WRITE = 'unscoped_nested_write'
export const NESTED_READ = 'unscoped_nested_read'
export const RELATION_FILTER = 'unscoped_relation_filter'

export const q = (model: string, op: string, args: Record<string, unknown>): GenQuery => ({ model, op, args })
export const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id).sort()

/** Run fn in a transaction of this client and roll it back (a blocked step inside rejects the whole). */
export const rolledBack = (c: AnyClient, fn: (tx: AnyClient) => Promise<unknown>): Promise<unknown> =>
  c
    .$transaction(async (tx: AnyClient) => {
      const value = await fn(tx)
      throw Object.assign(new Error('rollback'), { value })
    })
    .catch((e: { message?: string; value?: unknown }) => {
      if (e.message === 'rollback') return e.value
      throw e
    })

export interface AppIsolation {
  /** for bothWays */
  env(): BothWaysEnv
  readonly db: IsolationDb
  readonly truth: TruthDatabases
  /** tenantfence with `references: 'violation'`: no lookups, every unproven foreign key is a violation */
  readonly noLookups: AnyClient
}

/** Open the app's databases for this file (hooks registered here) and reset to the seed before each test that needs it. */
export function useAppIsolation(): AppIsolation {
  let db: IsolationDb
  let truth: TruthDatabases
  let noLookups: AnyClient
  let seedSnapshot: string
  beforeAll(async () => {
    db = await openIsolation(APP, appConfig, ENFORCE)
    truth = await openTruthDatabases(db.base, APP)
    noLookups = db.fenced({ references: 'violation' })
    seedSnapshot = stable(await snapshotOf(db.base, APP))
  })
  afterAll(async () => {
    await truth?.close()
    await db?.close()
  })
  beforeEach(async () => {
    setFlags(ENFORCE)
    db.lines.length = 0
    // every test starts from the seed; only a test that wrote pays for the reset
    if (stable(await snapshotOf(db.base, APP)) !== seedSnapshot) await db.reset()
  })
  return {
    env: () => ({ db, truth }),
    get db() {
      return db
    },
    get truth() {
      return truth
    },
    get noLookups() {
      return noLookups
    },
  }
}
