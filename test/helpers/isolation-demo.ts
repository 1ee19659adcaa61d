// The demo schema (prisma/schema.prisma) as the isolation tests see it (round 1): three tenants whose
// rows interleave by id and share attribute values (the same email in two tenants, an `admin` role in
// each), so that an unscoped filter matches other tenants' rows and a leak shows in the rows a query
// returns. Everything here is written by hand from the schema; helpers/isolation-schema.ts says why.
import { openDatabase } from '../../src/demo/db.ts'
import type { GenQuery } from './isolation-gen.ts'
import type { IsolationSchema, ModelInfo, Row } from './isolation-schema.ts'

const EMAILS = ['alice@acme.test', 'bob@acme.test', 'carol@globex.test', 'dave@acme.test', 'erin@initech.test'] as const

export const MODELS: Record<string, ModelInfo> = {
  Tenant: {
    name: 'Tenant',
    prop: 'tenant',
    scope: { kind: 'tenant' },
    strings: { name: ['Acme', 'Globex', 'Initech'] },
    booleans: [],
    relations: [{ name: 'users', model: 'User', list: true, optional: false }],
    uniques: [],
  },
  User: {
    name: 'User',
    prop: 'user',
    scope: { kind: 'field' },
    strings: { email: EMAILS },
    booleans: ['isActive'],
    relations: [
      { name: 'tenant', model: 'Tenant', list: false, optional: false, fk: 'tenantId' },
      { name: 'refreshTokens', model: 'RefreshToken', list: true, optional: false },
      { name: 'passwordResetTokens', model: 'PasswordResetToken', list: true, optional: false },
      { name: 'mfaBackupCodes', model: 'MfaBackupCode', list: true, optional: false },
      { name: 'userRoles', model: 'UserRole', list: true, optional: false },
      { name: 'securityAlerts', model: 'SecurityAlert', list: true, optional: false },
    ],
    uniques: [{ name: 'tenantId_email', fields: ['tenantId', 'email'] }],
    fresh: ['email'],
  },
  Role: {
    name: 'Role',
    prop: 'role',
    scope: { kind: 'field' },
    strings: { name: ['admin', 'member'] },
    booleans: ['isActive'],
    relations: [
      { name: 'userRoles', model: 'UserRole', list: true, optional: false },
      { name: 'rolePermissions', model: 'RolePermission', list: true, optional: false },
    ],
    uniques: [],
  },
  AuditLog: {
    name: 'AuditLog',
    prop: 'auditLog',
    scope: { kind: 'field' },
    strings: { action: ['login', 'role_view'] },
    booleans: [],
    relations: [],
    uniques: [],
  },
  SecurityAlert: {
    name: 'SecurityAlert',
    prop: 'securityAlert',
    scope: { kind: 'field' },
    strings: { kind: ['mfa', 'new_device_login'] },
    booleans: [],
    relations: [{ name: 'user', model: 'User', list: false, optional: true, fk: 'userId' }],
    uniques: [],
  },
  RefreshToken: {
    name: 'RefreshToken',
    prop: 'refreshToken',
    scope: { kind: 'via', relation: 'user' },
    strings: { tokenHash: ['h1', 'h3'] },
    booleans: [],
    relations: [{ name: 'user', model: 'User', list: false, optional: false, fk: 'userId' }],
    uniques: [],
  },
  PasswordResetToken: {
    name: 'PasswordResetToken',
    prop: 'passwordResetToken',
    scope: { kind: 'via', relation: 'user' },
    strings: { tokenHash: ['p1', 'p3'] },
    booleans: [],
    relations: [{ name: 'user', model: 'User', list: false, optional: false, fk: 'userId' }],
    uniques: [],
  },
  MfaBackupCode: {
    name: 'MfaBackupCode',
    prop: 'mfaBackupCode',
    scope: { kind: 'via', relation: 'user' },
    strings: { codeHash: ['c1', 'c3'] },
    booleans: [],
    relations: [{ name: 'user', model: 'User', list: false, optional: false, fk: 'userId' }],
    uniques: [],
  },
  UserRole: {
    name: 'UserRole',
    prop: 'userRole',
    scope: { kind: 'via', relation: 'user' },
    strings: {},
    booleans: [],
    relations: [
      { name: 'user', model: 'User', list: false, optional: false, fk: 'userId' },
      { name: 'role', model: 'Role', list: false, optional: false, fk: 'roleId' },
    ],
    uniques: [{ name: 'userId_roleId', fields: ['userId', 'roleId'] }],
  },
  RolePermission: {
    name: 'RolePermission',
    prop: 'rolePermission',
    scope: { kind: 'via', relation: 'role' },
    strings: {},
    booleans: [],
    relations: [
      { name: 'role', model: 'Role', list: false, optional: false, fk: 'roleId' },
      { name: 'permission', model: 'Permission', list: false, optional: false, fk: 'permissionId' },
    ],
    uniques: [{ name: 'roleId_permissionId', fields: ['roleId', 'permissionId'] }],
  },
  Permission: {
    name: 'Permission',
    prop: 'permission',
    scope: { kind: 'global' },
    strings: { key: ['users.read', 'users.write', 'roles.read'] },
    booleans: [],
    relations: [{ name: 'rolePermissions', model: 'RolePermission', list: true, optional: false }],
    uniques: [{ name: 'key', fields: ['key'] }],
    fresh: ['key'],
  },
}

