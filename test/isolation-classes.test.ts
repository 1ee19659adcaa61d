// Issue 10, classes 1-9, attacked as a black box on a real SQLite database: for each class, shapes
// that read, write, link or filter through another tenant's rows are blocked in enforce (rejected with
// TENANT_CONTEXT_REQUIRED, the violation kind docs/isolation.md names, and not one row changed, as the
// plain client sees it), and scoped variants of the same shapes pass and return or change exactly the
// right rows. The request is tenant 1 (users 1, 2, 5; roles 1, 3); tenants 2 and 3 are the others
// (see SEED in helpers/isolation-db.ts: ids interleave and values repeat across tenants on purpose).
import { makeTypedQueryFactory } from '@prisma/client/runtime/client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runWithTenant, stringifyFlags } from '../src/index.ts'
import {
  config,
  FUTURE,
  isolationDatabase,
  setFlags,
  stable,
  T1,
  type AnyClient,
  type IsolationDb,
} from './helpers/isolation-db.ts'
import { snapshot } from './helpers/isolation-truth.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
type P = AnyClient

interface Blocked {
  name: string
  run(p: P): Promise<unknown>
  /** the kinds docs/isolation.md allows for this shape (several where the document does not single one out) */
  violation?: string | readonly string[]
  /** the model the error names, where the document says which */
  model?: string | readonly string[]
}
interface Passes {
  name: string
  run(p: P): Promise<unknown>
  /** the rows it must return, or what the plain client must see afterwards */
  check(result: any, base: P): Promise<void> | void
}

const ENFORCE = { TENANT_ENFORCEMENT_MODE: 'enforce' }
const ids = (rows: Array<{ id: number }>) => rows.map((r) => r.id).sort((a, b) => a - b)
const asTenant1 = <T>(fn: () => Promise<T>) => runWithTenant(T1, fn)

let db: IsolationDb
let seedSnapshot: string
/** tenantfence with `references: 'violation'` (no lookups: every unproven foreign key is a violation) */
let noLookups: P
/** tenantfence with the raw policy 'allow' */
let rawAllowed: P

beforeAll(async () => {
  db = await isolationDatabase(ENFORCE)
  // $queryRawTyped needs the typedSql preview feature, which the demo schema does not enable; a client
  // generated with it differs only by this flag (SQL files compile to makeTypedQueryFactory(sql) calls)
  const engineConfig = (db.base as { _engineConfig: { previewFeatures?: string[] } })._engineConfig
  engineConfig.previewFeatures = [...(engineConfig.previewFeatures ?? []), 'typedSql']
  noLookups = db.fenced({ references: 'violation' })
  rawAllowed = db.fenced({ config: { ...config, rawQueries: { policy: 'allow', severity: 'HIGH' } } })
  seedSnapshot = stable(await snapshot(db.base))
})
afterAll(async () => {
  await db?.close()
})
beforeEach(async () => {
  setFlags(ENFORCE)
  db.lines.length = 0
  // every test starts from the seed; only a test that wrote pays for the reset
  if (stable(await snapshot(db.base)) !== seedSnapshot) await db.reset()
})

/** Both ways: each blocked shape is rejected and changes nothing; each scoped shape passes and is checked. */
function bothWays(cases: { blocked: Blocked[]; passes: Passes[] }, opts: { client?: () => P; context?: boolean } = {}) {
  const client = () => opts.client?.() ?? db.prisma
  const inContext = <T>(fn: () => Promise<T>) => (opts.context === false ? fn() : asTenant1(fn))
  if (cases.blocked.length)
    it.each(cases.blocked.map((c) => [c.name, c] as const))('blocks %s', async (_name, c) => {
      const before = await snapshot(db.base)
      const outcome = await inContext(() => c.run(client())).then(
        (value) => ({ value }),
        (error) => ({ error }),
      )
      const err = 'error' in outcome ? (outcome.error as Record<string, unknown>) : undefined
      expect(
        err?.code,
        `let through, returned ${JSON.stringify('value' in outcome ? outcome.value : err?.message)?.slice(0, 400)}`,
      ).toBe('TENANT_CONTEXT_REQUIRED')
      if (c.violation)
        expect([c.violation].flat(), `violation ${String(err!.violation)} on ${String(err!.model)}`).toContain(
          err!.violation,
        )
      if (c.model)
        expect([c.model].flat(), `model ${String(err!.model)} (${String(err!.violation)})`).toContain(err!.model)
      expect(await snapshot(db.base)).toEqual(before)
    })
  if (cases.passes.length)
    it.each(cases.passes.map((c) => [c.name, c] as const))('passes %s', async (_name, c) => {
      const result = await inContext(() => c.run(client()))
      await c.check(result, db.base)
    })
}

const MISMATCH = 'tenant_mismatch'
const NESTED_WRITE = 'unscoped_nested_write'
/** a linked row of another tenant: found by the lookup (mismatch) or unproven (nested write) */
const LINKED = [MISMATCH, NESTED_WRITE, 'unverified_reference']
/**
 * A nested write whose own data or filter names another tenant. The document names tenant_mismatch for
 * a filter or data naming another tenant and unscoped_nested_write for an unproven nested write, and
 * does not say which wins below the top level: either is accepted there (top-level shapes are exact).
 */
const NAMED_OTHER = [MISMATCH, NESTED_WRITE]

