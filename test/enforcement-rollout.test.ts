// The rollout document's own tests, on a real Prisma client and SQLite database.
import { afterEach, describe, expect, it } from 'vitest'
import { runWithTenant } from '../src/index.ts'
import { fencedDatabase } from './helpers/fence.ts'

let db: Awaited<ReturnType<typeof fencedDatabase>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

describe('rollout document tests', () => {
  it('log_only: an unscoped query resolves, and is logged and counted', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_ENABLED: 'true', TENANT_ENFORCEMENT_MODE: 'log_only' })
    const users = await runWithTenant({ tenantId: 1, userId: 1 }, () => db!.prisma.user.findMany())
    expect(users.map((u) => u.id)).toEqual([1, 2, 3]) // log only: nothing blocked (the leak is reported, not stopped)
    expect(db.violations()).toHaveLength(1)
    expect(db.violations()[0]).toMatchObject({ model: 'User', action: 'findMany', violation: 'missing_tenant_id', decision: 'logged', severity: 'CRITICAL', tenantId: '1', userId: '1' })
    expect(await db.counter('tenant_violations_total', { model: 'User', decision: 'logged' })).toBe(1)
    expect(await db.counter('tenant_enforcement_errors_total')).toBe(0)
  })

  it('enforce: an unscoped query rejects with TENANT_CONTEXT_REQUIRED', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_ENABLED: 'true', TENANT_ENFORCEMENT_MODE: 'enforce' })
    const err = await runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany()).catch((e: unknown) => e)
    expect(err).toMatchObject({ message: 'TENANT_CONTEXT_REQUIRED: User', code: 'TENANT_CONTEXT_REQUIRED', model: 'User', action: 'findMany', violation: 'missing_tenant_id' })
    expect(await db.counter('tenant_enforcement_errors_total', { model: 'User' })).toBe(1)
    expect(await db.counter('tenant_violations_total', { decision: 'blocked' })).toBe(1)
  })

  it('enforce: a scoped query returns exactly its tenant rows', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const users = await runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany({ where: { tenantId: 1 }, orderBy: { id: 'asc' } }))
    expect(users.map((u) => u.email)).toEqual(['alice@acme.test', 'bob@acme.test'])
    expect(db.violations()).toHaveLength(0)
  })

  it('selective with ENFORCE_MODELS=User blocks user and allows role', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_ENABLED: 'true', TENANT_ENFORCEMENT_MODE: 'selective', TENANT_ENFORCEMENT_ENFORCE_MODELS: 'User' })
    await expect(runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany())).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED', model: 'User' })
    const roles = await runWithTenant({ tenantId: 1 }, () => db!.prisma.role.findMany({ orderBy: { id: 'asc' } }))
    expect(roles.map((r) => r.id)).toEqual([1, 2]) // Role is neither enforced nor logged: left alone
    expect(db.violations().map((v) => v.model)).toEqual(['User'])
  })

  it('selective logs LOG_MODELS and leaves the rest alone', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'selective', TENANT_ENFORCEMENT_ENFORCE_MODELS: 'User', TENANT_ENFORCEMENT_LOG_MODELS: 'Role' })
    await runWithTenant({ tenantId: 1 }, () => db!.prisma.role.findMany())
    await runWithTenant({ tenantId: 1 }, () => db!.prisma.auditLog.findMany())
    expect(db.violations().map((v) => [v.model, v.decision])).toEqual([['Role', 'logged']])
  })

  it('ENABLED=false is a no-op whatever MODE says', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_ENABLED: 'false', TENANT_ENFORCEMENT_MODE: 'enforce' })
    const users = await runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany())
    expect(users).toHaveLength(3)
    expect(db.violations()).toHaveLength(0)
    expect(await db.counter('tenant_middleware_duration_seconds')).toBe(0)
  })

  it('no flags at all is phase 0: disabled', async () => {
    db = await fencedDatabase({})
    expect(await db.prisma.user.count()).toBe(3)
    expect(db.violations()).toHaveLength(0)
    const mode = (await db.registry.getSingleMetric('tenant_enforcement_mode')!.get()).values.find((v) => v.value === 1)
    expect(mode?.labels.mode).toBe('disabled')
  })

  it('log_only with MODELS watches only the listed models', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_MODELS: 'Role' })
    await runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany())
    await runWithTenant({ tenantId: 1 }, () => db!.prisma.role.findMany())
    expect(db.violations().map((v) => v.model)).toEqual(['Role'])
  })
})
