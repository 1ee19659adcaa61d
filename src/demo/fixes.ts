// The demo app's broken code paths, as a team has them on day one, and the fix of each. Fixes
// are switched on at run time (the demo "deploys" them between phases), so one process shows
// the whole rollout. The model says which fixes are urgent: CRITICAL ones before selective
// enforcement blocks them, the rest before full enforcement.
export const DEMO_FIXES = {
  'admin-users-tenant': { model: 'User', endpoint: 'GET /api/admin/users', bug: 'the admin user list filters on isActive and forgets tenantId' },
  'sessions-relation-filter': { model: 'RefreshToken', endpoint: 'GET /api/secure/sessions', bug: 'sessions are looked up by userId alone, not through user.tenantId' },
  'password-reset-by-id': { model: 'PasswordResetToken', endpoint: 'GET /api/password-resets/:id', bug: 'a reset token is looked up by id alone' },
  'audit-export-tenant': { model: 'AuditLog', endpoint: 'GET /api/admin/audit-export', bug: 'the monthly audit export reads every tenant\'s log (a rare path: nobody calls it during the log-only week)' },
  'admin-roles-tenant': { model: 'Role', endpoint: 'GET /api/admin/roles', bug: 'the admin role list forgets tenantId' },
  'user-roles-relation': { model: 'UserRole', endpoint: 'GET /api/users/:id/roles', bug: 'a user\'s roles are read by userId alone, not through user.tenantId' },
  'role-permissions-relation': { model: 'RolePermission', endpoint: 'GET /api/roles/:id/permissions', bug: 'a role\'s permissions are read by roleId alone, not through role.tenantId' },
  'alert-assignee-reference': {
    model: 'User',
    endpoint: 'PATCH /api/security-alerts/:id/assignee',
    bug: 'an alert is assigned to the user id the client sends: the where is scoped, the foreign key is not (a stale client sends another tenant\'s user)',
  },
} as const

export type DemoFix = keyof typeof DEMO_FIXES
export const ALL_FIXES = Object.keys(DEMO_FIXES) as DemoFix[]

/** The fixes of the models whose severity is one of these (from the config). */
export function fixesFor(models: Record<string, { severity: string }>, severities: readonly string[]): DemoFix[] {
  return ALL_FIXES.filter((f) => severities.includes(models[DEMO_FIXES[f].model]?.severity ?? ''))
}