describe('class 1: nested writes at any depth, each operation both ways', () => {
  bothWays({
    blocked: [
      {
        name: 'create: a child of a tenant-1 user that names tenant 2 itself',
        violation: NAMED_OTHER,
        run: (p) =>
          p.user.update({
            where: { id: 2, tenantId: 1 },
            data: { securityAlerts: { create: { tenantId: 2, kind: 'x' } } },
          }),
      },
      {
        name: "create: an inheriting child whose other foreign key is tenant 2's (roleId)",
        violation: MISMATCH,
        run: (p) => p.user.update({ where: { id: 1, tenantId: 1 }, data: { userRoles: { create: { roleId: 2 } } } }),
      },
      {
        name: "create at depth 2: a role created in tenant 2 under a tenant-1 user's new UserRole",
        violation: NAMED_OTHER,
        run: (p) =>
          p.user.update({
            where: { id: 1, tenantId: 1 },
            data: { userRoles: { create: { role: { create: { tenantId: 2, name: 'spy' } } } } },
          }),
      },
      {
        name: "create at depth 3: tenant 1 -> new user -> new UserRole with tenant 2's role",
        violation: MISMATCH,
        run: (p) =>
          p.tenant.update({
            where: { id: 1 },
            data: { users: { create: { email: 'deep@acme.test', userRoles: { create: { roleId: 4 } } } } },
          }),
      },
      {
        name: "createMany: one row's foreign key is tenant 2's",
        violation: MISMATCH,
        run: (p) =>
          p.user.update({
            where: { id: 1, tenantId: 1 },
            data: { userRoles: { createMany: { data: [{ roleId: 3 }, { roleId: 4 }] } } },
          }),
      },
      {
        name: "connect: another tenant's token by id",
        violation: LINKED,
        run: (p) => p.user.update({ where: { id: 1, tenantId: 1 }, data: { refreshTokens: { connect: { id: 2 } } } }),
      },
      {
        name: "connect: another tenant's row by a compound unique key",
        violation: LINKED,
        run: (p) =>
          p.user.update({
            where: { id: 1, tenantId: 1 },
            data: { userRoles: { connect: { userId_roleId: { userId: 3, roleId: 2 } } } },
          }),
      },
      {
        name: "connectOrCreate: where finds another tenant's alert",
        violation: LINKED,
        run: (p) =>
          p.user.update({
            where: { id: 2, tenantId: 1 },
            data: { securityAlerts: { connectOrCreate: { where: { id: 4 }, create: { tenantId: 1, kind: 'x' } } } },
          }),
      },
      {
        name: "set: links another tenant's alert",
        violation: LINKED,
        run: (p) => p.user.update({ where: { id: 2, tenantId: 1 }, data: { securityAlerts: { set: [{ id: 4 }] } } }),
      },
      {
        name: 'disconnect under an unproven parent',
        violation: 'missing_tenant_id',
        run: (p) => p.user.update({ where: { id: 4 }, data: { securityAlerts: { disconnect: { id: 4 } } } }),
      },
      {
        name: "disconnect at depth 2 under tenant 2's row",
        violation: MISMATCH,
        run: (p) =>
          p.tenant.update({
            where: { id: 2 },
            data: { users: { update: { where: { id: 4 }, data: { securityAlerts: { disconnect: { id: 4 } } } } } },
          }),
      },
      {
        name: "update under a global parent: tenant 2's RolePermission",
        violation: NESTED_WRITE,
        model: 'RolePermission',
        run: (p) =>
          p.permission.update({
            where: { id: 3 },
            data: { rolePermissions: { update: { where: { id: 4 }, data: { roleId: 3 } } } },
          }),
      },
      {
        name: 'update: moves a child out of tenant 1 (tenantId in nested data)',
        violation: NAMED_OTHER,
        run: (p) =>
          p.user.update({
            where: { id: 2, tenantId: 1 },
            data: { securityAlerts: { update: { where: { id: 3 }, data: { tenantId: 2 } } } },
          }),
      },
      {
        name: 'updateMany under a global parent',
        violation: NESTED_WRITE,
        model: 'RolePermission',
        run: (p) =>
          p.permission.update({
            where: { id: 3 },
            data: { rolePermissions: { updateMany: { where: { id: 4 }, data: { roleId: 3 } } } },
          }),
      },
      {
        name: 'updateMany: moves children to tenant 2',
        violation: NAMED_OTHER,
        run: (p) =>
          p.user.update({
            where: { id: 2, tenantId: 1 },
            data: { securityAlerts: { updateMany: { where: {}, data: { tenantId: 2 } } } },
          }),
      },
      {
        name: "upsert: its create names tenant 2's role",
        violation: MISMATCH,
        run: (p) =>
          p.user.update({
            where: { id: 2, tenantId: 1 },
            data: { userRoles: { upsert: { where: { id: 99 }, create: { roleId: 4 }, update: {} } } },
          }),
      },
      {
        name: "upsert: its update re-points to tenant 2's role",
        violation: MISMATCH,
        run: (p) =>
          p.user.update({
            where: { id: 2, tenantId: 1 },
            data: { userRoles: { upsert: { where: { id: 3 }, create: { roleId: 3 }, update: { roleId: 4 } } } },
          }),
      },
      {
        name: 'delete under a global parent',
        violation: NESTED_WRITE,
        model: 'RolePermission',
        run: (p) => p.permission.update({ where: { id: 1 }, data: { rolePermissions: { delete: { id: 2 } } } }),
      },
      {
        name: "deleteMany under a global parent (every tenant's rows)",
        violation: NESTED_WRITE,
        model: 'RolePermission',
        run: (p) => p.permission.update({ where: { id: 1 }, data: { rolePermissions: { deleteMany: {} } } }),
      },
      {
        name: "deleteMany at depth 2 under tenant 2's row",
        violation: MISMATCH,
        run: (p) =>
          p.tenant.update({
            where: { id: 2 },
            data: { users: { update: { where: { id: 3 }, data: { refreshTokens: { deleteMany: {} } } } } },
          }),
      },
      {
        name: "update at depth 2 through a global parent: tenant 2's role renamed",
        violation: NESTED_WRITE,
        run: (p) =>
          p.permission.update({
            where: { id: 1 },
            data: { rolePermissions: { update: { where: { id: 2 }, data: { role: { update: { name: 'pwned' } } } } } },
          }),
      },
      {
        name: "to-one connect: re-points a tenant-1 alert at tenant 2's user",
        violation: LINKED,
        run: (p) => p.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { user: { connect: { id: 4 } } } }),
      },
      {
        name: 'to-one create: a user in tenant 2 created under a tenant-1 token',
        violation: NAMED_OTHER,
        run: (p) =>
          p.refreshToken.update({
            where: { id: 1, user: { tenantId: 1 } },
            data: { user: { create: { tenantId: 2, email: 'x@globex.test' } } },
          }),
      },
    ],
    passes: [
      {
        name: 'create: a child of a tenant-1 user in tenant 1',
        run: (p) =>
          p.user.update({
            where: { id: 2, tenantId: 1 },
            data: { securityAlerts: { create: { tenantId: 1, kind: 'new' } } },
            include: { securityAlerts: { orderBy: { id: 'asc' } } },
          }),
        check: (r) =>
          expect(r.securityAlerts.map((a: any) => [a.tenantId, a.kind])).toEqual([
            [1, 'new_device_login'],
            [1, 'new'],
          ]),
      },
      {
        name: "create: an inheriting child with tenant 1's role (verified)",
        run: (p) => p.user.update({ where: { id: 1, tenantId: 1 }, data: { userRoles: { create: { roleId: 3 } } } }),
        check: async (_r, base) =>
          expect(
            (await base.userRole.findMany({ where: { userId: 1 }, orderBy: { roleId: 'asc' } })).map(
              (x: any) => x.roleId,
            ),
          ).toEqual([1, 3]),
      },
      {
        name: 'create at depth 3: tenant 1 -> new user -> token and role of tenant 1',
        run: (p) =>
          p.tenant.update({
            where: { id: 1 },
            data: {
              users: {
                create: {
                  email: 'deep@acme.test',
                  refreshTokens: { create: { tokenHash: 'd', expiresAt: FUTURE } },
                  userRoles: { create: { role: { connect: { id: 3, tenantId: 1 } } } },
                },
              },
            },
          }),
        check: async (_r, base) => {
          const u = await base.user.findUnique({
            where: { tenantId_email: { tenantId: 1, email: 'deep@acme.test' } },
            include: { refreshTokens: true, userRoles: true },
          })
          expect([u.refreshTokens.length, u.userRoles.map((x: any) => x.roleId)]).toEqual([1, [3]])
        },
      },
      {
        name: "createMany: tenant 1's roles",
        run: (p) =>
          p.user.update({
            where: { id: 5, tenantId: 1 },
            data: { userRoles: { createMany: { data: [{ roleId: 1 }, { roleId: 3 }] } } },
          }),
        check: async (_r, base) => expect(await base.userRole.count({ where: { userId: 5 } })).toBe(2),
      },
      {
        name: 'connect: a tenant-1 alert pinned by its tenant',
        run: (p) =>
          p.user.update({
            where: { id: 1, tenantId: 1 },
            data: { securityAlerts: { connect: { id: 1, tenantId: 1 } } },
          }),
        check: async (_r, base) => expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBe(1),
      },
      {
        name: 'connect: a tenant-1 alert by id alone (verified by lookup)',
        run: (p) => p.user.update({ where: { id: 1, tenantId: 1 }, data: { securityAlerts: { connect: { id: 1 } } } }),
        check: async (_r, base) => expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBe(1),
      },
      {
        name: 'connectOrCreate: where pinned to tenant 1 (creates)',
        run: (p) =>
          p.user.update({
            where: { id: 1, tenantId: 1 },
            data: {
              securityAlerts: {
                connectOrCreate: { where: { id: 99, tenantId: 1 }, create: { tenantId: 1, kind: 'made' } },
              },
            },
          }),
        check: async (_r, base) =>
          expect(
            (await base.securityAlert.findMany({ where: { kind: 'made' } })).map((a: any) => [a.tenantId, a.userId]),
          ).toEqual([[1, 1]]),
      },
      {
        name: 'set: tenant-1 alerts only (unlinks the current one)',
        run: (p) =>
          p.user.update({ where: { id: 2, tenantId: 1 }, data: { securityAlerts: { set: [{ id: 1, tenantId: 1 }] } } }),
        check: async (_r, base) =>
          expect(
            (await base.securityAlert.findMany({ where: { tenantId: 1 }, orderBy: { id: 'asc' } })).map(
              (a: any) => a.userId,
            ),
          ).toEqual([2, null]),
      },
      {
        name: "disconnect: the parent's own alert",
        run: (p) =>
          p.user.update({ where: { id: 2, tenantId: 1 }, data: { securityAlerts: { disconnect: { id: 3 } } } }),
        check: async (_r, base) =>
          expect((await base.securityAlert.findUnique({ where: { id: 3 } })).userId).toBeNull(),
      },
      {
        name: "update: the parent's own alert",
        run: (p) =>
          p.user.update({
            where: { id: 2, tenantId: 1 },
            data: { securityAlerts: { update: { where: { id: 3 }, data: { kind: 'seen' } } } },
          }),
        check: async (_r, base) =>
          expect((await base.securityAlert.findMany({ where: { kind: 'seen' } })).map((a: any) => a.id)).toEqual([3]),
      },
      {
        name: "updateMany: the parent's alerts, nothing of tenant 2",
        run: (p) =>
          p.user.update({
            where: { id: 2, tenantId: 1 },
            data: { securityAlerts: { updateMany: { where: {}, data: { kind: 'seen' } } } },
          }),
        check: async (_r, base) =>
          expect((await base.securityAlert.findMany({ where: { kind: 'seen' } })).map((a: any) => a.id)).toEqual([3]),
      },
      {
        name: "upsert: create and update with tenant 1's role",
        run: (p) =>
          p.user.update({
            where: { id: 2, tenantId: 1 },
            data: { userRoles: { upsert: { where: { id: 3 }, create: { roleId: 3 }, update: { roleId: 1 } } } },
          }),
        check: async (_r, base) => expect((await base.userRole.findUnique({ where: { id: 3 } })).roleId).toBe(1),
      },
      {
        name: "delete: the parent's own code",
        run: (p) => p.user.update({ where: { id: 1, tenantId: 1 }, data: { mfaBackupCodes: { delete: { id: 1 } } } }),
        check: async (_r, base) => expect(ids(await base.mfaBackupCode.findMany())).toEqual([2, 3, 4]),
      },
      {
        name: 'delete under a global parent, pinned to tenant 1',
        run: (p) =>
          p.permission.update({
            where: { id: 1 },
            data: { rolePermissions: { delete: { id: 1, role: { tenantId: 1 } } } },
          }),
        check: async (_r, base) => expect(ids(await base.rolePermission.findMany())).toEqual([2, 3, 4, 5, 6]),
      },
      {
        name: "deleteMany: the parent's tokens only",
        run: (p) => p.user.update({ where: { id: 1, tenantId: 1 }, data: { refreshTokens: { deleteMany: {} } } }),
        check: async (_r, base) => expect(ids(await base.refreshToken.findMany())).toEqual([2, 3, 4, 5]),
      },
      {
        name: 'under a global parent: a new RolePermission for a tenant-1 role',
        run: (p) => p.permission.update({ where: { id: 3 }, data: { rolePermissions: { create: { roleId: 3 } } } }),
        check: async (_r, base) =>
          expect(
            (await base.rolePermission.findMany({ where: { permissionId: 3 }, orderBy: { id: 'asc' } })).map(
              (x: any) => x.roleId,
            ),
          ).toEqual([2, 3]),
      },
    ],
  })
})

