// The two lines agree. (a) What the extension cannot see (raw SQL, a second client without it that
// sets the tenant itself) cannot read or write another tenant's rows under the policies, for a
// role that is not the tables' owner, and for the owner because of FORCE. (b) On the corpus of
// scoped queries, the policies cut nothing the extension allows: the same results and the same
// rows left behind with and without row-level security (a difference is a bug in one of them).
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { runWithTenant } from '../src/index.ts'
import { SCOPED, type P } from './fixtures/scoped-queries.ts'
import { fencedDatabase } from './helpers/fence.ts'
import { ROLES } from './helpers/postgres.ts'
import { rlsDatabase } from './helpers/rls.ts'

let db: Awaited<ReturnType<typeof rlsDatabase>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const enforce = { TENANT_ENFORCEMENT_MODE: 'enforce' }
const asTenant1 = <T>(fn: () => Promise<T>) => runWithTenant({ tenantId: 1, userId: 1, endpoint: '/api/test', method: 'GET' }, fn)

/** A pg client for a role, and a helper that runs SQL in a transaction as a tenant. */
async function sqlAs(url: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  return {
    client,
    async tenant<T>(tenantId: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
      await client.query('BEGIN')
      try {
        await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId])
        const result = await fn(client)
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK')
        throw err
      }
    },
    end: () => client.end(),
  }
}

describe('(a) what the extension cannot see is held by the policies', () => {
  it.each([
    ['a role that only has DML on the tables', 'app'],
    ['the owner of the tables, through FORCE ROW LEVEL SECURITY', 'owner'],
  ] as const)('raw SQL as %s reads and writes only its tenant', async (_name, role) => {
    db = await rlsDatabase(enforce)
    const sql = await sqlAs(db.pg.url(role))
    try {
      const users = await sql.tenant('1', (c) => c.query('SELECT id FROM "User" ORDER BY id'))
      expect(users.rows.map((r) => r.id)).toEqual([1, 2])
      const tokens = await sql.tenant('1', (c) => c.query('SELECT t.id FROM "RefreshToken" t JOIN "User" u ON u.id = t."userId"'))
      expect(tokens.rows.map((r) => r.id)).toEqual([1])
      // A write with no WHERE touches the tenant's rows only; one into another tenant is refused.
      expect((await sql.tenant('1', (c) => c.query('UPDATE "User" SET "isActive" = false'))).rowCount).toBe(2)
      expect((await sql.tenant('1', (c) => c.query('DELETE FROM "MfaBackupCode"'))).rowCount).toBe(1)
      await expect(sql.tenant('1', (c) => c.query(`INSERT INTO "User" ("tenantId", email) VALUES (2, 'x@globex.test')`))).rejects.toThrow(/row-level security/)
      await expect(sql.tenant('1', (c) => c.query(`INSERT INTO "RefreshToken" ("userId", "tokenHash", "expiresAt") VALUES (3, 'h', now())`))).rejects.toThrow(/row-level security/)
      await expect(sql.tenant('1', (c) => c.query(`UPDATE "User" SET "tenantId" = 2 WHERE id = 1`))).rejects.toThrow(/row-level security/)
      // No tenant at all: nothing.
      expect((await sql.client.query('SELECT count(*)::int AS n FROM "User"')).rows[0].n).toBe(0)
    } finally {
      await sql.end()
    }
    expect((await db.admin.user.findMany({ orderBy: { id: 'asc' } })).map((u) => [u.id, u.tenantId, u.isActive])).toEqual([[1, 1, false], [2, 1, false], [3, 2, true]])
    expect(await db.admin.mfaBackupCode.count()).toBe(1)
    expect(await db.admin.refreshToken.count()).toBe(2)
  })

  it('FORCE is what holds the owner; the role holds a non-owner either way; a superuser is never held', async () => {
    db = await rlsDatabase(enforce, {}, { own: true }) // it takes FORCE off a table: a database of its own
    const owner = await sqlAs(db.pg.url('owner'))
    const app = await sqlAs(db.pg.url('app'))
    const admin = await sqlAs(db.pg.url('admin'))
    const count = (s: Awaited<ReturnType<typeof sqlAs>>) => s.tenant('1', async (c) => (await c.query('SELECT count(*)::int AS n FROM "User"')).rows[0].n)
    try {
      expect([await count(owner), await count(app), await count(admin)]).toEqual([2, 2, 3])
      await owner.client.query('ALTER TABLE "User" NO FORCE ROW LEVEL SECURITY')
      expect([await count(owner), await count(app)]).toEqual([3, 2])
    } finally {
      await Promise.all([owner.end(), app.end(), admin.end()])
    }
    expect(ROLES.admin).toBe('postgres')
  })

  it('a second Prisma client without the extension, setting the tenant itself, is held too', async () => {
    db = await rlsDatabase(enforce)
    const base = db.base // the plain client: no tenantfence, connected as the owner
    const setTenant = (t: string) => base.$executeRaw`SELECT set_config('app.tenant_id', ${t}, true)`
    const [, users, tokens, updated] = await base.$transaction([setTenant('2'), base.user.findMany(), base.refreshToken.findMany(), base.role.updateMany({ data: { isActive: false } })])
    expect([users.map((u) => u.id), tokens.map((t) => t.id), updated.count]).toEqual([[3], [2], 1])
    await expect(base.$transaction([setTenant('2'), base.auditLog.create({ data: { tenantId: 1, action: 'cross' } })])).rejects.toThrow()
    expect(await base.user.findMany()).toEqual([]) // no tenant set
    expect((await db.admin.role.findMany({ orderBy: { id: 'asc' } })).map((r) => r.isActive)).toEqual([true, false])
    expect(await db.admin.auditLog.count({ where: { action: 'cross' } })).toBe(0)
  })
})

/** Comparable values: dates (clock-dependent) become a marker, rows sorted (SQL sets have no order). */
function normalize(value: unknown): unknown {
  if (value instanceof Date) return '[date]'
  if (Array.isArray(value)) return value.map(normalize).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]))
  return value
}

/** Every row of every table, read by a client the policies do not hold. */
async function everyRow(p: P) {
  const models = ['tenant', 'user', 'role', 'permission', 'userRole', 'rolePermission', 'refreshToken', 'passwordResetToken', 'mfaBackupCode', 'auditLog', 'securityAlert']
  return normalize(Object.fromEntries(await Promise.all(models.map(async (m) => [m, await p[m].findMany({ orderBy: { id: 'asc' } })]))))
}

describe('(b) the policies cut nothing the extension allows (the scoped corpus, enforce)', () => {
  it.each(SCOPED.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const plain = await fencedDatabase(enforce, {}, 'postgresql')
    let without: unknown
    let rowsWithout: unknown
    try {
      without = await asTenant1(() => c.run(plain.prisma))
      await c.check(without, plain.base)
      rowsWithout = await everyRow(plain.base)
    } finally {
      await plain.close()
    }
    db = await rlsDatabase(enforce)
    const withRls = await asTenant1(() => c.run(db!.prisma))
    await c.check(withRls, db.admin)
    expect(normalize(withRls)).toEqual(normalize(without))
    expect(await everyRow(db.admin)).toEqual(rowsWithout)
    expect(db.violations()).toEqual([])
  })
})