/** The request of every test: tenant 1, user 1. */
export const T1 = { tenantId: 1, userId: 1, endpoint: '/api/isolation', method: 'POST' } as const
export const FUTURE = new Date('2099-01-01T00:00:00.000Z')
export const PAST = new Date('2026-01-01T00:00:00.000Z')

/** The seed, by model. Tenant of each row in a comment: 1 is the request's, 2 and 3 are others. */
export const SEED = {
  Tenant: [
    { id: 1, name: 'Acme' },
    { id: 2, name: 'Globex' },
    { id: 3, name: 'Initech' },
  ],
  Permission: [
    { id: 1, key: 'users.read' },
    { id: 2, key: 'users.write' },
    { id: 3, key: 'roles.read' }, // linked to tenant 2's admin role only
  ],
  User: [
    { id: 1, tenantId: 1, email: 'alice@acme.test', isActive: true },
    { id: 2, tenantId: 1, email: 'bob@acme.test', isActive: true },
    { id: 3, tenantId: 2, email: 'carol@globex.test', isActive: true },
    { id: 4, tenantId: 2, email: 'alice@acme.test', isActive: true }, // same email as user 1
    { id: 5, tenantId: 1, email: 'dave@acme.test', isActive: false },
    { id: 6, tenantId: 3, email: 'erin@initech.test', isActive: true },
    { id: 7, tenantId: 2, email: 'bob@acme.test', isActive: false },
  ],
  Role: [
    { id: 1, tenantId: 1, name: 'admin', isActive: true },
    { id: 2, tenantId: 2, name: 'admin', isActive: true },
    { id: 3, tenantId: 1, name: 'member', isActive: true },
    { id: 4, tenantId: 2, name: 'member', isActive: true },
    { id: 5, tenantId: 3, name: 'admin', isActive: true },
  ],
  UserRole: [
    { id: 1, userId: 1, roleId: 1 },
    { id: 2, userId: 3, roleId: 2 },
    { id: 3, userId: 2, roleId: 3 },
    { id: 4, userId: 4, roleId: 4 },
    { id: 5, userId: 6, roleId: 5 },
    { id: 6, userId: 7, roleId: 2 },
  ],
  RolePermission: [
    { id: 1, roleId: 1, permissionId: 1 },
    { id: 2, roleId: 2, permissionId: 1 },
    { id: 3, roleId: 1, permissionId: 2 },
    { id: 4, roleId: 2, permissionId: 3 },
    { id: 5, roleId: 5, permissionId: 2 },
    { id: 6, roleId: 3, permissionId: 1 },
  ],
  RefreshToken: [
    { id: 1, userId: 1, tokenHash: 'h1', expiresAt: FUTURE },
    { id: 2, userId: 3, tokenHash: 'h3', expiresAt: FUTURE },
    { id: 3, userId: 2, tokenHash: 'h1', expiresAt: FUTURE },
    { id: 4, userId: 4, tokenHash: 'h3', expiresAt: FUTURE },
    { id: 5, userId: 6, tokenHash: 'h1', expiresAt: FUTURE },
  ],
  PasswordResetToken: [
    { id: 1, userId: 1, tokenHash: 'p1', expiresAt: FUTURE },
    { id: 2, userId: 3, tokenHash: 'p3', expiresAt: FUTURE },
    { id: 3, userId: 4, tokenHash: 'p1', expiresAt: FUTURE },
  ],
  MfaBackupCode: [
    { id: 1, userId: 1, codeHash: 'c1', usedAt: null },
    { id: 2, userId: 3, codeHash: 'c3', usedAt: null },
    { id: 3, userId: 5, codeHash: 'c1', usedAt: null },
    { id: 4, userId: 7, codeHash: 'c3', usedAt: null },
  ],
  AuditLog: [
    { id: 1, tenantId: 1, userId: 1, action: 'login', createdAt: PAST },
    { id: 2, tenantId: 2, userId: 3, action: 'login', createdAt: PAST },
    { id: 3, tenantId: 1, userId: 2, action: 'role_view', createdAt: PAST },
    { id: 4, tenantId: 3, userId: 6, action: 'login', createdAt: PAST },
  ],
  SecurityAlert: [
    { id: 1, tenantId: 1, userId: null, kind: 'mfa', createdAt: PAST },
    { id: 2, tenantId: 2, userId: null, kind: 'mfa', createdAt: PAST },
    { id: 3, tenantId: 1, userId: 2, kind: 'new_device_login', createdAt: PAST },
    { id: 4, tenantId: 2, userId: 4, kind: 'new_device_login', createdAt: PAST },
    { id: 5, tenantId: 3, userId: 6, kind: 'mfa', createdAt: PAST },
  ],
} as const satisfies Record<string, ReadonlyArray<Record<string, unknown>>>