describe('class 2: every tenant-owned relation of a model is proven (join tables, field-scoped models)', () => {
  bothWays({
    blocked: [
      {
        name: "UserRole: the user pinned, the role tenant 2's (connect)",
        violation: LINKED,
        run: (p) =>
          p.userRole.create({ data: { user: { connect: { id: 1, tenantId: 1 } }, role: { connect: { id: 2 } } } }),
      },
      {
        name: "UserRole: the user pinned, the role tenant 2's (connect with its tenant)",
        violation: NAMED_OTHER,
        run: (p) =>
          p.userRole.create({
            data: { user: { connect: { id: 1, tenantId: 1 } }, role: { connect: { id: 2, tenantId: 2 } } },
          }),
      },
      {
        name: 'UserRole by foreign keys: user of tenant 1, role of tenant 2',
        violation: MISMATCH,
        run: (p) => p.userRole.create({ data: { userId: 1, roleId: 2 } }),
      },
      {
        name: "UserRole update: re-points the role to tenant 2's",
        violation: MISMATCH,
        run: (p) => p.userRole.update({ where: { id: 1, user: { tenantId: 1 } }, data: { roleId: 4 } }),
      },
      {
        name: "UserRole update: role connect to tenant 2's",
        violation: LINKED,
        run: (p) =>
          p.userRole.update({ where: { id: 1, user: { tenantId: 1 } }, data: { role: { connect: { id: 2 } } } }),
      },
      {
        name: "SecurityAlert (field-scoped) created in tenant 1 for tenant 2's user",
        violation: MISMATCH,
        run: (p) => p.securityAlert.create({ data: { tenantId: 1, kind: 'x', userId: 3 } }),
      },
      {
        name: 'SecurityAlert created in tenant 1, user connected from tenant 2',
        violation: LINKED,
        run: (p) => p.securityAlert.create({ data: { tenantId: 1, kind: 'x', user: { connect: { id: 4 } } } }),
      },
      {
        name: "RolePermission: tenant 2's role (pinned to 2) beside a global permission",
        violation: NAMED_OTHER,
        run: (p) =>
          p.rolePermission.create({
            data: { role: { connect: { id: 2, tenantId: 2 } }, permission: { connect: { id: 2 } } },
          }),
      },
    ],
    passes: [
      {
        name: 'UserRole: user and role both tenant 1 (pinned connects)',
        run: (p) =>
          p.userRole.create({
            data: { user: { connect: { id: 5, tenantId: 1 } }, role: { connect: { id: 3, tenantId: 1 } } },
          }),
        check: (r) => expect([r.userId, r.roleId]).toEqual([5, 3]),
      },
      {
        name: 'UserRole by foreign keys of tenant 1 (verified)',
        run: (p) => p.userRole.create({ data: { userId: 2, roleId: 1 } }),
        check: (r) => expect([r.userId, r.roleId]).toEqual([2, 1]),
      },
      {
        name: 'SecurityAlert for a tenant-1 user by foreign key',
        run: (p) => p.securityAlert.create({ data: { tenantId: 1, kind: 'x', userId: 1 } }),
        check: (r) => expect([r.tenantId, r.userId]).toEqual([1, 1]),
      },
      {
        name: 'RolePermission: tenant-1 role beside a global permission',
        run: (p) =>
          p.rolePermission.create({
            data: { role: { connect: { id: 3, tenantId: 1 } }, permission: { connect: { id: 3 } } },
          }),
        check: (r) => expect([r.roleId, r.permissionId]).toEqual([3, 3]),
      },
      {
        name: 'a read of a join table through both relations pinned',
        run: (p) =>
          p.userRole.findMany({ where: { user: { tenantId: 1 } }, include: { role: true }, orderBy: { id: 'asc' } }),
        check: (r) =>
          expect(r.map((x: any) => [x.id, x.role.tenantId])).toEqual([
            [1, 1],
            [3, 1],
          ]),
      },
    ],
  })
})

