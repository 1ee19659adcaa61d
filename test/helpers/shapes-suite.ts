// Every operation and every query shape of DESIGN.md "What counts as scoped", both ways, on a
// real database: a scoped query passes and returns only its tenant's rows; an unscoped or
// cross-tenant one is blocked in enforce (and changes nothing) and logged + counted in log_only.
// Each on SQLite and on PostgreSQL.
import { afterEach, describe, expect, it } from 'vitest'
import { runWithTenant } from '../../src/index.ts'
import type { Provider } from '../../src/demo/db.ts'
import { fencedDatabase } from './fence.ts'
import { later, SCOPED, type P } from '../fixtures/scoped-queries.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Unscoped {
  name: string
  model: string
  violation: string
  /** models of the query's further findings, listed as `related` on its one line (a filter reaching another model's rows) */
  also?: string[]
  run(p: P): Promise<unknown>
  /** for writes: that the blocked write changed nothing */
  unchanged?(base: P): Promise<void>
}

const usersUnchanged = async (base: P) => expect(await base.user.findMany({ orderBy: { id: 'asc' }, select: { id: true, tenantId: true, isActive: true } })).toEqual([
  { id: 1, tenantId: 1, isActive: true },
  { id: 2, tenantId: 1, isActive: true },
  { id: 3, tenantId: 2, isActive: true },
])

