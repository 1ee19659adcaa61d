// Realistic query shapes for the pure-core measurements (inspect + decide), as an app on the
// demo schema writes them. `typical` marks the scoped shapes a healthy app sends all day; the
// others are the violations log_only exists to find.
export interface Shape {
  name: string
  model: string
  operation: string
  args: unknown
  /** a scoped query of everyday code (the 2 µs p99 target is about these) */
  typical: boolean
}

export const TENANT = 1

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ tenantId: TENANT, userId: i, action: `login ${i}` }))

export const CORPUS: readonly Shape[] = [
  { name: 'findMany scoped', model: 'User', operation: 'findMany', args: { where: { tenantId: TENANT, isActive: true }, orderBy: { id: 'asc' }, take: 20 }, typical: true },
  { name: 'findUnique compound key', model: 'User', operation: 'findUnique', args: { where: { tenantId_email: { tenantId: TENANT, email: 'ada@example.com' } } }, typical: true },
  { name: 'findFirst { in: [t] }', model: 'Role', operation: 'findFirst', args: { where: { tenantId: { in: [TENANT] }, name: 'admin' } }, typical: true },
  { name: 'relation-scoped', model: 'RefreshToken', operation: 'findMany', args: { where: { user: { tenantId: TENANT }, expiresAt: { gt: new Date(0) } } }, typical: true },
  { name: 'relation-scoped { is }', model: 'UserRole', operation: 'findMany', args: { where: { user: { is: { tenantId: TENANT } }, roleId: 3 } }, typical: true },
  { name: 'AND + OR', model: 'User', operation: 'findMany', args: { where: { AND: [{ tenantId: TENANT }, { OR: [{ email: { contains: 'ada' } }, { isActive: false }] }] } }, typical: true },
  { name: 'OR, every branch scoped', model: 'AuditLog', operation: 'findMany', args: { where: { OR: [{ tenantId: TENANT, action: 'login' }, { tenantId: TENANT, userId: 7 }] } }, typical: true },
  {
    name: 'include nesting (3 levels)',
    model: 'User',
    operation: 'findMany',
    args: { where: { tenantId: TENANT }, include: { refreshTokens: true, userRoles: { include: { role: { include: { rolePermissions: { include: { permission: true } } } } } } } },
    typical: true,
  },
  { name: 'tenant include users', model: 'Tenant', operation: 'findUnique', args: { where: { id: TENANT }, include: { users: { include: { mfaBackupCodes: true } } } }, typical: true },
  { name: 'count scoped', model: 'SecurityAlert', operation: 'count', args: { where: { tenantId: TENANT, kind: 'login' } }, typical: true },
  { name: 'create', model: 'User', operation: 'create', args: { data: { tenantId: TENANT, email: 'new@example.com' } }, typical: true },
  { name: 'create nested relation', model: 'RefreshToken', operation: 'create', args: { data: { tokenHash: 'h', expiresAt: new Date(0), user: { connect: { id: 5, tenantId: TENANT } } } }, typical: true },
  { name: 'createMany (20 rows)', model: 'AuditLog', operation: 'createMany', args: { data: rows(20) }, typical: true },
  { name: 'update scoped', model: 'User', operation: 'update', args: { where: { id: 5, tenantId: TENANT }, data: { isActive: false } }, typical: true },
  { name: 'deleteMany relation-scoped', model: 'PasswordResetToken', operation: 'deleteMany', args: { where: { user: { tenantId: TENANT }, expiresAt: { lt: new Date(0) } } }, typical: true },
  { name: 'global model', model: 'Permission', operation: 'findMany', args: { where: { key: { startsWith: 'user.' } } }, typical: true },
  // Violations
  { name: 'unscoped findMany', model: 'User', operation: 'findMany', args: { where: { email: 'ada@example.com' } }, typical: false },
  { name: 'unscoped OR branch', model: 'User', operation: 'findMany', args: { where: { OR: [{ tenantId: TENANT }, { email: 'ada@example.com' }] } }, typical: false },
  { name: 'tenantId: { not }', model: 'Role', operation: 'findMany', args: { where: { tenantId: { not: 2 } } }, typical: false },
  { name: 'relation, no filter', model: 'RefreshToken', operation: 'findMany', args: {}, typical: false },
  { name: 'unscoped nested read', model: 'Tenant', operation: 'findMany', args: { include: { users: true } }, typical: false },
  { name: 'tenant mismatch', model: 'User', operation: 'findMany', args: { where: { tenantId: 2 } }, typical: false },
  { name: 'createMany one row unscoped', model: 'AuditLog', operation: 'createMany', args: { data: [...rows(19), { action: 'x' }] }, typical: false },
]