describe("class 3: bare foreign keys in write data, references: 'verify' (default)", () => {
  bothWays({
    blocked: [
      {
        name: "the FK IDOR: a tenant-1 alert pointed at tenant 2's user",
        violation: MISMATCH,
        run: (p) => p.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { userId: 3 } }),
      },
      {
        name: "updateMany pointing tenant-1 alerts at tenant 2's user",
        violation: MISMATCH,
        run: (p) => p.securityAlert.updateMany({ where: { tenantId: 1 }, data: { userId: 4 } }),
      },
      {
        name: "a token created for tenant 2's user by foreign key",
        violation: MISMATCH,
        run: (p) => p.refreshToken.create({ data: { userId: 3, tokenHash: 'x', expiresAt: FUTURE } }),
      },
      {
        name: "a token re-pointed at tenant 2's user",
        violation: MISMATCH,
        run: (p) => p.refreshToken.update({ where: { id: 1, user: { tenantId: 1 } }, data: { userId: 4 } }),
      },
      {
        name: 'createMany with one foreign key of tenant 2',
        violation: MISMATCH,
        run: (p) =>
          p.securityAlert.createMany({
            data: [
              { tenantId: 1, kind: 'a', userId: 1 },
              { tenantId: 1, kind: 'b', userId: 3 },
            ],
          }),
      },
      {
        name: "createManyAndReturn with tenant 3's user",
        violation: MISMATCH,
        run: (p) => p.mfaBackupCode.createManyAndReturn({ data: [{ userId: 6, codeHash: 'x' }] }),
      },
      {
        name: "upsert: the create branch names tenant 2's user",
        violation: MISMATCH,
        run: (p) =>
          p.securityAlert.upsert({
            where: { id: 99, tenantId: 1 },
            create: { tenantId: 1, kind: 'x', userId: 4 },
            update: {},
          }),
      },
      {
        name: "upsert: the update branch names tenant 2's user",
        violation: MISMATCH,
        run: (p) =>
          p.securityAlert.upsert({
            where: { id: 3, tenantId: 1 },
            create: { tenantId: 1, kind: 'x' },
            update: { userId: 4 },
          }),
      },
      {
        name: 'a foreign key to a row that does not exist',
        violation: 'unverified_reference',
        run: (p) => p.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { userId: 99 } }),
      },
      {
        name: 'inside an interactive transaction (and the transaction rolls back)',
        violation: MISMATCH,
        run: (p) =>
          p.$transaction(async (tx: P) => {
            await tx.auditLog.create({ data: { tenantId: 1, action: 'before' } })
            return tx.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { userId: 3 } })
          }),
      },
      {
        name: 'in a batch transaction',
        violation: MISMATCH,
        run: (p) =>
          p.$transaction([
            p.auditLog.create({ data: { tenantId: 1, action: 'batch' } }),
            p.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { userId: 4 } }),
          ]),
      },
    ],
    passes: [
      {
        name: "a tenant-1 alert pointed at tenant 1's user",
        run: (p) => p.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { userId: 1 } }),
        check: async (_r, base) => expect((await base.securityAlert.findUnique({ where: { id: 3 } })).userId).toBe(1),
      },
      {
        name: 'null unlinks',
        run: (p) => p.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { userId: null } }),
        check: async (_r, base) =>
          expect((await base.securityAlert.findUnique({ where: { id: 3 } })).userId).toBeNull(),
      },
      {
        name: "a token created for tenant 1's user by foreign key",
        run: (p) => p.refreshToken.create({ data: { userId: 2, tokenHash: 'x', expiresAt: FUTURE } }),
        check: (r) => expect(r.userId).toBe(2),
      },
      {
        name: "a column that is no relation's foreign key is plain data (AuditLog.userId)",
        run: (p) => p.auditLog.create({ data: { tenantId: 1, userId: 3, action: 'x' } }),
        check: (r) => expect([r.tenantId, r.userId]).toEqual([1, 3]),
      },
      {
        name: 'inside an interactive transaction, the lookup finds a user created earlier in it',
        run: (p) =>
          p.$transaction(async (tx: P) => {
            const u = await tx.user.create({ data: { tenantId: 1, email: 'tx@acme.test' } })
            return tx.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { userId: u.id } })
          }),
        check: async (r, base) =>
          expect((await base.user.findUnique({ where: { id: r.userId } })).email).toBe('tx@acme.test'),
      },
      {
        name: 'a read filtering by a bare foreign key under a pinned tenant (reads look nothing up)',
        run: (p) => p.securityAlert.findMany({ where: { tenantId: 1, userId: 4 } }),
        check: (r) => expect(r).toEqual([]),
      },
    ],
  })
})

describe("class 3: references: 'violation' (no lookup; an unproven foreign key is unverified_reference)", () => {
  bothWays(
    {
      blocked: [
        {
          name: "even tenant 1's own user by bare foreign key",
          violation: 'unverified_reference',
          run: (p) => p.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { userId: 1 } }),
        },
        {
          name: 'a token created by bare foreign key',
          violation: 'unverified_reference',
          run: (p) => p.refreshToken.create({ data: { userId: 1, tokenHash: 'x', expiresAt: FUTURE } }),
        },
        {
          name: 'a nested create with a bare foreign key',
          violation: 'unverified_reference',
          run: (p) => p.user.update({ where: { id: 1, tenantId: 1 }, data: { userRoles: { create: { roleId: 3 } } } }),
        },
        {
          name: 'a nested connect by id alone',
          violation: ['unverified_reference', NESTED_WRITE],
          run: (p) =>
            p.user.update({ where: { id: 1, tenantId: 1 }, data: { securityAlerts: { connect: { id: 1 } } } }),
        },
      ],
      passes: [
        {
          name: 'null unlinks',
          run: (p) => p.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { userId: null } }),
          check: (r) => expect(r.userId).toBeNull(),
        },
        {
          name: 'connects pinned to the tenant need no lookup',
          run: (p) =>
            p.userRole.create({
              data: { user: { connect: { id: 1, tenantId: 1 } }, role: { connect: { id: 3, tenantId: 1 } } },
            }),
          check: (r) => expect([r.userId, r.roleId]).toEqual([1, 3]),
        },
        {
          name: 'a nested create inheriting its parent, its other relation connected with a pin',
          run: (p) =>
            p.user.update({
              where: { id: 1, tenantId: 1 },
              data: { userRoles: { create: { role: { connect: { id: 3, tenantId: 1 } } } } },
            }),
          check: async (_r, base) => expect(await base.userRole.count({ where: { userId: 1 } })).toBe(2),
        },
      ],
    },
    { client: () => noLookups },
  )
})

