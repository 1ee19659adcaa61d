// The hook's shallow pass (src/enforcement/shallow.ts): a read of a model that is not tenant-owned
// goes through without the flags or inspect() only when no key of its arguments names a relation
// where inspect() would follow one. Each `true` case is checked against inspect() itself.
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { envFlagSource, type FlagSourceContext } from '../src/config/flag-source.ts'
import { runWithTenant } from '../src/enforcement/context.ts'
import { compilePolicy, inspect, parseSchema } from '../src/index.ts'
import { readReachesNoRelation } from '../src/enforcement/shallow.ts'
import config from '../tenantfence.config.ts'
import { fencedDatabase } from './helpers/fence.ts'

const policy = compilePolicy(config, parseSchema(readFileSync('prisma/schema.prisma', 'utf8')))
const permission = policy.models.get('Permission')!

describe('readReachesNoRelation', () => {
  it('the demo\'s global model reaches tenant data (so it is inspected at all)', () => {
    expect(permission.guarded).toBe(false)
    expect(permission.reachesTenantData).toBe(true)
  })

  it.each([
    ['no arguments', 'findMany', undefined],
    ['empty arguments', 'findMany', {}],
    ['a scalar filter', 'findMany', { where: { id: { lte: 10 } } }],
    ['findUnique by a unique scalar with a scalar select', 'findUnique', { where: { key: 'a' }, select: { id: true, key: true } }],
    ['ordering by scalars, object and list', 'findMany', { orderBy: [{ key: 'asc' }, { id: 'desc' }], take: 5, skip: 1, distinct: ['key'] }],
    ['count with _all', 'count', { where: { key: 'a' }, select: { _all: true } }],
    ['groupBy with having', 'groupBy', { by: ['key'], having: { id: { _count: { gt: 1 } } }, _count: { id: true } }],
    ['aggregate', 'aggregate', { _max: { id: true }, where: { id: { gt: 0 } } }],
  ])('%s: passes, and inspect() agrees', (_name, operation, args) => {
    expect(readReachesNoRelation(permission, operation, args)).toBe(true)
    expect(inspect(policy, 'Permission', operation, args, 1)).toBeNull()
    expect(inspect(policy, 'Permission', operation, args, undefined)).toBeNull()
  })

  it.each([
    ['include of a relation', 'findMany', { include: { rolePermissions: true } }],
    ['select of a relation', 'findUnique', { where: { id: 1 }, select: { key: true, rolePermissions: { select: { roleId: true } } } }],
    ['select of _count', 'findMany', { select: { _count: { select: { rolePermissions: true } } } }],
    ['include of _count', 'findMany', { include: { _count: true } }],
    ['a relation filter', 'findMany', { where: { rolePermissions: { some: { role: { tenantId: 2 } } } } }],
    ['a relation filter inside OR', 'findMany', { where: { OR: [{ key: 'a' }, { rolePermissions: { some: {} } }] } }],
    ['AND', 'findMany', { where: { AND: [{ key: 'a' }] } }],
    ['NOT', 'findFirst', { where: { NOT: { key: 'a' } } }],
    ['a relation filter in the cursor', 'findMany', { cursor: { id: 1, rolePermissions: { some: {} } } }],
    ['ordering by a relation', 'findMany', { orderBy: { rolePermissions: { _count: 'desc' } } }],
    ['ordering by a relation in a list', 'findMany', { orderBy: [{ key: 'asc' }, { rolePermissions: { _count: 'desc' } }] }],
    ['a key this file does not know', 'findMany', { where: { key: 'a' }, somethingNew: { rolePermissions: true } }],
    ['a where that is not an object', 'findMany', { where: [{ key: 'a' }] }],
    ['arguments that are not an object', 'findMany', 'findMany'],
    ['a delete (it cascades to tenant-owned rows)', 'deleteMany', { where: { key: 'a' } }],
    ['an update', 'update', { where: { id: 1 }, data: { key: 'b' } }],
    ['a create', 'create', { data: { key: 'b' } }],
    ['an upsert', 'upsert', { where: { id: 1 }, create: { key: 'b' }, update: {} }],
    ['a raw model operation', 'findRaw', {}],
    ['an operation it does not know', 'findManyAndDance', {}],
  ])('%s: gets the full check', (_name, operation, args) => {
    expect(readReachesNoRelation(permission, operation, args)).toBe(false)
  })

  it('a tenant-owned model always gets the full check', () => {
    expect(readReachesNoRelation(policy.models.get('User')!, 'findMany', { where: { id: 1 } })).toBe(false)
    expect(readReachesNoRelation(policy.models.get('RolePermission')!, 'findMany', {})).toBe(false)
  })
})

describe('the hook', () => {
  let db: Awaited<ReturnType<typeof fencedDatabase>> | undefined
  afterEach(async () => {
    await db?.close()
    db = undefined
  })

  it('lets a global read that names no relation through without reading the flags, and checks one that does', async () => {
    let reads = 0
    const source = (ctx: FlagSourceContext) => {
      const env = envFlagSource(ctx.models, ctx.hooks)
      return { current: (aspect?: Parameters<typeof env.current>[0]) => (reads++, env.current(aspect)), close: () => env.close() }
    }
    db = await fencedDatabase({ TENANT_ENFORCEMENT_ENABLED: 'true', TENANT_ENFORCEMENT_MODE: 'enforce' }, { flags: { source } })
    const prisma = db.prisma
    const asTenant1 = <T>(fn: () => Promise<T>) => runWithTenant({ tenantId: 1, userId: 1, endpoint: '/api/test', method: 'GET' }, fn)
    const before = reads
    expect(await asTenant1(() => prisma.permission.findMany({ where: { id: { gt: 0 } }, orderBy: { key: 'asc' } }))).toHaveLength(2)
    expect(reads).toBe(before)
    // counted as a check all the same (0 s)
    expect(await db.counter('tenant_middleware_duration_seconds')).toBeGreaterThan(0)
    await expect(asTenant1(() => prisma.permission.findMany({ include: { rolePermissions: true } }))).rejects.toThrow(/RolePermission/)
    expect(reads).toBeGreaterThan(before)
    expect(db.violations().map((v) => v.model)).toEqual(['RolePermission'])
  })
})