/** Models in an order that satisfies foreign keys when inserting (reverse it to delete). */
export const INSERT_ORDER = [
  'Tenant',
  'Permission',
  'User',
  'Role',
  'UserRole',
  'RolePermission',
  'RefreshToken',
  'PasswordResetToken',
  'MfaBackupCode',
  'AuditLog',
  'SecurityAlert',
] as const

/** Scoped queries of tenant 1 (users 1, 2, 5; roles 1, 3; alerts 1, 3; tokens 1, 3). */
export const TEMPLATES: readonly GenQuery[] = [
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 1, tenantId: 1 }, data: { userRoles: { create: { roleId: 3 } } } },
  },
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 2, tenantId: 1 }, data: { securityAlerts: { create: { tenantId: 1, kind: 'k' } } } },
  },
  {
    model: 'Tenant',
    op: 'update',
    args: {
      where: { id: 1 },
      data: {
        users: {
          create: {
            email: 'deep@acme.test',
            userRoles: { create: { roleId: 3 } },
            refreshTokens: { create: { tokenHash: 't', expiresAt: FUTURE } },
          },
        },
      },
    },
  },
  {
    model: 'Tenant',
    op: 'update',
    args: {
      where: { id: 1 },
      data: {
        users: {
          update: { where: { id: 2 }, data: { securityAlerts: { updateMany: { where: {}, data: { kind: 'seen' } } } } },
        },
      },
    },
  },
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 1, tenantId: 1 }, data: { userRoles: { createMany: { data: [{ roleId: 3 }] } } } },
  },
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 1, tenantId: 1 }, data: { securityAlerts: { connect: { id: 1 } } } },
  },
  {
    model: 'User',
    op: 'update',
    args: {
      where: { id: 1, tenantId: 1 },
      data: { securityAlerts: { connectOrCreate: { where: { id: 1 }, create: { tenantId: 1, kind: 'c' } } } },
    },
  },
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 2, tenantId: 1 }, data: { securityAlerts: { set: [{ id: 1, tenantId: 1 }] } } },
  },
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 2, tenantId: 1 }, data: { securityAlerts: { disconnect: { id: 3 } } } },
  },
  {
    model: 'User',
    op: 'update',
    args: {
      where: { id: 2, tenantId: 1 },
      data: { userRoles: { upsert: { where: { id: 3 }, create: { roleId: 3 }, update: { roleId: 1 } } } },
    },
  },
  {
    model: 'User',
    op: 'update',
    args: {
      where: { id: 2, tenantId: 1 },
      data: { userRoles: { update: { where: { id: 3 }, data: { role: { connect: { id: 1 } } } } } },
    },
  },
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 1, tenantId: 1 }, data: { refreshTokens: { deleteMany: { tokenHash: 'h1' } } } },
  },
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 1, tenantId: 1 }, data: { mfaBackupCodes: { delete: { id: 1 } } } },
  },
  {
    model: 'Permission',
    op: 'update',
    args: { where: { id: 3 }, data: { rolePermissions: { create: { roleId: 3 } } } },
  },
  {
    model: 'Permission',
    op: 'update',
    args: { where: { id: 1 }, data: { rolePermissions: { delete: { id: 1, role: { tenantId: 1 } } } } },
  },
  { model: 'UserRole', op: 'create', args: { data: { userId: 2, roleId: 1 } } },
  {
    model: 'UserRole',
    op: 'create',
    args: { data: { user: { connect: { id: 5, tenantId: 1 } }, role: { connect: { id: 3, tenantId: 1 } } } },
  },
  { model: 'UserRole', op: 'update', args: { where: { id: 1, user: { tenantId: 1 } }, data: { roleId: 3 } } },
  { model: 'SecurityAlert', op: 'update', args: { where: { id: 3, tenantId: 1 }, data: { userId: 1 } } },
  { model: 'SecurityAlert', op: 'updateMany', args: { where: { tenantId: 1 }, data: { userId: 2 } } },
  { model: 'SecurityAlert', op: 'create', args: { data: { tenantId: 1, kind: 'x', user: { connect: { id: 1 } } } } },
  {
    model: 'SecurityAlert',
    op: 'upsert',
    args: { where: { id: 3, tenantId: 1 }, create: { tenantId: 1, kind: 'u', userId: 1 }, update: { userId: 5 } },
  },
  {
    model: 'SecurityAlert',
    op: 'update',
    args: { where: { id: 3, tenantId: 1 }, data: { user: { update: { isActive: false } } } },
  },
  { model: 'RefreshToken', op: 'create', args: { data: { userId: 2, tokenHash: 'x', expiresAt: FUTURE } } },
  {
    model: 'MfaBackupCode',
    op: 'createMany',
    args: {
      data: [
        { userId: 1, codeHash: 'a' },
        { userId: 5, codeHash: 'b' },
      ],
    },
  },
  {
    model: 'RefreshToken',
    op: 'create',
    args: {
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
    },
  },
  { model: 'User', op: 'create', args: { data: { email: 'm@acme.test', tenant: { connect: { id: 1 } } } } },
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 1, tenantId: 1 }, data: { tenant: { connect: { id: 1 }, update: { name: 'A' } } } },
  },
  {
    model: 'User',
    op: 'upsert',
    args: {
      where: { tenantId_email: { tenantId: 1, email: 'alice@acme.test' } },
      create: { tenantId: 1, email: 'alice@acme.test' },
      update: { isActive: false, userRoles: { create: { roleId: 3 } } },
    },
  },
  {
    model: 'Tenant',
    op: 'update',
    args: { where: { id: 1 }, data: { users: { updateMany: { where: {}, data: { isActive: false } } } } },
  },
  { model: 'User', op: 'deleteMany', args: { where: { tenantId: 1, email: 'dave@acme.test' } } },
  { model: 'Permission', op: 'findMany', args: { where: { rolePermissions: { some: { role: { tenantId: 1 } } } } } },
  { model: 'Permission', op: 'count', args: { where: { rolePermissions: { none: { role: { tenantId: 1 } } } } } },
  {
    model: 'Permission',
    op: 'findMany',
    args: { select: { id: true, _count: { select: { rolePermissions: { where: { role: { tenantId: 1 } } } } } } },
  },
  {
    model: 'Permission',
    op: 'findMany',
    args: {
      include: {
        rolePermissions: {
          where: { role: { tenantId: 1 } },
          include: { role: { include: { userRoles: { include: { user: true } } } } },
        },
      },
    },
  },
  {
    model: 'Tenant',
    op: 'findUnique',
    args: { where: { id: 1 }, include: { users: { where: { isActive: true }, include: { securityAlerts: true } } } },
  },
  { model: 'Tenant', op: 'findMany', args: { where: { id: 1, users: { some: { email: 'alice@acme.test' } } } } },
  { model: 'User', op: 'findMany', args: { where: { tenantId: 1 }, cursor: { id: 2, tenantId: 1 }, take: 2 } },
  {
    model: 'Tenant',
    op: 'findUnique',
    args: { where: { id: 1 }, include: { users: { cursor: { id: 2, tenantId: 1 }, take: 1 } } },
  },
  { model: 'RefreshToken', op: 'findMany', args: { where: { user: { is: undefined, tenantId: 1 } } } },
  {
    model: 'Role',
    op: 'findMany',
    args: {
      where: { tenantId: 1 },
      include: { userRoles: { include: { user: { include: { refreshTokens: true } } } } },
    },
  },
  {
    model: 'SecurityAlert',
    op: 'findMany',
    args: { where: { tenantId: 1 }, include: { user: true }, orderBy: { user: { email: 'asc' } } },
  },
  {
    model: 'User',
    op: 'findMany',
    args: {
      where: { tenantId: 1, userRoles: { some: { role: { name: 'admin' } } } },
      orderBy: { userRoles: { _count: 'desc' } },
    },
  },
  { model: 'UserRole', op: 'findMany', args: { where: { user: { tenantId: 1 } }, include: { role: true } } },
  {
    model: 'User',
    op: 'count',
    args: { where: { AND: [{ tenantId: 1 }, { OR: [{ email: 'alice@acme.test' }, { isActive: false }] }] } },
  },
  {
    model: 'Role',
    op: 'groupBy',
    args: { by: ['name'], where: { tenantId: 1 }, _count: { _all: true }, orderBy: { name: 'asc' } },
  },
]