describe('class 4: the tenant row itself', () => {
  bothWays({
    blocked: [
      { name: 'tenant.findMany()', violation: 'missing_tenant_id', model: 'Tenant', run: (p) => p.tenant.findMany() },
      {
        name: 'tenant.findUnique of tenant 2',
        violation: MISMATCH,
        model: 'Tenant',
        run: (p) => p.tenant.findUnique({ where: { id: 2 } }),
      },
      {
        name: 'tenant.findFirst by name',
        violation: 'missing_tenant_id',
        model: 'Tenant',
        run: (p) => p.tenant.findFirst({ where: { name: 'Globex' } }),
      },
      { name: 'tenant.count()', violation: 'missing_tenant_id', model: 'Tenant', run: (p) => p.tenant.count() },
      {
        name: 'tenant.findMany with { in: [1, 2] }',
        violation: MISMATCH,
        model: 'Tenant',
        run: (p) => p.tenant.findMany({ where: { id: { in: [1, 2] } } }),
      },
      {
        name: "tenant 2's row with its users",
        violation: [MISMATCH, 'unscoped_nested_read'],
        run: (p) => p.tenant.findUnique({ where: { id: 2 }, include: { users: true } }),
      },
      {
        name: "update of tenant 2's row",
        violation: MISMATCH,
        model: 'Tenant',
        run: (p) => p.tenant.update({ where: { id: 2 }, data: { name: 'pwned' } }),
      },
      {
        name: 'updateMany of every tenant',
        violation: 'missing_tenant_id',
        model: 'Tenant',
        run: (p) => p.tenant.updateMany({ data: { name: 'pwned' } }),
      },
      {
        name: "delete of tenant 3's row",
        violation: MISMATCH,
        model: 'Tenant',
        run: (p) => p.tenant.delete({ where: { id: 3 } }),
      },
      {
        // a new tenant is allowed (tenant.createInRequest, test/isolation-app-owned.test.ts); one with an
        // existing tenant's id would answer P2002, telling that it exists
        name: "creating a tenant inside a request with tenant 2's id",
        violation: MISMATCH,
        model: 'Tenant',
        run: (p) => p.tenant.create({ data: { id: 2, name: 'New' } }),
      },
      {
        name: "upsert of tenant 2's row",
        violation: MISMATCH,
        model: 'Tenant',
        run: (p) => p.tenant.upsert({ where: { id: 2 }, create: { id: 2, name: 'x' }, update: { name: 'x' } }),
      },
      {
        name: "changing tenant 1's id (its users follow by ON UPDATE CASCADE)",
        violation: MISMATCH,
        model: 'Tenant',
        run: (p) => p.tenant.update({ where: { id: 1 }, data: { id: 9 } }),
      },
      {
        name: "nested: a user created under tenant 2's row",
        violation: NAMED_OTHER,
        run: (p) => p.tenant.update({ where: { id: 2 }, data: { users: { create: { email: 'x@globex.test' } } } }),
      },
      {
        name: "nested: tenant 2's user connected to tenant 1",
        violation: LINKED,
        run: (p) => p.tenant.update({ where: { id: 1 }, data: { users: { connect: { id: 3 } } } }),
      },
      {
        name: 'updateMany of a tenant found by name',
        violation: 'missing_tenant_id',
        model: 'Tenant',
        run: (p) => p.tenant.updateMany({ where: { name: 'Globex' }, data: { name: 'x' } }),
      },
      {
        name: "nested: deleteMany of tenant 2's users",
        violation: MISMATCH,
        run: (p) => p.tenant.update({ where: { id: 2 }, data: { users: { deleteMany: {} } } }),
      },
      {
        name: 'a user created with tenant: { connect: { id: 2 } }',
        violation: MISMATCH,
        run: (p) => p.user.create({ data: { email: 'x@acme.test', tenant: { connect: { id: 2 } } } }),
      },
      {
        name: 'a user created with a new tenant row (inside a request)',
        violation: [...NAMED_OTHER, 'missing_tenant_id'],
        run: (p) => p.user.create({ data: { email: 'x@new.test', tenant: { create: { id: 9, name: 'New' } } } }),
      },
      {
        name: 'the tenant reached from an unproven user',
        violation: ['missing_tenant_id', 'unscoped_nested_read'],
        run: (p) => p.user.findFirst({ where: { email: 'carol@globex.test' }, select: { tenant: true } }),
      },
    ],
    passes: [
      {
        name: "tenant 1's row with its users",
        run: (p) => p.tenant.findUnique({ where: { id: 1 }, include: { users: true } }),
        check: (r) => expect(ids(r.users)).toEqual([1, 2, 5]),
      },
      {
        name: "tenant 1's row by findFirst with the id pinned",
        run: (p) => p.tenant.findFirst({ where: { id: 1, name: 'Acme' } }),
        check: (r) => expect(r.id).toBe(1),
      },
      {
        name: 'tenant.count of tenant 1',
        run: (p) => p.tenant.count({ where: { id: 1 } }),
        check: (r) => expect(r).toBe(1),
      },
      {
        name: "update of tenant 1's name",
        run: (p) => p.tenant.update({ where: { id: 1 }, data: { name: 'Acme 2' } }),
        check: async (_r, base) =>
          expect((await base.tenant.findMany({ orderBy: { id: 'asc' } })).map((t: any) => t.name)).toEqual([
            'Acme 2',
            'Globex',
            'Initech',
          ]),
      },
      {
        name: 'nested: a user created under tenant 1 inherits it',
        run: (p) => p.tenant.update({ where: { id: 1 }, data: { users: { create: { email: 'new@acme.test' } } } }),
        check: async (_r, base) =>
          expect((await base.user.findFirst({ where: { email: 'new@acme.test' } })).tenantId).toBe(1),
      },
      {
        name: "nested: updateMany of tenant 1's users touches no other tenant",
        run: (p) =>
          p.tenant.update({
            where: { id: 1 },
            data: { users: { updateMany: { where: {}, data: { isActive: false } } } },
          }),
        check: async (_r, base) =>
          expect(ids(await base.user.findMany({ where: { isActive: false } }))).toEqual([1, 2, 5, 7]),
      },
      {
        name: 'users of tenant 1 with their tenant row',
        run: (p) => p.user.findMany({ where: { tenantId: 1 }, include: { tenant: true } }),
        check: (r) => expect(r.map((u: any) => u.tenant.id)).toEqual([1, 1, 1]),
      },
      {
        name: 'a user created with tenant: { connect: { id: 1 } }',
        run: (p) => p.user.create({ data: { email: 'c@acme.test', tenant: { connect: { id: 1 } } } }),
        check: (r) => expect(r.tenantId).toBe(1),
      },
    ],
  })

  describe('outside any request context (a signup)', () => {
    bothWays(
      {
        blocked: [
          {
            name: "a new tenant that takes over tenant 1's user",
            violation: [MISMATCH, NESTED_WRITE, 'unverified_reference'],
            run: (p) => p.tenant.create({ data: { id: 9, name: 'Signup', users: { connect: { id: 1 } } } }),
          },
          { name: 'a query naming no tenant', violation: 'missing_tenant_id', run: (p) => p.tenant.findMany() },
        ],
        passes: [
          {
            name: 'a new tenant with its first user (nested create inherits the new tenant)',
            run: (p) =>
              p.tenant.create({ data: { id: 9, name: 'Signup', users: { create: { email: 'owner@signup.test' } } } }),
            check: async (_r, base) =>
              expect((await base.user.findFirst({ where: { email: 'owner@signup.test' } })).tenantId).toBe(9),
          },
        ],
      },
      { context: false },
    )
  })
})