const UNSCOPED: Unscoped[] = [
  { name: 'findMany with no where', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.findMany() },
  { name: 'findUnique by id alone', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.findUnique({ where: { id: 3 } }) },
  { name: 'findUniqueOrThrow by id alone', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.findUniqueOrThrow({ where: { id: 1 } }) },
  { name: 'findFirstOrThrow unscoped', model: 'Role', violation: 'missing_tenant_id', run: (p) => p.role.findFirstOrThrow({ where: { name: 'admin' } }) },
  { name: 'tenantId: undefined (Prisma drops it)', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.findMany({ where: { tenantId: undefined } }) },
  { name: 'tenantId { not }', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.findMany({ where: { tenantId: { not: 2 } } }) },
  { name: 'tenantId range', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.findMany({ where: { tenantId: { gte: 1, lte: 1 } } }) },
  { name: 'tenantId { in: [1, 2] }', model: 'User', violation: 'tenant_mismatch', run: (p) => p.user.findMany({ where: { tenantId: { in: [1, 2] } } }) },
  { name: 'OR with an unscoped branch', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.findMany({ where: { OR: [{ tenantId: 1 }, { email: 'carol@globex.test' }] } }) },
  { name: 'NOT never scopes', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.findMany({ where: { NOT: { tenantId: 2 } } }) },
  { name: 'another tenant', model: 'User', violation: 'tenant_mismatch', run: (p) => p.user.findMany({ where: { tenantId: 2 } }) },
  { name: 'compound unique of another tenant', model: 'User', violation: 'tenant_mismatch', run: (p) => p.user.findUnique({ where: { tenantId_email: { tenantId: 2, email: 'carol@globex.test' } } }) },
  { name: 'token lookup by id alone', model: 'RefreshToken', violation: 'missing_relation_filter', run: (p) => p.refreshToken.findUnique({ where: { id: 2 } }) },
  { name: 'relation-scoped by foreign key only', model: 'PasswordResetToken', violation: 'missing_relation_filter', run: (p) => p.passwordResetToken.findMany({ where: { userId: 3 } }) },
  { name: 'relation filter isNot', model: 'MfaBackupCode', violation: 'missing_relation_filter', also: ['User'], run: (p) => p.mfaBackupCode.findMany({ where: { user: { isNot: { tenantId: 2 } } } }) },
  { name: 'role query through a relation without the tenant', model: 'RolePermission', violation: 'missing_relation_filter', also: ['Role'], run: (p) => p.rolePermission.findMany({ where: { role: { name: 'admin' } } }) },
  { name: 'relation filter of another tenant', model: 'UserRole', violation: 'tenant_mismatch', also: ['User'], run: (p) => p.userRole.findMany({ where: { user: { tenantId: 2 } } }) },
  { name: 'count unscoped', model: 'SecurityAlert', violation: 'missing_tenant_id', run: (p) => p.securityAlert.count() },
  { name: 'aggregate unscoped', model: 'AuditLog', violation: 'missing_tenant_id', run: (p) => p.auditLog.aggregate({ _count: { _all: true } }) },
  { name: 'groupBy tenantId across tenants', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.groupBy({ by: ['tenantId'], _count: { _all: true } }) },
  { name: 'create into another tenant', model: 'User', violation: 'tenant_mismatch', run: (p) => p.user.create({ data: { tenantId: 2, email: 'x@globex.test' } }), unchanged: usersUnchanged },
  { name: 'createMany with one row in another tenant', model: 'AuditLog', violation: 'tenant_mismatch', run: (p) => p.auditLog.createMany({ data: [{ tenantId: 1, action: 'a' }, { tenantId: 2, action: 'b' }] }), unchanged: async (b) => expect(await b.auditLog.count()).toBe(2) },
  { name: 'createManyAndReturn without tenant', model: 'Role', violation: 'missing_tenant_id', run: (p) => p.role.createManyAndReturn({ data: [{ tenantId: 1, name: 'a' }, { tenantId: undefined, name: 'b' }] }).catch((e: Error) => { if ((e as { code?: string }).code === 'TENANT_CONTEXT_REQUIRED') throw e; return 'prisma rejected the row' }) },
  { name: 'relation-scoped create by bare foreign key to another tenant (looked up)', model: 'RefreshToken', violation: 'tenant_mismatch', run: (p) => p.refreshToken.create({ data: { userId: 3, tokenHash: 'x', expiresAt: later() } }), unchanged: async (b) => expect(await b.refreshToken.count()).toBe(2) },
  { name: 'relation-scoped create connecting another tenant', model: 'RefreshToken', violation: 'tenant_mismatch', run: (p) => p.refreshToken.create({ data: { tokenHash: 'x', expiresAt: later(), user: { connect: { id: 3, tenantId: 2 } } } }), unchanged: async (b) => expect(await b.refreshToken.count()).toBe(2) },
  { name: 'update by id alone', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.update({ where: { id: 3 }, data: { isActive: false } }), unchanged: usersUnchanged },
  { name: 'update moving the row to another tenant', model: 'User', violation: 'tenant_mismatch', run: (p) => p.user.update({ where: { id: 1, tenantId: 1 }, data: { tenantId: 2 } }), unchanged: usersUnchanged },
  { name: 'update moving the row via tenant: { connect }', model: 'User', violation: 'tenant_mismatch', run: (p) => p.user.update({ where: { id: 1, tenantId: 1 }, data: { tenant: { connect: { id: 2 } } } }), unchanged: usersUnchanged },
  { name: 'update re-pointing a token at another user by foreign key', model: 'RefreshToken', violation: 'tenant_mismatch', run: (p) => p.refreshToken.update({ where: { id: 1, user: { tenantId: 1 } }, data: { userId: 3 } }) },
  { name: 'updateMany with no where', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.updateMany({ data: { isActive: false } }), unchanged: usersUnchanged },
  { name: 'updateManyAndReturn unscoped', model: 'Role', violation: 'missing_tenant_id', run: (p) => p.role.updateManyAndReturn({ where: { name: 'admin' }, data: { isActive: false } }), unchanged: async (b) => expect(await b.role.count({ where: { isActive: false } })).toBe(0) },
  { name: 'upsert by id alone', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.upsert({ where: { id: 3 }, create: { tenantId: 1, email: 'z@acme.test' }, update: { isActive: false } }), unchanged: usersUnchanged },
  { name: 'upsert creating in another tenant', model: 'User', violation: 'tenant_mismatch', run: (p) => p.user.upsert({ where: { tenantId_email: { tenantId: 1, email: 'zz@acme.test' } }, create: { tenantId: 2, email: 'zz@acme.test' }, update: {} }), unchanged: usersUnchanged },
  { name: 'delete by id alone', model: 'AuditLog', violation: 'missing_tenant_id', run: (p) => p.auditLog.delete({ where: { id: 2 } }), unchanged: async (b) => expect(await b.auditLog.count()).toBe(2) },
  { name: 'deleteMany with no where', model: 'MfaBackupCode', violation: 'missing_relation_filter', run: (p) => p.mfaBackupCode.deleteMany(), unchanged: async (b) => expect(await b.mfaBackupCode.count()).toBe(2) },
  { name: 'include of tenant-owned rows under an unscoped tenant query', model: 'Tenant', violation: 'missing_tenant_id', also: ['User'], run: (p) => p.tenant.findMany({ include: { users: true } }) },
  { name: 'include under a global parent', model: 'RolePermission', violation: 'unscoped_nested_read', run: (p) => p.permission.findMany({ include: { rolePermissions: true } }) },
  { name: 'select under a global parent', model: 'RolePermission', violation: 'unscoped_nested_read', run: (p) => p.permission.findUnique({ where: { id: 1 }, select: { key: true, rolePermissions: { select: { roleId: true } } } }) },
  { name: 'a global hop inside a scoped include reaches every tenant again', model: 'RolePermission', violation: 'unscoped_nested_read', run: (p) => p.role.findMany({ where: { tenantId: 1 }, include: { rolePermissions: { include: { permission: { include: { rolePermissions: true } } } } } }) },
  { name: '_count of tenant-owned rows under a global parent', model: 'RolePermission', violation: 'unscoped_nested_read', run: (p) => p.permission.findMany({ select: { _count: { select: { rolePermissions: true } } } }) },
  { name: 'the tenant row of another tenant with its users', model: 'Tenant', violation: 'tenant_mismatch', also: ['User'], run: (p) => p.tenant.findUnique({ where: { id: 2 }, include: { users: true } }) },
  { name: 'nested connect of another tenant row (looked up)', model: 'RefreshToken', violation: 'tenant_mismatch', run: (p) => p.user.update({ where: { id: 1, tenantId: 1 }, data: { refreshTokens: { connect: { id: 2 } } } }), unchanged: async (b) => expect((await b.refreshToken.findUnique({ where: { id: 2 } })).userId).toBe(3) },
  { name: '$queryRaw', model: '$raw', violation: 'raw_query', run: (p) => p.$queryRaw`SELECT id FROM "User"` },
  { name: '$executeRaw', model: '$raw', violation: 'raw_query', run: (p) => p.$executeRaw`UPDATE "User" SET "isActive" = false`, unchanged: usersUnchanged },
  { name: 'inside an interactive transaction', model: 'User', violation: 'missing_tenant_id', run: (p) => p.$transaction(async (tx: P) => tx.user.findMany()) },
  { name: 'inside a batch transaction', model: 'Role', violation: 'missing_tenant_id', run: (p) => p.$transaction([p.user.count({ where: { tenantId: 1 } }), p.role.findMany()]) },
  { name: 'no tenant context and no tenant in the query', model: 'User', violation: 'missing_tenant_id', run: (p) => p.user.findMany({ where: { isActive: true } }) },
]