/** Delete every row of the other tenants (foreign keys cascade from users and roles). */
function deleteOthers(tenant: string): string[] {
  return [
    `DELETE FROM "SecurityAlert" WHERE "tenantId" <> ${tenant}`,
    `DELETE FROM "AuditLog" WHERE "tenantId" <> ${tenant}`,
    `DELETE FROM "User" WHERE "tenantId" <> ${tenant}`,
    `DELETE FROM "Role" WHERE "tenantId" <> ${tenant}`,
    `DELETE FROM "Tenant" WHERE "id" <> ${tenant}`,
  ]
}

/** Change every attribute of the other tenants' rows that a filter could test. */
function alterOthers(tenant: string): string[] {
  const theirUsers = `(SELECT "id" FROM "User" WHERE "tenantId" <> ${tenant})`
  return [
    `UPDATE "User" SET "email" = 'zz-' || "email", "isActive" = NOT "isActive" WHERE "tenantId" <> ${tenant}`,
    `UPDATE "Role" SET "name" = 'zz-' || "name", "isActive" = NOT "isActive" WHERE "tenantId" <> ${tenant}`,
    `UPDATE "AuditLog" SET "action" = 'zz-' || "action", "userId" = NULL WHERE "tenantId" <> ${tenant}`,
    `UPDATE "SecurityAlert" SET "kind" = 'zz-' || "kind" WHERE "tenantId" <> ${tenant}`,
    `UPDATE "Tenant" SET "name" = 'zz-' || "name" WHERE "id" <> ${tenant}`,
    `UPDATE "RefreshToken" SET "tokenHash" = 'zz-' || "tokenHash" WHERE "userId" IN ${theirUsers}`,
    `UPDATE "PasswordResetToken" SET "tokenHash" = 'zz-' || "tokenHash" WHERE "userId" IN ${theirUsers}`,
    `UPDATE "MfaBackupCode" SET "codeHash" = 'zz-' || "codeHash", "usedAt" = 0 WHERE "userId" IN ${theirUsers}`,
  ]
}