describe('class 5: relation filters as oracles from a global or unscoped parent', () => {
  const ORACLE = 'unscoped_relation_filter'
  bothWays({
    blocked: [
      {
        name: 'tenant.findMany({ where: { users: { some: { email } } } })',
        violation: ['missing_tenant_id', ORACLE],
        run: (p) => p.tenant.findMany({ where: { users: { some: { email: 'carol@globex.test' } } } }),
      },
      {
        name: 'permission.count({ where: { rolePermissions: { some: { role: { tenantId: 2 } } } } })',
        violation: [ORACLE, MISMATCH],
        run: (p) => p.permission.count({ where: { rolePermissions: { some: { role: { tenantId: 2 } } } } }),
      },
      {
        name: 'some without a pin',
        violation: ORACLE,
        run: (p) => p.permission.findMany({ where: { rolePermissions: { some: { role: { name: 'admin' } } } } }),
      },
      {
        name: 'some by a bare foreign key (not a pin)',
        violation: ORACLE,
        run: (p) => p.permission.findMany({ where: { rolePermissions: { some: { roleId: 2 } } } }),
      },
      {
        name: 'every, even pinned',
        violation: ORACLE,
        run: (p) => p.permission.findMany({ where: { rolePermissions: { every: { role: { tenantId: 1 } } } } }),
      },
      {
        name: 'none without a pin',
        violation: ORACLE,
        run: (p) => p.permission.findMany({ where: { rolePermissions: { none: { role: { name: 'member' } } } } }),
      },
      {
        name: 'some nested two relations deep',
        violation: ORACLE,
        run: (p) =>
          p.permission.findMany({
            where: {
              rolePermissions: { some: { role: { userRoles: { some: { user: { email: 'carol@globex.test' } } } } } },
            },
          }),
      },
      {
        name: 'inside an OR branch',
        violation: [ORACLE, MISMATCH],
        run: (p) =>
          p.permission.findMany({
            where: { OR: [{ key: 'nope' }, { rolePermissions: { some: { role: { tenantId: 2 } } } }] },
          }),
      },
      {
        name: 'inside NOT, every (NOT every = some NOT: other tenants\' rows decide)',
        violation: ORACLE,
        run: (p) => p.permission.findMany({ where: { NOT: { rolePermissions: { every: { role: { tenantId: 1 } } } } } }),
      },
      {
        name: 'inside NOT, some without a pin',
        violation: ORACLE,
        run: (p) => p.permission.findMany({ where: { NOT: { rolePermissions: { some: { role: { name: 'admin' } } } } } }),
      },
      {
        name: 'orderBy a relation _count from a global parent',
        violation: ORACLE,
        run: (p) => p.permission.findMany({ orderBy: { rolePermissions: { _count: 'desc' } } }),
      },
      {
        name: '_count: true from a global parent',
        violation: ['unscoped_nested_read', ORACLE],
        run: (p) => p.permission.findMany({ include: { _count: true } }),
      },
      {
        name: 'a write whose filter is the oracle (the count tells)',
        violation: ORACLE,
        run: (p) =>
          p.permission.updateMany({
            where: { rolePermissions: { some: { role: { name: 'admin', isActive: true } } } },
            data: {},
          }),
      },
      {
        name: 'a filter from a tenant-owned parent that does not pin it (is)',
        violation: 'missing_tenant_id',
        run: (p) => p.securityAlert.count({ where: { user: { is: { tenantId: 1 } } } }),
      },
      {
        name: 'null on a relation from an unpinned parent',
        violation: 'missing_tenant_id',
        run: (p) => p.securityAlert.count({ where: { user: null } }),
      },
      {
        name: 'isNot under an unpinned relation-scoped parent',
        violation: 'missing_relation_filter',
        run: (p) => p.mfaBackupCode.count({ where: { user: { isNot: { tenantId: 2 } } } }),
      },
      // strict reading: "a filter that pins another tenant than T is tenant_mismatch", nested ones included
      {
        name: 'a nested filter naming tenant 2 under a proven parent',
        violation: MISMATCH,
        run: (p) => p.user.count({ where: { tenantId: 1, userRoles: { some: { role: { tenantId: 2 } } } } }),
      },
    ],
    passes: [
      {
        name: 'some pinned to tenant 1 from a global parent',
        run: (p) => p.permission.findMany({ where: { rolePermissions: { some: { role: { tenantId: 1 } } } } }),
        check: (r) => expect(ids(r)).toEqual([1, 2]),
      },
      {
        name: 'none pinned to tenant 1 from a global parent',
        run: (p) => p.permission.findMany({ where: { rolePermissions: { none: { role: { tenantId: 1 } } } } }),
        check: (r) => expect(ids(r)).toEqual([3]),
      },
      {
        // NOT { some: X } is { none: X }: with X pinned to tenant 1 only tenant 1's rows decide
        name: 'NOT over some pinned to tenant 1 from a global parent',
        run: (p) => p.permission.findMany({ where: { NOT: { rolePermissions: { some: { role: { tenantId: 1 } } } } } }),
        check: (r) => expect(ids(r)).toEqual([3]),
      },
      {
        name: "every under a proven parent (tenant 1's row)",
        run: (p) => p.tenant.findMany({ where: { id: 1, users: { every: { isActive: true } } } }),
        check: (r) => expect(r).toEqual([]),
      },
      {
        name: 'isNot under a proven parent',
        run: (p) => p.securityAlert.findMany({ where: { tenantId: 1, user: { isNot: { email: 'bob@acme.test' } } } }),
        check: (r) => expect(ids(r)).toEqual([1]),
      },
      {
        name: 'null under a proven parent',
        run: (p) => p.securityAlert.findMany({ where: { tenantId: 1, user: null } }),
        check: (r) => expect(ids(r)).toEqual([1]),
      },
      {
        name: 'orderBy a relation _count under a proven parent',
        run: (p) =>
          p.user.findMany({ where: { tenantId: 1 }, orderBy: [{ refreshTokens: { _count: 'desc' } }, { id: 'asc' }] }),
        check: (r) => expect(r.map((u: any) => u.id)).toEqual([1, 2, 5]),
      },
      {
        name: 'a relation filter from a proven parent',
        run: (p) => p.user.findMany({ where: { tenantId: 1, userRoles: { some: { role: { name: 'admin' } } } } }),
        check: (r) => expect(ids(r)).toEqual([1]),
      },
    ],
  })
})

