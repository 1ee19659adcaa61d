// Issue 18, the last leak and over-block classes, both ways on a real SQLite database and judged by it
// (helpers/isolation-both-ways.ts: a blocked shape leaks on the plain client unless marked rule-only; a
// passing shape leaks nothing):
//   1. a unique key changed by arithmetic (`id: { increment: 2 }`), or with undefined / Prisma.skip
//      beside `set`, nested too: proven like a literal key (looked up) or, when the new value cannot be
//      known before the query, refused as unverified_reference;
//   2. Prisma.skip read as absent wherever undefined is (never as a pin: `tenantId: skip` scopes nothing);
//   3. a connect or set to a key that no row of the request's tenant holds is refused whether or not
//      another tenant holds it, with the same answer (an oracle otherwise); connectOrCreate creates;
//   4. the violation's path names the branch or the nested position, in the error and the log line.
// The request is tenant 1 (users 1, 2, 5; roles 1, 3; alerts 1, 3; audit logs 1, 3), see helpers/isolation-demo.ts.
import { skip } from '@prisma/client/runtime/client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runWithTenant } from '../src/index.ts'
import { isolationDatabase, setFlags, stable, T1, type AnyClient, type IsolationDb } from './helpers/isolation-db.ts'
import { bothWays } from './helpers/isolation-both-ways.ts'
import { A, ENFORCE, ids, q, useAppIsolation } from './helpers/isolation-app-env.ts'
import { openTruthDatabases, snapshot, type TruthDatabases } from './helpers/isolation-truth.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
const UNVERIFIED = 'unverified_reference'
const MISMATCH = 'tenant_mismatch'
const numIds = (rows: Array<{ id: number }>) => rows.map((r) => r.id).sort((a, b) => a - b)

let db: IsolationDb
let truth: TruthDatabases
let seed: string
beforeAll(async () => {
  db = await isolationDatabase(ENFORCE)
  truth = await openTruthDatabases(db.base)
  seed = stable(await snapshot(db.base))
})
afterAll(async () => {
  await truth?.close()
  await db?.close()
})
beforeEach(async () => {
  setFlags(ENFORCE)
  db.lines.length = 0
  if (stable(await snapshot(db.base)) !== seed) await db.reset()
})
const env = () => ({ db, truth })
const user1 = { id: 1, tenantId: 1 }

