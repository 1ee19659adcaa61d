// The extension's rls option on Prisma 7's real client and a real PostgreSQL with the demo's
// policies: every query carries the request's tenant into the transaction it runs in (on its own,
// in an interactive transaction, in a batch transaction, one of one item too), a granted bypass
// carries its reason, nothing is left on a pooled connection, and other providers are refused.
import { PrismaPg } from '@prisma/adapter-pg'
import { afterEach, describe, expect, it } from 'vitest'
import { PrismaClient as PgPrismaClient } from '../src/demo/generated/prisma-pg/client.ts'
import { runWithTenant, tenantEnforcement, withoutTenantEnforcement } from '../src/index.ts'
import { createRlsCarrier, type RlsClient, type RlsQueryParams } from '../src/enforcement/rls.ts'
import { captureLogger, config, fencedDatabase } from './helpers/fence.ts'
import { rlsDatabase, runSql } from './helpers/rls.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
type P = any
let db: Awaited<ReturnType<typeof rlsDatabase>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const logOnly = { TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_ALLOW_BYPASS: 'true' }
const ids = (rows: { id: number }[]) => rows.map((r) => r.id).sort((a, b) => a - b)
const as = <T>(tenantId: number, fn: () => T | PromiseLike<T>) => runWithTenant({ tenantId, userId: 1 }, fn)
/** What the transaction of a query sees: the settings and its id. */
const settingsQuery = (p: P) => p.$queryRaw`SELECT current_setting('app.tenant_id', true) AS tenant, current_setting('tenantfence.bypass_reason', true) AS reason, txid_current()::text AS tx`

describe('rls: true sets the tenant for the transaction of every query', () => {
  it('a query on its own: the policies see the request tenant; outside any context, no tenant and no row', async () => {
    // log_only: the unscoped findMany runs (logged), and only the policies narrow it.
    db = await rlsDatabase(logOnly)
    const p: P = db.prisma
    expect(ids(await as(1, () => p.user.findMany()))).toEqual([1, 2])
    expect(ids(await as(2, () => p.user.findMany()))).toEqual([3])
    expect(await p.user.findMany()).toEqual([])
    const [row] = await as(2, () => settingsQuery(p))
    expect(row).toMatchObject({ tenant: '2', reason: '' })
  })

  it('without the option the same client sees no row under the policies (the tenant is never set)', async () => {
    db = await rlsDatabase(logOnly, {}, { rls: false })
    expect(await as(1, () => (db!.prisma as P).user.findMany())).toEqual([])
    expect(await db.admin.user.count()).toBe(3)
  })

  it('an interactive transaction: each query in it, raw SQL too, runs as the request tenant', async () => {
    db = await rlsDatabase(logOnly)
    const p: P = db.prisma
    const [users, roles, [setting]] = await as(2, () => p.$transaction(async (tx: P) => [await tx.user.findMany(), await tx.role.findMany(), await settingsQuery(tx)]))
    expect([ids(users), ids(roles), setting.tenant]).toEqual([[3], [2], '2'])
    // Writes inside: created in the tenant, and a write aimed at another tenant's rows touches none.
    await as(1, () => p.$transaction(async (tx: P) => {
      await tx.auditLog.create({ data: { tenantId: 1, action: 'itx' } })
      await tx.user.updateMany({ data: { isActive: false } }) // unscoped (logged): the policies keep it in tenant 1
    }))
    expect(await db.admin.user.findMany({ where: { isActive: false }, select: { id: true } })).toEqual([{ id: 1 }, { id: 2 }])
    expect(await db.admin.auditLog.count({ where: { action: 'itx', tenantId: 1 } })).toBe(1)
  })

  it('a batch transaction: one transaction, the tenant set before its first query, its atomicity kept', async () => {
    db = await rlsDatabase(logOnly)
    const p: P = db.prisma
    const [users, before, roles, after] = await as(2, () => p.$transaction([p.user.findMany(), settingsQuery(p), p.role.findMany(), settingsQuery(p)]))
    expect([ids(users), ids(roles)]).toEqual([[3], [2]])
    expect(before[0]).toMatchObject({ tenant: '2' })
    expect(after[0].tx).toBe(before[0].tx) // the same transaction
    // A batch of one item, which Prisma would otherwise send with no transaction at all.
    expect(ids((await as(1, () => p.$transaction([p.user.findMany()])))[0])).toEqual([1, 2])
    // A failing query rolls the whole batch back, as without rls.
    await expect(as(1, () => p.$transaction([p.auditLog.create({ data: { tenantId: 1, action: 'batch' } }), p.user.create({ data: { tenantId: 1, email: 'alice@acme.test' } })]))).rejects.toThrow(/Unique constraint/)
    expect(await db.admin.auditLog.count({ where: { action: 'batch' } })).toBe(0)
  })

  it('concurrent requests on the pool keep their own tenants', async () => {
    db = await rlsDatabase(logOnly)
    const p: P = db.prisma
    const runs = await Promise.all([1, 2, 1, 2, 2, 1].map((t) => as(t, async () => ids(await p.user.findMany()))))
    expect(runs).toEqual([[1, 2], [3], [1, 2], [3], [3], [1, 2]])
  })
})