let db: Awaited<ReturnType<typeof fencedDatabase>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const asTenant1 = <T>(fn: () => Promise<T>) => runWithTenant({ tenantId: 1, userId: 1, endpoint: '/api/test', method: 'GET' }, fn)

/** The suite on these databases (one test file per database, so that they run on separate workers). */
export function shapesSuite(providers: readonly Provider[]): void {
  describe.each(providers.flatMap((p) => (['log_only', 'enforce'] as const).map((m) => [p, m] as const)))('%s: scoped queries pass in %s and return only tenant 1 rows', (provider, mode) => {
    it.each(SCOPED.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: mode }, {}, provider)
      const result = await asTenant1(() => c.run(db!.prisma))
      await c.check(result, db.base)
      expect(db.violations()).toEqual([])
      expect(await db.counter('tenant_violations_total')).toBe(0)
      expect(await db.counter('tenant_middleware_duration_seconds')).toBeGreaterThan(0)
    })
  })

  describe.each(providers)('%s: unscoped or cross-tenant queries', (provider) => {
    it.each(UNSCOPED.map((c) => [c.name, c] as const))('enforce blocks: %s', async (name, c) => {
      db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' }, {}, provider)
      const run = name.startsWith('no tenant context') ? c.run(db.prisma) : asTenant1(() => c.run(db!.prisma))
      const err = await Promise.resolve(run).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED', model: c.model, violation: c.violation, message: `TENANT_CONTEXT_REQUIRED: ${c.model}` })
      await c.unchanged?.(db.base)
      expect(await db.counter('tenant_violations_total', { model: c.model, violation: c.violation, decision: 'blocked' })).toBe(1)
      expect(await db.counter('tenant_enforcement_errors_total', { model: c.model })).toBe(1)
      expect(await db.counter('tenant_enforcement_errors_total')).toBe(1)
      expect(db.violations()).toHaveLength(1)
      expect(((db.violations()[0]!.related ?? []) as { model: string }[]).map((r) => r.model)).toEqual(c.also ?? [])
    })

    it.each(UNSCOPED.map((c) => [c.name, c] as const))('log_only lets through, logs and counts: %s', async (name, c) => {
      db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only' }, {}, provider)
      const run = name.startsWith('no tenant context') ? c.run(db.prisma) : asTenant1(() => c.run(db!.prisma))
      // Resolves, or fails for a reason of the database's own, never with TENANT_CONTEXT_REQUIRED.
      const err = await Promise.resolve(run).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect((err as { code?: string } | undefined)?.code).not.toBe('TENANT_CONTEXT_REQUIRED')
      expect(await db.counter('tenant_violations_total', { model: c.model, violation: c.violation, decision: 'logged' })).toBe(1)
      expect(await db.counter('tenant_enforcement_errors_total')).toBe(0)
      const [line] = db.violations()
      expect(line).toMatchObject({ msg: 'TENANT_VIOLATION', model: c.model, violation: c.violation, decision: 'logged', mode: 'log_only' })
      expect(db.violations()).toHaveLength(1)
      expect(((line!.related ?? []) as { model: string }[]).map((r) => r.model)).toEqual(c.also ?? [])
    })

    it.each(UNSCOPED.map((c) => [c.name, c] as const))('disabled does nothing: %s', async (name, c) => {
      db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'disabled' }, {}, provider)
      const run = name.startsWith('no tenant context') ? c.run(db.prisma) : asTenant1(() => c.run(db!.prisma))
      await Promise.resolve(run).catch((e: { code?: string }) => expect(e.code).not.toBe('TENANT_CONTEXT_REQUIRED'))
      expect(db.lines).toEqual([])
      expect(await db.counter('tenant_violations_total')).toBe(0)
    })
  })
}