/** The demo's schema description: round 1's tests and fuzz run on it. */
export const DEMO: IsolationSchema = {
  name: 'the demo schema',
  models: MODELS,
  tenantField: 'tenantId',
  request: T1,
  others: [2, 3],
  seed: SEED as unknown as Record<string, readonly Row[]>,
  insertOrder: INSERT_ORDER,
  linkTables: [],
  linkSeed: {},
  volatile: ['createdAt'],
  deleteOthers,
  alterOthers,
  open: openDatabase,
  gen: {
    newScalars(m, g, fresh) {
      switch (m) {
        case 'Tenant':
          return { id: g.pick([1, 2, 10 + g.int(50)]), name: fresh('T') }
        case 'User':
          return { email: g.chance(0.15) ? g.pick(MODELS.User!.strings.email!) : `${fresh('u')}@new.test` }
        case 'Role':
          return { name: g.pick(['admin', 'member', 'viewer']) }
        case 'AuditLog':
          return { action: g.pick(['login', 'export']) }
        case 'SecurityAlert':
          return { kind: g.pick(['mfa', 'new_device_login']) }
        case 'RefreshToken':
        case 'PasswordResetToken':
          return { tokenHash: fresh('h'), expiresAt: FUTURE }
        case 'MfaBackupCode':
          return { codeHash: fresh('c') }
        case 'Permission':
          return { key: g.chance(0.1) ? 'users.read' : fresh('perm.') }
        default:
          return {}
      }
    },
    newTenant: (id, fresh) => ({ id, name: fresh('T') }),
    tenantUpdates: [1, 2, { set: 1 }, { set: 2 }, { increment: 1 }],
    missingId: 99,
    idBound: (n) => n,
    widenIds: [3, 4, 6],
    // models with several tenant-owned relations (or none of their own scope) come up more often
    weightedModels: [
      ...Object.keys(MODELS),
      'User',
      'User',
      'Tenant',
      'Role',
      'UserRole',
      'SecurityAlert',
      'Permission',
    ],
    templates: TEMPLATES,
    twistable: (_key, value) => typeof value === 'number',
    twist: (key, _value, g) => (key === 'tenantId' ? g.pick([2, 3, 1]) : g.pick([1, 2, 3, 4, 5, 6, 7, 99])),
  },
}