describe('rls: an interactive transaction sets the scope once, again only when it changes', () => {
  /** Counts the set_config statements the carrier sends through the base client. */
  const countSetConfig = (base: P) => {
    const real = base.$executeRawUnsafe
    let sent = 0
    base.$executeRawUnsafe = (sql: string, ...values: unknown[]) => {
      if (sql.includes('set_config')) sent++
      return real.call(base, sql, ...values)
    }
    return { sent: () => sent, restore: () => void (base.$executeRawUnsafe = real) }
  }

  it('three queries of one tenant: one set_config; a bypass inside and the query after it: one each', async () => {
    db = await rlsDatabase(logOnly)
    const p: P = db.prisma
    const spy = countSetConfig(db.base)
    try {
      const [a, b, c] = await as(1, () => p.$transaction(async (tx: P) => [await tx.user.findMany({ where: { tenantId: 1 } }), await tx.role.findMany({ where: { tenantId: 1 } }), await settingsQuery(tx)]))
      expect([ids(a), ids(b), c[0].tenant]).toEqual([[1, 2], [1], '1'])
      expect(spy.sent()).toBe(1)
      const [inside, after] = await as(1, () => p.$transaction(async (tx: P) => [await withoutTenantEnforcement({ reason: 'nightly_cleanup' }, () => settingsQuery(tx)), await settingsQuery(tx)]))
      expect(inside[0]).toMatchObject({ tenant: '1', reason: 'nightly_cleanup' })
      expect(after[0]).toMatchObject({ tenant: '1', reason: '' })
      expect(after[0].tx).toBe(inside[0].tx)
      expect(spy.sent()).toBe(3)
    } finally {
      spy.restore()
    }
  })

  it('a nested transaction rolled back to its savepoint: the outer query after it is sent its own scope again', async () => {
    db = await rlsDatabase(logOnly)
    const p: P = db.prisma
    const bypass = <T>(fn: () => PromiseLike<T>) => withoutTenantEnforcement({ reason: 'nightly_cleanup' }, fn)
    const [before, nested, after] = await as(1, () => p.$transaction(async (tx: P) => {
      const outer = await bypass(() => settingsQuery(tx))
      let inner: unknown
      // the nested transaction sets the request's own scope, then fails: its savepoint (and that setting) is rolled back
      await tx.$transaction(async (t: P) => {
        inner = await settingsQuery(t)
        throw new Error('nested failure')
      }).catch(() => {})
      // the same scope as inside the nested transaction, but the connection is back to the bypass
      return [outer, inner, await settingsQuery(tx)]
    }))
    expect(before[0]).toMatchObject({ tenant: '1', reason: 'nightly_cleanup' })
    expect(nested[0]).toMatchObject({ tenant: '1', reason: '' })
    expect(after[0]).toMatchObject({ tenant: '1', reason: '' })
    expect(after[0].tx).toBe(before[0].tx)
  })

  it('a failed transaction leaves no setting on its connection, and the next request sets its own', async () => {
    db = await rlsDatabase(logOnly)
    const base = new PgPrismaClient({ adapter: new PrismaPg({ connectionString: db.pg.url('owner'), max: 1 }) })
    const fenced: P = base.$extends(tenantEnforcement({ config, logger: captureLogger().logger, rls: true }))
    try {
      await expect(as(1, () => fenced.$transaction(async (tx: P) => {
        await tx.user.findMany()
        await tx.user.create({ data: { tenantId: 1, email: 'alice@acme.test' } }) // unique: fails
      }))).rejects.toThrow(/Unique constraint/)
      const [row] = await base.$queryRaw<{ tenant: string | null }[]>`SELECT current_setting('app.tenant_id', true) AS tenant`
      expect(row!.tenant || null).toBe(null)
      expect(await fenced.user.count()).toBe(0) // outside any context: no tenant, no row
      expect(ids(await as(2, () => fenced.$transaction(async (tx: P) => tx.user.findMany())))).toEqual([3])
    } finally {
      await base.$disconnect()
    }
  })
})

describe('rls: the carrier sets one value per setting (two levels of tenancy)', () => {
  it('each setting gets its own value in the same transaction as the query, the bypass reason after them', async () => {
    db = await rlsDatabase(logOnly, {}, { rls: false })
    const base: P = db.base
    const carry = createRlsCarrier(base as RlsClient, { settings: ['app.org_id', 'app.project_id', 'tenantfence.scope'], bypassSetting: 'tenantfence.bypass_reason' })
    const read = (): RlsQueryParams => ({ args: undefined, query: () => base.$queryRawUnsafe("SELECT current_setting('app.org_id', true) AS org, current_setting('app.project_id', true) AS project, current_setting('tenantfence.scope', true) AS scope, current_setting('tenantfence.bypass_reason', true) AS reason") })
    expect(await carry(read(), { tenants: ['o1', 'p7', ''], bypassReason: 'nightly_cleanup' })).toEqual([{ org: 'o1', project: 'p7', scope: '', reason: 'nightly_cleanup' }])
    expect(await carry(read(), { tenants: ['o2', '', 'organization'], bypassReason: '' })).toEqual([{ org: 'o2', project: '', scope: 'organization', reason: '' }])
    // a scope that does not match the settings is refused, naming them
    await expect(carry(read(), { tenants: ['o1'], bypassReason: '' })).rejects.toThrow(/1 tenant value\(s\) for 3 setting\(s\) \(app.org_id, app.project_id, tenantfence.scope\)/)
  })
})

