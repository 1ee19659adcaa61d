// Seed the demo database: three tenants, their users, roles, permissions, tokens, audit log and
// security alerts, plus expired tokens for the nightly cleanup job. Idempotent: an already
// seeded database is left as it is.
import { randomBytes } from 'node:crypto'
import type { PrismaClient } from './generated/prisma/client.ts'
import { DEMO_ALERTS, DEMO_RESET_TOKENS, DEMO_ROLES, DEMO_TENANTS, DEMO_USERS, MFA_CODES_PER_USER, PERMISSIONS, REFRESH_TOKENS_PER_USER } from './fixture.ts'

const hash = () => randomBytes(16).toString('hex')
const HOUR = 3_600_000

/** Seed with a plain (unextended) client: seeding is not tenant traffic. */
export async function seed(prisma: PrismaClient): Promise<{ seeded: boolean }> {
  if ((await prisma.tenant.count()) > 0) return { seeded: false }
  const now = Date.now()
  await prisma.tenant.createMany({ data: DEMO_TENANTS.map((t) => ({ id: t.id, name: t.name })) })
  await prisma.permission.createMany({ data: PERMISSIONS.map((key, i) => ({ id: i + 1, key })) })
  await prisma.user.createMany({ data: DEMO_USERS.map((u) => ({ id: u.id, tenantId: u.tenantId, email: u.email })) })
  await prisma.role.createMany({ data: DEMO_ROLES.map((r) => ({ id: r.id, tenantId: r.tenantId, name: r.name })) })
  await prisma.userRole.createMany({
    data: DEMO_USERS.map((u) => ({ userId: u.id, roleId: DEMO_ROLES.find((r) => r.tenantId === u.tenantId && r.name === (u.admin ? 'admin' : 'member'))!.id })),
  })
  await prisma.rolePermission.createMany({
    data: DEMO_ROLES.flatMap((r) => (r.name === 'admin' ? PERMISSIONS.map((_, i) => i + 1) : [1, 3]).map((permissionId) => ({ roleId: r.id, permissionId }))),
  })
  await prisma.refreshToken.createMany({
    data: DEMO_USERS.flatMap((u) => [
      ...Array.from({ length: REFRESH_TOKENS_PER_USER }, () => ({ userId: u.id, tokenHash: hash(), expiresAt: new Date(now + 30 * 24 * HOUR) })),
      { userId: u.id, tokenHash: hash(), expiresAt: new Date(now - 24 * HOUR) }, // expired: the nightly job's
    ]),
  })
  await prisma.passwordResetToken.createMany({
    data: [
      ...DEMO_RESET_TOKENS.map((t) => ({ id: t.id, userId: t.userId, tokenHash: hash(), expiresAt: new Date(now + 24 * HOUR) })),
      ...DEMO_USERS.map((u) => ({ id: 1000 + u.id, userId: u.id, tokenHash: hash(), expiresAt: new Date(now - HOUR) })),
    ],
  })
  await prisma.mfaBackupCode.createMany({ data: DEMO_USERS.flatMap((u) => Array.from({ length: MFA_CODES_PER_USER }, () => ({ userId: u.id, codeHash: hash() }))) })
  await prisma.auditLog.createMany({
    data: DEMO_USERS.flatMap((u) => ['login', 'password_change', 'role_view'].map((action, i) => ({ tenantId: u.tenantId, userId: u.id, action, createdAt: new Date(now - (i + 1) * HOUR) }))),
  })
  await prisma.securityAlert.createMany({
    data: DEMO_ALERTS.map((a) => ({ id: a.id, tenantId: a.tenantId, userId: a.userId, kind: 'new_device_login' })),
  })
  return { seeded: true }
}
