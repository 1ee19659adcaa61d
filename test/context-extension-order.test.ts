// Where a query's check happens: in the order Prisma runs query extensions, and in the context
// where the query is first awaited (Prisma's queries are lazy). Both on a real client.
import { afterEach, describe, expect, it } from 'vitest'
import { Prisma } from '../src/demo/generated/prisma/client.ts'
import { runWithTenant, TenantExtensionOrderError } from '../src/index.ts'
import { fencedDatabase } from './helpers/fence.ts'

let db: Awaited<ReturnType<typeof fencedDatabase>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

type Hook = (p: { args: unknown; query: (a: unknown) => Promise<unknown> }) => Promise<unknown>
const tracer = (name: string, trace: string[]) => ({
  name,
  query: {
    $allOperations: (async ({ args, query }) => {
      trace.push(`${name}:in`)
      const r = await query(args)
      trace.push(`${name}:out`)
      return r
    }) as Hook,
  },
})
/** An extension that rewrites the tenant of a user.findMany: what a buggy "default scope" extension might do. */
const retarget = (tenantId: number) => ({
  name: 'retarget',
  query: { user: { findMany: (({ args, query }) => query({ ...(args as object), where: { tenantId } })) as Hook } },
})
const orderWarnings = () => db!.lines.filter((l) => String(l.msg).startsWith('TENANT_EXTENSION_ORDER'))

describe('Prisma runs query extensions in the order they were added', () => {
  it('the first added runs first and passes its arguments to the next (pinned: tenantfence must be the last $extends)', async () => {
    db = await fencedDatabase({})
    const trace: string[] = []
    const client = db.base.$extends(tracer('A', trace)).$extends(tracer('B', trace)).$extends(tracer('C', trace))
    await client.user.findMany()
    expect(trace).toEqual(['A:in', 'B:in', 'C:in', 'C:out', 'B:out', 'A:out'])
  })

  it('an extension added after tenantfence changes what was already checked: the leak it opens, and the warning', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const after = db.prisma.$extends(retarget(2))
    // tenantfence checked `tenantId: 1` for tenant 1 and let it through; the later extension then asked for tenant 2.
    const rows = await runWithTenant({ tenantId: 1 }, () => after.user.findMany({ where: { tenantId: 1 } }))
    expect(rows.map((u) => u.tenantId)).toEqual([2])
    expect(orderWarnings()).toEqual([expect.objectContaining({ level: 40, extension: 'retarget' })])
    expect(String(orderWarnings()[0]!.msg)).toContain('tenantfence must be the last $extends')
  })

  it('the same extension added before tenantfence is checked as it rewrote the query: blocked, no warning', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const before = db.base.$extends(retarget(2)).$extends(db.fence)
    await expect(runWithTenant({ tenantId: 1 }, () => before.user.findMany({ where: { tenantId: 1 } }))).rejects.toMatchObject({ violation: 'tenant_mismatch' })
    expect(orderWarnings()).toEqual([])
  })

  it('extensions that cannot change arguments (result, model, client) pass silently; one given as a function is seen', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const client = db.prisma
      .$extends({ name: 'fullName', result: { user: { label: { needs: { email: true }, compute: (u) => `<${u.email}>` } } } })
      .$extends({ name: 'helpers', model: { user: { byTenant: (tenantId: number) => tenantId } } })
    expect(orderWarnings()).toEqual([])
    client.$extends(Prisma.defineExtension((c) => c.$extends({ name: 'audit-trail', query: { $allOperations: ({ args, query }) => query(args) } })))
    expect(orderWarnings().map((l) => l.extension)).toEqual(['audit-trail'])
    const users = await runWithTenant({ tenantId: 2 }, () => client.user.findMany({ where: { tenantId: 2 } }))
    expect(users.map((u) => u.label)).toEqual(['<carol@globex.test>'])
  })

  it('hardened mode refuses a query extension added after tenantfence', async () => {
    db = await fencedDatabase({}, { hardened: true })
    expect(() => db!.prisma.$extends(retarget(2))).toThrow(TenantExtensionOrderError)
    expect(() => db!.prisma.$extends(retarget(2))).toThrow(/TENANT_EXTENSION_ORDER: the query extension "retarget" was added after tenantfence/)
    expect(() => db!.prisma.$extends({ name: 'helpers', model: { user: { hi: () => 'hi' } } })).not.toThrow()
  })
})

describe('a query is checked where it is first awaited', () => {
  it('built inside runWithTenant but awaited outside: it runs with no request tenant (the "outside any context" rule)', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    let otherTenant: Promise<Array<{ tenantId: number }>> | undefined
    let unscoped: Promise<unknown> | undefined
    await runWithTenant({ tenantId: 1 }, () => {
      // Not returned, not awaited: Prisma has not run them yet.
      otherTenant = db!.prisma.user.findMany({ where: { tenantId: 2 } })
      unscoped = db!.prisma.user.findMany()
    })
    // Outside any context a query that names exactly one tenant is allowed, whatever tenant built it.
    expect((await otherTenant!).map((u) => u.tenantId)).toEqual([2])
    await expect(unscoped).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED', violation: 'missing_tenant_id' })
    expect(db.violations()[0]).toMatchObject({ tenantId: null })
    // Awaited inside, the first query is what it is: another tenant's rows.
    await expect(runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany({ where: { tenantId: 2 } }))).rejects.toMatchObject({ violation: 'tenant_mismatch' })
  })

  it('built outside and awaited inside runWithTenant: checked as that tenant', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const query = db.prisma.user.findMany({ where: { tenantId: 2 } })
    await expect(runWithTenant({ tenantId: 1 }, () => query)).rejects.toMatchObject({ violation: 'tenant_mismatch' })
  })
})