describe('class 6: mixed relation writes, each part proven', () => {
  bothWays({
    blocked: [
      {
        name: 'tenant: { connect: 1, connectOrCreate: 2 } together',
        violation: [MISMATCH, 'unverified_reference'],
        run: (p) =>
          p.user.create({
            data: {
              email: 'm@acme.test',
              tenant: { connect: { id: 1 }, connectOrCreate: { where: { id: 2 }, create: { id: 2, name: 'Globex' } } },
            },
          }),
      },
      {
        name: 'tenant: { connectOrCreate } of tenant 2',
        violation: MISMATCH,
        run: (p) =>
          p.user.create({
            data: {
              email: 'm@acme.test',
              tenant: { connectOrCreate: { where: { id: 2 }, create: { id: 2, name: 'Globex' } } },
            },
          }),
      },
      {
        name: 'the scoping relation: connect to tenant 2 beside update',
        violation: MISMATCH,
        run: (p) =>
          p.user.update({
            where: { id: 5, tenantId: 1 },
            data: { tenant: { connect: { id: 2 }, update: { name: 'pwned' } } },
          }),
      },
      {
        name: "a to-one relation: connect tenant 2's user beside update",
        violation: LINKED,
        run: (p) =>
          p.securityAlert.update({
            where: { id: 3, tenantId: 1 },
            data: { user: { connect: { id: 4 }, update: { isActive: false } } },
          }),
      },
      {
        name: "connectOrCreate whose where finds tenant 2's user",
        violation: LINKED,
        run: (p) =>
          p.refreshToken.create({
            data: {
              tokenHash: 'x',
              expiresAt: FUTURE,
              user: { connectOrCreate: { where: { id: 3 }, create: { tenantId: 1, email: 'n@acme.test' } } },
            },
          }),
      },
      {
        name: 'connectOrCreate by a compound key of tenant 2',
        violation: MISMATCH,
        run: (p) =>
          p.refreshToken.create({
            data: {
              tokenHash: 'x',
              expiresAt: FUTURE,
              user: {
                connectOrCreate: {
                  where: { tenantId_email: { tenantId: 2, email: 'carol@globex.test' } },
                  create: { tenantId: 1, email: 'carol@globex.test' },
                },
              },
            },
          }),
      },
      {
        // Prisma would create (user 3 is active), and connect to tenant 2's user once it is not: the
        // answer depends on another tenant's row. Looked up by its key alone, it is a mismatch.
        name: "connectOrCreate by tenant 2's user id with a filter it does not match (an oracle)",
        violation: MISMATCH,
        run: (p) =>
          p.refreshToken.create({
            data: {
              tokenHash: 'x',
              expiresAt: FUTURE,
              user: { connectOrCreate: { where: { id: 3, isActive: false }, create: { tenantId: 1, email: 'o@acme.test' } } },
            },
          }),
      },
      {
        name: 'connectOrCreate pinned where, create in tenant 2',
        violation: MISMATCH,
        run: (p) =>
          p.refreshToken.create({
            data: {
              tokenHash: 'x',
              expiresAt: FUTURE,
              user: {
                connectOrCreate: {
                  where: { tenantId_email: { tenantId: 1, email: 'zz@acme.test' } },
                  create: { tenantId: 2, email: 'zz@acme.test' },
                },
              },
            },
          }),
      },
    ],
    passes: [
      {
        name: 'tenant: { connectOrCreate } of tenant 1',
        run: (p) =>
          p.user.create({
            data: {
              email: 'm@acme.test',
              tenant: { connectOrCreate: { where: { id: 1 }, create: { id: 1, name: 'Acme' } } },
            },
          }),
        check: (r) => expect(r.tenantId).toBe(1),
      },
      {
        name: 'the scoping relation: connect tenant 1 beside update of tenant 1',
        run: (p) =>
          p.user.update({
            where: { id: 1, tenantId: 1 },
            data: { tenant: { connect: { id: 1 }, update: { name: 'Acme 2' } } },
          }),
        check: async (r, base) =>
          expect([r.tenantId, (await base.tenant.findUnique({ where: { id: 1 } })).name]).toEqual([1, 'Acme 2']),
      },
      {
        name: 'connectOrCreate by a compound key of tenant 1 (creates the user in tenant 1)',
        run: (p) =>
          p.refreshToken.create({
            data: {
              tokenHash: 'x',
              expiresAt: FUTURE,
              user: {
                connectOrCreate: {
                  where: { tenantId_email: { tenantId: 1, email: 'n@acme.test' } },
                  create: { tenantId: 1, email: 'n@acme.test' },
                },
              },
            },
            include: { user: true },
          }),
        check: (r) => expect([r.user.tenantId, r.user.email]).toEqual([1, 'n@acme.test']),
      },
      {
        name: "connectOrCreate by tenant 1's user id with a filter it does not match (creates in tenant 1)",
        run: (p) =>
          p.refreshToken.create({
            data: {
              tokenHash: 'x',
              expiresAt: FUTURE,
              user: { connectOrCreate: { where: { id: 2, isActive: false }, create: { tenantId: 1, email: 'o@acme.test' } } },
            },
            include: { user: true },
          }),
        check: (r) => expect([r.user.tenantId, r.user.email]).toEqual([1, 'o@acme.test']),
      },
    ],
  })
})

describe('class 7: selective mode (phase-2 flags) decides over every finding of a query', () => {
  const PHASE2 = stringifyFlags(config.phases[2]!.flags)
  beforeEach(() => setFlags(PHASE2))
  it('the phase-2 flags enforce User and RefreshToken and only log Role, UserRole, SecurityAlert, Tenant', () => {
    const enforced = PHASE2.TENANT_ENFORCEMENT_ENFORCE_MODELS!.split(',')
    const logged = PHASE2.TENANT_ENFORCEMENT_LOG_MODELS!.split(',')
    expect(enforced).toEqual(expect.arrayContaining(['User', 'RefreshToken']))
    expect(logged).toEqual(expect.arrayContaining(['Role', 'UserRole', 'SecurityAlert', 'Tenant']))
  })
  bothWays({
    blocked: [
      {
        name: 'a Role query whose include reaches User and RefreshToken',
        model: ['User', 'RefreshToken'],
        run: (p) =>
          p.role.findMany({ include: { userRoles: { include: { user: { include: { refreshTokens: true } } } } } }),
      },
      {
        name: 'an unscoped SecurityAlert query including its user',
        model: 'User',
        run: (p) => p.securityAlert.findMany({ include: { user: true } }),
      },
      {
        name: 'an unscoped Tenant query including its users',
        model: 'User',
        run: (p) => p.tenant.findMany({ include: { users: true } }),
      },
      {
        name: 'a global hop: Permission -> RolePermission -> Role -> UserRole -> User',
        model: 'User',
        run: (p) =>
          p.permission.findMany({
            include: {
              rolePermissions: { include: { role: { include: { userRoles: { include: { user: true } } } } } },
            },
          }),
      },
      {
        name: 'a logged model filtering through an enforced one (oracle on User)',
        model: ['User', 'Role'],
        run: (p) => p.role.count({ where: { userRoles: { some: { user: { email: 'carol@globex.test' } } } } }),
      },
    ],
    passes: [
      {
        name: 'an unscoped Role query alone is logged, not blocked',
        run: (p) => p.role.findMany({ where: { name: 'admin' } }),
        check: () => expect(db.violations().map((l) => l.model)).toContain('Role'),
      },
      {
        name: 'a scoped Role query with the same include',
        run: (p) =>
          p.role.findMany({
            where: { tenantId: 1 },
            include: { userRoles: { include: { user: { include: { refreshTokens: true } } } } },
            orderBy: { id: 'asc' },
          }),
        check: (r) => expect(r.flatMap((x: any) => x.userRoles.map((ur: any) => ur.user.id))).toEqual([1, 2]),
      },
    ],
  })
})