describe('rls: a bypass carries its reason', () => {
  it('a granted bypass with a documented reason sees every tenant, the reason in the transaction', async () => {
    db = await rlsDatabase({ ...logOnly, TENANT_ENFORCEMENT_MODE: 'enforce' })
    const p: P = db.prisma
    expect(await withoutTenantEnforcement({ reason: 'nightly_cleanup', actor: 'cron' }, () => p.user.count())).toBe(3)
    const [row] = await withoutTenantEnforcement({ reason: 'data_migration' }, () => settingsQuery(p))
    expect(row).toMatchObject({ tenant: '', reason: 'data_migration' })
    expect(await db.counter('tenant_bypass_usage_total', { reason: 'nightly_cleanup' })).toBe(1)
  })

  it('an undocumented reason, granted by the flags outside hardened mode, is not one the policies admit', async () => {
    db = await rlsDatabase({ ...logOnly, TENANT_ENFORCEMENT_MODE: 'enforce' })
    expect(await withoutTenantEnforcement({ reason: 'ticket_4711' }, () => (db!.prisma as P).user.count())).toBe(0)
    expect(await as(1, () => withoutTenantEnforcement({ reason: 'ticket_4711' }, () => (db!.prisma as P).user.count()))).toBe(2)
  })

  it('a refused bypass carries no reason: in log_only the query runs as the request tenant only', async () => {
    db = await rlsDatabase({ ...logOnly, TENANT_ENFORCEMENT_ALLOW_BYPASS: 'false' })
    const p: P = db.prisma
    expect(await as(1, () => withoutTenantEnforcement({ reason: 'nightly_cleanup' }, () => p.user.count()))).toBe(2)
    const [row] = await as(1, () => withoutTenantEnforcement({ reason: 'nightly_cleanup' }, () => settingsQuery(p)))
    expect(row).toMatchObject({ tenant: '1', reason: '' })
    expect(await db.counter('tenant_bypass_denied_total')).toBe(2) // two bypasses, each refused once
  })

  it('a bypass reaches a global model query too (its nested tenant-owned rows)', async () => {
    db = await rlsDatabase({ ...logOnly, TENANT_ENFORCEMENT_MODE: 'enforce' })
    const perms = await withoutTenantEnforcement({ reason: 'support_investigation' }, () => (db!.prisma as P).permission.findMany({ where: { id: 1 }, include: { rolePermissions: { where: { role: { tenantId: { in: [1, 2] } } } } } }))
    expect(ids(perms[0].rolePermissions)).toEqual([1, 2])
  })

  it('hardened: the flags are ignored, documented reasons only', async () => {
    db = await rlsDatabase({ TENANT_ENFORCEMENT_ALLOW_BYPASS: 'false' }, { hardened: true })
    expect(await withoutTenantEnforcement({ reason: 'security_incident' }, () => (db!.prisma as P).user.count())).toBe(3)
  })
})

describe('rls: nothing is left behind, other providers refused', () => {
  it('the settings end with their transaction: the next query on the same connection has no tenant', async () => {
    db = await rlsDatabase(logOnly)
    // One connection only: the extended client and the plain one share the adapter's pool.
    const base = new PgPrismaClient({ adapter: new PrismaPg({ connectionString: db.pg.url('owner'), max: 1 }) })
    const fenced: P = base.$extends(tenantEnforcement({ config, logger: captureLogger().logger, rls: true }))
    try {
      expect(ids(await as(1, () => fenced.user.findMany()))).toEqual([1, 2])
      await withoutTenantEnforcement({ reason: 'nightly_cleanup' }, () => fenced.user.count())
      const [row] = await base.$queryRaw<{ tenant: string | null; reason: string | null }[]>`SELECT current_setting('app.tenant_id', true) AS tenant, current_setting('tenantfence.bypass_reason', true) AS reason`
      expect([row!.tenant || null, row!.reason || null]).toEqual([null, null])
      expect(await base.user.count()).toBe(0)
    } finally {
      await base.$disconnect()
    }
  })

  it('refuses rls: true on SQLite, naming the provider', async () => {
    await expect(fencedDatabase({}, { rls: true }, 'sqlite')).rejects.toThrow(/rls: true needs PostgreSQL .*this client's provider is "sqlite"/)
  })

  it('the rollback SQL gives the rows back to a client without rls', async () => {
    db = await rlsDatabase(logOnly, {}, { rls: false, own: true })
    expect(await (db.prisma as P).user.count()).toBe(0)
    await runSql(db.pg.url('owner'), (await import('./helpers/rls.ts')).ROLLBACK)
    expect(await (db.prisma as P).user.count()).toBe(3)
  })
})