describe('1. a unique key changed by arithmetic or with an absent key beside set', () => {
  bothWays(env, {
    blocked: [
      {
        name: "id: { increment: 2 } on user 1 (P2002 or success tells that tenant 2's user 3 exists)",
        run: q('User', 'update', { where: user1, data: { id: { increment: 2 } } }),
        violation: UNVERIFIED,
        model: 'User',
      },
      {
        name: 'id: { increment: 100 } (no row holds 101 here: the value is not known before the query)',
        run: q('User', 'update', { where: user1, data: { id: { increment: 100 } } }),
        violation: UNVERIFIED,
        ruleOnly: 'no row holds 101 on this seed; the new value is only known to the database',
      },
      {
        name: "id: { decrement: 1 } on audit log 3 (lands on tenant 2's audit log 2)",
        run: q('AuditLog', 'update', { where: { id: 3, tenantId: 1 }, data: { id: { decrement: 1 } } }),
        violation: UNVERIFIED,
      },
      {
        name: "id: { multiply: 2 } on user 2 (lands on tenant 2's user 4)",
        run: q('User', 'update', { where: { id: 2, tenantId: 1 }, data: { id: { multiply: 2 } } }),
        violation: UNVERIFIED,
      },
      {
        name: 'id: { divide: 2 } on user 2 (lands on its own user 1 here)',
        run: q('User', 'update', { where: { id: 2, tenantId: 1 }, data: { id: { divide: 2 } } }),
        violation: UNVERIFIED,
        ruleOnly: 'the quotient is a key of tenant 1 on this seed; another divisor reaches another tenant',
      },
      {
        name: 'updateMany with id: { increment: 2 } (every row of tenant 1 re-keyed onto others)',
        run: q('User', 'updateMany', { where: { tenantId: 1 }, data: { id: { increment: 2 } } }),
        violation: UNVERIFIED,
      },
      {
        name: "id: { set: 3, increment: undefined } (sets 3: tenant 2's user)",
        run: q('User', 'update', { where: user1, data: { id: { set: 3, increment: undefined } } }),
        violation: MISMATCH,
        model: 'User',
      },
      {
        name: "id: { set: 3, increment: Prisma.skip } (sets 3: tenant 2's user)",
        run: q('User', 'update', { where: user1, data: { id: { set: 3, increment: skip } } }),
        violation: MISMATCH,
      },
      {
        name: 'nested update of a user under the tenant row: id: { increment: 2 }',
        run: q('Tenant', 'update', {
          where: { id: 1 },
          data: { users: { update: { where: { id: 1 }, data: { id: { increment: 2 } } } } },
        }),
        violation: UNVERIFIED,
      },
      {
        name: "nested upsert's update of alert 3: id: { set: 2, decrement: Prisma.skip } (tenant 2's alert 2)",
        run: q('User', 'update', {
          where: { id: 2, tenantId: 1 },
          data: {
            securityAlerts: {
              upsert: {
                where: { id: 3 },
                create: { tenantId: 1, kind: 'u' },
                update: { id: { set: 2, decrement: skip } },
              },
            },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: "nested updateMany of user 2's alerts: id: { increment: 1 } (alert 3 onto tenant 2's alert 4)",
        run: q('Tenant', 'update', {
          where: { id: 1 },
          data: { users: { update: { where: { id: 2 }, data: { securityAlerts: { updateMany: { where: {}, data: { id: { increment: 1 } } } } } } } },
        }),
        violation: UNVERIFIED,
      },
    ],
    passes: [
      {
        name: 'id: { set: 101, increment: undefined } (no row holds 101: the literal is looked up and passes)',
        run: q('User', 'update', { where: user1, data: { id: { set: 101, increment: undefined } } }),
        check: async (_r, base: AnyClient) =>
          expect(await base.user.findUnique({ where: { id: 101 } })).toMatchObject({ tenantId: 1, email: 'alice@acme.test' }),
      },
      {
        name: 'id: { set: 102, increment: Prisma.skip }',
        run: q('User', 'update', { where: user1, data: { id: { set: 102, increment: skip } } }),
        check: async (_r, base: AnyClient) => expect(await base.user.findUnique({ where: { id: 102 } })).not.toBeNull(),
      },
      {
        name: 'a plain column set beside an absent operator: userId: { set: 2, increment: undefined }',
        run: q('AuditLog', 'update', { where: { id: 1, tenantId: 1 }, data: { userId: { set: 2, increment: undefined } } }),
        check: async (_r, base: AnyClient) => expect((await base.auditLog.findUnique({ where: { id: 1 } })).userId).toBe(2),
      },
    ],
  })
})

describe('2. Prisma.skip is absent, never a pin', () => {
  bothWays(env, {
    blocked: [
      {
        name: 'where: { tenantId: Prisma.skip } (matches every tenant)',
        run: q('User', 'findMany', { where: { tenantId: skip } }),
        violation: 'missing_tenant_id',
      },
      {
        name: 'where: { user: { tenantId: Prisma.skip } } on a relation-scoped model',
        run: q('RefreshToken', 'findMany', { where: { user: { tenantId: skip } } }),
        violation: 'missing_relation_filter',
      },
      {
        name: 'where: { user: { is: { tenantId: Prisma.skip } } }',
        run: q('RefreshToken', 'findMany', { where: { user: { is: { tenantId: skip } } } }),
        violation: 'missing_relation_filter',
      },
      {
        name: 'update data tenantId: { set: 2, increment: Prisma.skip } (moves the user to tenant 2)',
        run: q('User', 'update', { where: user1, data: { tenantId: { set: 2, increment: skip } } }),
        violation: MISMATCH,
      },
    ],
    passes: [
      {
        name: 'user: { is: Prisma.skip, tenantId: 1 }',
        run: q('RefreshToken', 'findMany', { where: { user: { is: skip, tenantId: 1 } } }),
        check: (r) => expect(numIds(r)).toEqual([1, 3]),
      },
      {
        name: 'update data tenantId: Prisma.skip beside another field',
        run: q('User', 'update', { where: user1, data: { tenantId: skip, email: 'new@acme.test' } }),
        check: async (_r, base: AnyClient) =>
          expect(await base.user.findUnique({ where: { id: 1 } })).toMatchObject({ tenantId: 1, email: 'new@acme.test' }),
      },
      {
        name: 'update data tenantId: { set: 1, increment: undefined }',
        run: q('User', 'update', { where: user1, data: { tenantId: { set: 1, increment: undefined }, isActive: false } }),
        check: async (_r, base: AnyClient) => expect((await base.user.findUnique({ where: { id: 1 } })).isActive).toBe(false),
      },
      {
        name: 'update data tenantId: { set: 1, increment: Prisma.skip }',
        run: q('User', 'update', { where: user1, data: { tenantId: { set: 1, increment: skip } } }),
        check: (r) => expect(r).toMatchObject({ id: 1, tenantId: 1 }),
      },
      {
        name: 'a foreign key set beside an absent operator: roleId: { set: 3, increment: undefined }',
        run: q('UserRole', 'update', { where: { id: 1, user: { tenantId: 1 } }, data: { roleId: { set: 3, increment: undefined } } }),
        check: (r) => expect(r).toMatchObject({ id: 1, roleId: 3 }),
      },
      {
        name: 'a skipped relation read from a global parent (Prisma reads nothing of it)',
        run: q('Permission', 'findMany', { include: { rolePermissions: skip }, orderBy: { id: 'asc' } }),
        check: (r) => expect(numIds(r)).toEqual([1, 2, 3]),
      },
      {
        name: 'a skipped cursor and a skipped where on a scoped read',
        run: q('User', 'findMany', { where: { tenantId: 1, email: skip }, cursor: skip, select: { id: true } }),
        check: (r) => expect(numIds(r)).toEqual([1, 2, 5]),
      },
      {
        name: 'a skipped nested connect beside a proven create',
        run: q('RefreshToken', 'create', {
          data: { tokenHash: 'n', expiresAt: new Date('2099-01-01'), user: { connect: skip, create: { tenantId: 1, email: 'k@acme.test' } } },
        }),
        check: async (r, base: AnyClient) => expect((await base.user.findUnique({ where: { id: r.userId } })).tenantId).toBe(1),
      },
    ],
  })
})

describe("3. a connect or set to a key no row of the tenant holds: refused, another tenant's or none", () => {
  bothWays(env, {
    blocked: [
      {
        name: 'connect to alert 99 (no row holds it)',
        run: q('User', 'update', { where: user1, data: { securityAlerts: { connect: { id: 99 } } } }),
        violation: UNVERIFIED,
        model: 'SecurityAlert',
        ruleOnly: 'no row holds 99: Prisma would fail alike; refused so that it cannot be told from tenant 2\'s alert 2',
      },
      {
        name: "connect to tenant 2's alert 2",
        run: q('User', 'update', { where: user1, data: { securityAlerts: { connect: { id: 2 } } } }),
        violation: MISMATCH,
        model: 'SecurityAlert',
      },
      {
        name: 'set to [alert 1, alert 99]',
        run: q('User', 'update', { where: { id: 2, tenantId: 1 }, data: { securityAlerts: { set: [{ id: 1 }, { id: 99 }] } } }),
        violation: UNVERIFIED,
        ruleOnly: 'no row holds 99',
      },
      {
        name: 'a token created for user 99 through connect (its tenant source)',
        run: q('RefreshToken', 'create', { data: { tokenHash: 't', expiresAt: new Date('2099-01-01'), user: { connect: { id: 99 } } } }),
        violation: UNVERIFIED,
        model: 'RefreshToken',
        ruleOnly: 'no row holds 99',
      },
    ],
    passes: [
      {
        name: "connect to the tenant's own alert 1",
        run: q('User', 'update', { where: user1, data: { securityAlerts: { connect: { id: 1 } } } }),
        check: async (_r, base: AnyClient) => expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBe(1),
      },
      {
        name: 'connectOrCreate by a key no row holds creates the row',
        run: q('User', 'update', {
          where: user1,
          data: { securityAlerts: { connectOrCreate: { where: { id: 99 }, create: { tenantId: 1, kind: 'made' } } } },
        }),
        check: async (_r, base: AnyClient) =>
          expect(await base.securityAlert.findMany({ where: { kind: 'made' } })).toMatchObject([{ tenantId: 1, userId: 1 }]),
      },
      {
        name: 'a connect that pins the tenant needs no lookup (a missing row fails in Prisma, whoever holds the id)',
        run: q('User', 'update', { where: user1, data: { securityAlerts: { connect: { id: 99, tenantId: 1 } } } }),
        rejects: 'P2018',
      },
    ],
  })

  it('answers a key nobody holds and a key another tenant holds alike, as the app and its HTTP error see them', async () => {
    const attempt = (id: number) =>
      runWithTenant(T1, () => db.prisma.user.update({ where: user1, data: { securityAlerts: { connect: { id } } } })).then(
        () => expect.fail('let through'),
        (e: { code: string; model: string; message: string; action: string }) => [e.code, e.model, e.message, e.action],
      )
    expect(await attempt(99)).toEqual(await attempt(2))
  })
})

describe('3b. the same on the app schema (string ids, a many-to-many)', () => {
  const app = useAppIsolation()
  bothWays(app.env, {
    blocked: [
      {
        name: 'a document tagged with a tag id no row holds',
        run: q('Document', 'update', { where: { id: 'd_a2', teamId: A }, data: { tags: { connect: { id: 't_nope' } } } }),
        violation: UNVERIFIED,
        model: 'Tag',
        ruleOnly: 'no row holds t_nope',
      },
    ],
    passes: [
      {
        name: "a document tagged with the team's own tag",
        run: q('Document', 'update', { where: { id: 'd_a2', teamId: A }, data: { tags: { set: [{ id: 't_a1' }] } }, include: { tags: true } }),
        check: (r) => expect(ids(r.tags)).toEqual(['t_a1']),
      },
    ],
  })
})

describe('4. the path names the branch or the nested position', () => {
  const blockedAt = (run: (p: AnyClient) => Promise<unknown>) =>
    runWithTenant(T1, () => run(db.prisma)).then(
      () => expect.fail('let through'),
      (e: { code: string; path: string; violation: string }) => {
        expect(e.code).toBe('TENANT_CONTEXT_REQUIRED')
        const line = db.violations().at(-1)
        expect(line?.path, 'the log line names the same place').toBe(e.path)
        return `${e.violation} at ${e.path}`
      },
    )

  type Run = (p: AnyClient) => Promise<unknown>
  const cases: Array<[string, Run, string]> = [
    [
      'the OR branch that pins nothing',
      (p) => p.user.findMany({ where: { OR: [{ tenantId: 1 }, { email: 'x' }] } }),
      'missing_tenant_id at where.OR[1]',
    ],
    [
      'a branch through the scoping relation',
      (p) => p.refreshToken.findMany({ where: { user: { OR: [{ tenantId: 1 }, { isActive: true }] } } }),
      'missing_relation_filter at where.user.OR[1]',
    ],
    [
      'the AND conjunct that tries to pin',
      (p) => p.refreshToken.findMany({ where: { AND: [{ tokenHash: 'h1' }, { user: { email: 'alice@acme.test' } }] } }),
      'missing_relation_filter at where.AND[1].user',
    ],
    [
      'the AND conjunct that names another tenant',
      (p) => p.refreshToken.findMany({ where: { user: { tenantId: 1 }, AND: [{ user: { tenantId: 2 } }] } }),
      'tenant_mismatch at where.AND[0].user',
    ],
    [
      'a relation filter from a global parent, inside NOT',
      (p) => p.permission.findMany({ where: { NOT: [{ rolePermissions: { some: { roleId: 2 } } }] } }),
      'unscoped_relation_filter at where.NOT[0].rolePermissions.some',
    ],
    [
      'the third row of a nested create',
      (p) => p.user.update({ where: user1, data: { userRoles: { create: [{ roleId: 3 }, { roleId: 1 }, { roleId: 2 }] } } }),
      'tenant_mismatch at data.userRoles.create[2].roleId',
    ],
    [
      'a key changed by arithmetic, nested',
      (p) =>
        p.tenant.update({
          where: { id: 1 },
          data: { users: { update: { where: { id: 1 }, data: { id: { increment: 2 } } } } },
        }),
      'unverified_reference at data.users.update.data.id',
    ],
    [
      'the row of a createMany',
      (p) => p.auditLog.createMany({ data: [{ tenantId: 1, action: 'a' }, { tenantId: 2, action: 'b' }] }),
      'tenant_mismatch at data[1].tenantId',
    ],
  ]
  it.each(cases)('%s', async (_name, run, expected) => {
    expect(await blockedAt(run)).toBe(expected)
  })
})

describe('log_only: the same shapes are logged with their path and run as Prisma runs them', () => {
  beforeEach(() => setFlags({ TENANT_ENFORCEMENT_MODE: 'log_only' }))
  type Run = (p: AnyClient) => Promise<unknown>
  const cases: Array<[string, Run, Record<string, string>]> = [
    [
      'a key changed by arithmetic',
      (p) => p.user.update({ where: user1, data: { id: { increment: 100 } } }),
      { violation: UNVERIFIED, path: 'data.id', model: 'User' },
    ],
    [
      'a connect to a key no row holds',
      (p) => p.user.update({ where: user1, data: { securityAlerts: { connect: { id: 99 } } } }),
      { violation: UNVERIFIED, path: 'data.securityAlerts.connect', model: 'SecurityAlert' },
    ],
    [
      'an OR branch that pins nothing',
      (p) => p.user.findMany({ where: { OR: [{ tenantId: 1 }, { email: 'carol@globex.test' }] } }),
      { violation: 'missing_tenant_id', path: 'where.OR[1]', model: 'User' },
    ],
  ]
  it.each(cases)('%s', async (_name, run, line) => {
    const settle = (p: AnyClient) =>
      runWithTenant(T1, () => run(p)).then(
        (v) => ({ v }),
        (e: { code?: string }) => ({ e: e.code }),
      )
    const fenced = await settle(db.prisma)
    expect(db.violations()).toMatchObject([{ ...line, decision: 'logged' }])
    await db.reset()
    expect(fenced).toEqual(await settle(db.base))
  })
})