describe('class 8: every operation that runs SQL without a model falls under the raw policy', () => {
  const usersOfTenant = makeTypedQueryFactory('SELECT "id", "tenantId" FROM "User" WHERE "tenantId" = ? ORDER BY "id"')
  bothWays({
    blocked: [
      { name: '$queryRaw', violation: 'raw_query', model: '$raw', run: (p) => p.$queryRaw`SELECT "id" FROM "User"` },
      {
        name: '$queryRawUnsafe',
        violation: 'raw_query',
        model: '$raw',
        run: (p) => p.$queryRawUnsafe('SELECT "id" FROM "User" WHERE "tenantId" = ?', 2),
      },
      {
        name: '$executeRaw',
        violation: 'raw_query',
        model: '$raw',
        run: (p) => p.$executeRaw`UPDATE "User" SET "isActive" = false`,
      },
      {
        name: '$executeRawUnsafe',
        violation: 'raw_query',
        model: '$raw',
        run: (p) => p.$executeRawUnsafe('DELETE FROM "AuditLog"'),
      },
      {
        name: '$queryRawTyped (typedSql)',
        violation: 'raw_query',
        model: '$raw',
        run: (p) => p.$queryRawTyped(usersOfTenant(2)),
      },
      // a model's findRaw/aggregateRaw reach the hook on every provider (Prisma fails them later on SQLite)
      { name: 'user.findRaw', violation: 'raw_query', model: '$raw', run: (p) => p.user.findRaw({ filter: {} }) },
      {
        name: 'user.aggregateRaw',
        violation: 'raw_query',
        model: '$raw',
        run: (p) => p.user.aggregateRaw({ pipeline: [] }),
      },
      {
        name: '$executeRawUnsafe inside an interactive transaction',
        violation: 'raw_query',
        model: '$raw',
        run: (p) => p.$transaction((tx: P) => tx.$executeRawUnsafe('DELETE FROM "SecurityAlert"')),
      },
      {
        name: '$queryRaw in a batch transaction',
        violation: 'raw_query',
        model: '$raw',
        run: (p) =>
          p.$transaction([p.user.count({ where: { tenantId: 1 } }), p.$queryRaw`SELECT count(*) FROM "User"`]),
      },
    ],
    passes: [],
  })
  describe("rawQueries.policy 'allow'", () => {
    bothWays(
      {
        blocked: [],
        passes: [
          {
            name: '$queryRawUnsafe is let through',
            run: (p) => p.$queryRawUnsafe('SELECT count(*) AS n FROM "User"'),
            check: (r) => expect(Number(r[0].n)).toBe(7),
          },
          {
            name: '$queryRawTyped is let through',
            run: (p) => p.$queryRawTyped(usersOfTenant(1)),
            check: (r) => expect(ids(r)).toEqual([1, 2, 5]),
          },
        ],
      },
      { client: () => rawAllowed },
    )
  })
  it('$runCommandRaw is MongoDB-only: on SQLite Prisma refuses it before any hook runs (nothing to check)', () => {
    expect(() => db.prisma.$runCommandRaw({ ping: 1 })).toThrow(/does not support \$runCommandRaw/)
  })
})

describe('class 9: over-blocking fixed (and what must still block)', () => {
  bothWays({
    blocked: [
      {
        name: '_count of a tenant-owned relation under a global parent, no where',
        violation: ['unscoped_nested_read', 'unscoped_relation_filter'],
        run: (p) => p.permission.findMany({ select: { id: true, _count: { select: { rolePermissions: true } } } }),
      },
      {
        name: 'user: { is: undefined } pins nothing',
        violation: 'missing_relation_filter',
        run: (p) => p.refreshToken.findMany({ where: { user: { is: undefined } } }),
      },
      {
        name: 'an OR branch that Prisma reduces to {} (tenantId: undefined)',
        violation: 'missing_tenant_id',
        run: (p) => p.user.findMany({ where: { OR: [{ tenantId: 1 }, { tenantId: undefined }] } }),
      },
      {
        name: "cursor on tenant 2's row under a pinned where",
        violation: ['missing_tenant_id', MISMATCH],
        run: (p) => p.user.findMany({ where: { tenantId: 1 }, cursor: { id: 3 }, orderBy: { id: 'asc' } }),
      },
      {
        name: 'cursor not pinned, even on a tenant-1 row (Prisma looks it up by id alone)',
        violation: 'missing_tenant_id',
        run: (p) => p.user.findMany({ where: { tenantId: 1 }, cursor: { id: 2 }, orderBy: { id: 'asc' } }),
      },
      {
        name: 'cursor pinned to tenant 2',
        violation: MISMATCH,
        run: (p) => p.user.findMany({ where: { tenantId: 1 }, cursor: { id: 3, tenantId: 2 } }),
      },
      {
        name: 'nested cursor under a proven parent, not pinned',
        violation: ['missing_tenant_id', 'unscoped_nested_read'],
        run: (p) => p.tenant.findUnique({ where: { id: 1 }, include: { users: { cursor: { id: 3 }, take: 1 } } }),
      },
      {
        name: 'cursor on a relation-scoped model (id alone)',
        violation: 'missing_relation_filter',
        run: (p) => p.refreshToken.findMany({ where: { user: { tenantId: 1 } }, cursor: { id: 2 } }),
      },
    ],
    passes: [
      {
        name: 'nested _count with its own scoped where under a global parent',
        run: (p) =>
          p.permission.findMany({
            select: { id: true, _count: { select: { rolePermissions: { where: { role: { tenantId: 1 } } } } } },
            orderBy: { id: 'asc' },
          }),
        check: (r) => expect(r.map((x: any) => x._count.rolePermissions)).toEqual([2, 1, 0]),
      },
      {
        name: '_count under a proven parent',
        run: (p) =>
          p.user.findMany({
            where: { tenantId: 1 },
            select: {
              id: true,
              _count: { select: { refreshTokens: true, userRoles: { where: { role: { name: 'admin' } } } } },
            },
            orderBy: { id: 'asc' },
          }),
        check: (r) =>
          expect(r.map((x: any) => [x.id, x._count.refreshTokens, x._count.userRoles])).toEqual([
            [1, 1, 1],
            [2, 1, 0],
            [5, 0, 0],
          ]),
      },
      {
        name: 'user: { is: undefined, tenantId: 1 } (read as user: { tenantId: 1 })',
        run: (p) => p.refreshToken.findMany({ where: { user: { is: undefined, tenantId: 1 } } }),
        check: (r) => expect(ids(r)).toEqual([1, 3]),
      },
      {
        name: 'user: { isNot: undefined, tenantId: 1 }',
        run: (p) => p.userRole.findMany({ where: { user: { isNot: undefined, tenantId: 1 } } }),
        check: (r) => expect(ids(r)).toEqual([1, 3]),
      },
      {
        name: 'undefined beside the pin',
        run: (p) => p.user.findMany({ where: { tenantId: 1, email: undefined, AND: [{ isActive: undefined }] } }),
        check: (r) => expect(ids(r)).toEqual([1, 2, 5]),
      },
      {
        name: 'undefined in write data is dropped too',
        run: (p) => p.securityAlert.update({ where: { id: 3, tenantId: 1 }, data: { userId: undefined, kind: 'k' } }),
        check: (r) => expect([r.userId, r.kind]).toEqual([2, 'k']),
      },
      {
        name: 'cursor pinned to tenant 1',
        run: (p) => p.user.findMany({ where: { tenantId: 1 }, cursor: { id: 2, tenantId: 1 }, orderBy: { id: 'asc' } }),
        check: (r) => expect(r.map((u: any) => u.id)).toEqual([2, 5]),
      },
      {
        name: 'nested cursor pinned under a proven parent',
        run: (p) =>
          p.tenant.findUnique({
            where: { id: 1 },
            include: { users: { cursor: { id: 2, tenantId: 1 }, take: 2, orderBy: { id: 'asc' } } },
          }),
        check: (r) => expect(r.users.map((u: any) => u.id)).toEqual([2, 5]),
      },
    ],
  })
})
