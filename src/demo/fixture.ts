// The demo's data, with fixed ids, so the traffic driver (possibly in another container) knows
// which users, roles and tokens exist without reading the database.
export const DEMO_TENANTS = [
  { id: 1, name: 'Acme' },
  { id: 2, name: 'Globex' },
  { id: 3, name: 'Initech' },
] as const

export const USERS_PER_TENANT = 4
export const ROLES = ['admin', 'member'] as const
export const PERMISSIONS = ['users.read', 'users.write', 'roles.read', 'roles.write', 'audit.read', 'alerts.read'] as const

export interface DemoUser {
  id: number
  tenantId: number
  email: string
  /** the first user of each tenant is its admin */
  admin: boolean
}

/** user ids 1-4 (tenant 1), 11-14 (tenant 2), 21-24 (tenant 3) */
export const DEMO_USERS: readonly DemoUser[] = DEMO_TENANTS.flatMap((t) =>
  Array.from({ length: USERS_PER_TENANT }, (_, k) => ({ id: (t.id - 1) * 10 + k + 1, tenantId: t.id, email: `user${k + 1}@${t.name.toLowerCase()}.example`, admin: k === 0 })),
)

/** role ids 1-2, 11-12, 21-22: admin then member */
export const DEMO_ROLES = DEMO_TENANTS.flatMap((t) => ROLES.map((name, r) => ({ id: (t.id - 1) * 10 + r + 1, tenantId: t.id, name })))

/** one live password reset token per user, with the user's id */
export const DEMO_RESET_TOKENS = DEMO_USERS.map((u) => ({ id: u.id, userId: u.id, tenantId: u.tenantId }))

export const REFRESH_TOKENS_PER_USER = 2
export const MFA_CODES_PER_USER = 3

/** one security alert per non-admin user, assigned to that user; ids 1.. in DEMO_USERS order */
export const DEMO_ALERTS = DEMO_USERS.filter((u) => !u.admin).map((u, i) => ({ id: i + 1, tenantId: u.tenantId, userId: u.id }))
