// The demo schema (prisma/schema.prisma) as the isolation tests see it: which rows belong to which
// tenant, and how models link. Written by hand from the schema, not read from tenantfence: the tests
// judge the extension, so they must not borrow its reading of the data model.

export type Scope =
  | { kind: 'field' } // its own tenantId column
  | { kind: 'via'; relation: string } // the row its relation points at
  | { kind: 'tenant' } // the tenant model: its id is the tenant
  | { kind: 'global' } // nobody's

export interface Relation {
  name: string
  model: string
  list: boolean
  /** nullable to-one (can be disconnected, set to null, compared to null) */
  optional: boolean
  /** the foreign-key scalar on this side, when this side holds it */
  fk?: string
}

export interface ModelInfo {
  name: string
  /** Prisma client property (user, refreshToken, ...) */
  prop: string
  scope: Scope
  /** scalars a filter or an update may use, with a few values each (shared across tenants on purpose) */
  strings: Record<string, readonly string[]>
  booleans: readonly string[]
  relations: readonly Relation[]
  /** compound unique inputs: name and fields */
  uniques: ReadonlyArray<{ name: string; fields: readonly string[] }>
}

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
  },
}

export const MODEL_NAMES = Object.keys(MODELS)

export function model(name: string): ModelInfo {
  const m = MODELS[name]
  if (!m) throw new Error(`unknown model ${name}; models are ${MODEL_NAMES.join(', ')}`)
  return m
}

/** The relation of `from` named `name` (throws on a typo, so a wrong test cannot pass quietly). */
export function relation(from: string, name: string): Relation {
  const r = model(from).relations.find((x) => x.name === name)
  if (!r) throw new Error(`${from} has no relation ${name}`)
  return r
}
