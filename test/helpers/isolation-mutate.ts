// Near misses for the fuzz test: scoped queries of tenant 1 (nested writes at depth, foreign keys,
// relation filters from a global parent, cursors, _count) with one or two random twists: an id or a
// tenant changed, a key dropped or set to undefined, a quantifier swapped, a filter widened by an OR.
// Random generation alone seldom reaches a cross-tenant key three levels down; a twist of a scoped
// shape does, and the database says whether the twist leaks.
import { FUTURE } from './isolation-db.ts'
import type { GenQuery, Rng } from './isolation-gen.ts'

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

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number; value: unknown }
const SWAPS: Record<string, readonly string[]> = {
  some: ['every', 'none'],
  none: ['every', 'some'],
  every: ['some'],
  is: ['isNot'],
  isNot: ['is'],
}

function slots(root: unknown): Slot[] {
  const out: Slot[] = []
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (out.push({ parent: v, key: i, value: x }), walk(x)))
    else if (v && typeof v === 'object' && !(v instanceof Date))
      for (const [k, x] of Object.entries(v))
        (out.push({ parent: v as Record<string, unknown>, key: k, value: x }), walk(x))
  }
  walk(root)
  return out
}

/** A copy of a template with one or two twists (none, now and then: the scoped shape itself must pass). */
export function mutate(g: Rng, template: GenQuery): GenQuery {
  const args = structuredClone(template.args)
  const r = g.next()
  const twists = r < 0.1 ? 0 : r < 0.7 ? 1 : 2
  for (let i = 0; i < twists; i++) twist(g, args)
  return { ...template, args }
}

function twist(g: Rng, root: Record<string, unknown>): void {
  const all = slots(root)
  // ids and tenants are where leaks hide: they are twisted more often than the shape around them
  const numbers = all.filter((s) => typeof s.value === 'number')
  const slot = numbers.length && g.chance(0.55) ? g.pick(numbers) : g.pick(all)
  if (!slot) return
  const { parent, key, value } = slot
  const set = (v: unknown) => ((parent as Record<string | number, unknown>)[key] = v)
  if (typeof value === 'number')
    return void set(key === 'tenantId' ? g.pick([2, 3, 1]) : g.pick([1, 2, 3, 4, 5, 6, 7, 99]))
  const swaps = typeof key === 'string' ? SWAPS[key] : undefined
  if (swaps && !Array.isArray(parent) && g.chance(0.6)) {
    delete parent[key as string]
    parent[g.pick(swaps)] = value
    return
  }
  const r = g.next()
  if (r < 0.4 && !Array.isArray(parent)) delete parent[key as string]
  else if (r < 0.6) set(undefined)
  else if (r < 0.85 && value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date))
    set({ OR: [value, { id: g.pick([3, 4, 6]) }] })
  else set({})
}
