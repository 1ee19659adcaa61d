// Where the check hooks into Prisma (src/enforcement/request-path.ts): the client's own request path
// when Prisma's internals are what tenantfence expects (pinned here on this Prisma version; the
// Prisma 6 run, npm run test:prisma6, runs this file too), a query extension otherwise.
import { afterEach, describe, expect, it } from 'vitest'
import { runWithTenant } from '../src/index.ts'
import { fencedDatabase } from './helpers/fence.ts'

let db: Awaited<ReturnType<typeof fencedDatabase>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const ENFORCE = { TENANT_ENFORCEMENT_MODE: 'enforce' }
type Hook = (p: { args: unknown; query: (a: unknown) => Promise<unknown> }) => Promise<unknown>
const fallbacks = () => db!.lines.filter((l) => String(l.msg).startsWith('TENANT_HOOK_FALLBACK'))
const extensionsOf = (client: unknown) => (client as { _extensions: { isEmpty(): boolean } })._extensions

describe('the request path (Prisma internals, checked at start-up)', () => {
  it('is taken on this Prisma version, leaves the extension list as it was, and checks every kind of query', async () => {
    db = await fencedDatabase(ENFORCE)
    expect(db.fence.hookPath()).toBe('request')
    // no extension added: Prisma skips the result walk and the argument clone of an extended client
    expect(extensionsOf(db.prisma).isEmpty()).toBe(true)
    expect(fallbacks()).toEqual([])
    const p = db.prisma
    const as1 = <T>(fn: () => PromiseLike<T>) => runWithTenant({ tenantId: 1 }, fn)
    expect((await as1(() => p.user.findMany({ where: { tenantId: 1 } }))).map((u) => u.id)).toEqual([1, 2])
    await expect(as1(() => p.user.findMany())).rejects.toMatchObject({ violation: 'missing_tenant_id' })
    await expect(as1(() => p.tenant.findUnique({ where: { id: 2 } }).users())).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    await expect(as1(() => p.$transaction([p.user.count({ where: { tenantId: 1 } }), p.user.count()]))).rejects.toMatchObject({ violation: 'missing_tenant_id' })
    await expect(as1(() => p.$transaction(async (tx) => tx.user.count()))).rejects.toMatchObject({ violation: 'missing_tenant_id' })
    expect(await as1(() => p.$transaction(async (tx) => tx.user.count({ where: { tenantId: 1 } })))).toBe(2)
    await expect(as1(() => p.$queryRawUnsafe('SELECT 1'))).rejects.toMatchObject({ violation: 'raw_query' })
  })

  it('clients extended from tenantfence\'s keep the check (and the extension-order warning)', async () => {
    db = await fencedDatabase(ENFORCE)
    const later = db.prisma
      .$extends({ name: 'label', result: { user: { label: { needs: { email: true }, compute: (u) => `<${u.email}>` } } } })
      .$extends({ name: 'late', query: { $allOperations: (({ args, query }) => query(args)) as Hook } })
    expect(db.lines.filter((l) => String(l.msg).startsWith('TENANT_EXTENSION_ORDER')).map((l) => l.extension)).toEqual(['late'])
    await expect(runWithTenant({ tenantId: 1 }, () => later.user.findMany())).rejects.toMatchObject({ violation: 'missing_tenant_id' })
    const users = await runWithTenant({ tenantId: 2 }, () => later.user.findMany({ where: { tenantId: 2 } }))
    expect(users.map((u) => u.label)).toEqual(['<carol@globex.test>'])
    expect(await runWithTenant({ tenantId: 2 }, () => later.$transaction(async (tx) => tx.user.count({ where: { tenantId: 2 } })))).toBe(1)
  })

  it('after an extension with a query component: a query extension, so that what it hands on is checked (no warning)', async () => {
    db = await fencedDatabase(ENFORCE)
    // a "default scope" extension added first: tenantfence must see its tenant filter
    const scoped = db.base.$extends({ name: 'scope', query: { user: { findMany: (({ args, query }) => query({ ...(args as object), where: { tenantId: 1 } })) as Hook } } })
    const fenced = scoped.$extends(db.fence)
    expect(db.fence.hookPath()).toBe('query extension')
    expect(fallbacks()).toEqual([])
    expect((await runWithTenant({ tenantId: 1 }, () => fenced.user.findMany())).map((u) => u.id)).toEqual([1, 2])
  })

  it('internals that are not what it expects: the query extension, with a warning, and every query still checked', async () => {
    db = await fencedDatabase(ENFORCE)
    // a client that hides one of the internals the request path needs
    const odd = new Proxy(db.base, { get: (t, prop, r) => (prop === '_createPrismaPromise' ? undefined : Reflect.get(t, prop, r)) })
    const fenced = odd.$extends(db.fence)
    expect(db.fence.hookPath()).toBe('query extension')
    expect(fallbacks()).toEqual([expect.objectContaining({ level: 40, reason: expect.stringContaining('_createPrismaPromise') })])
    await expect(runWithTenant({ tenantId: 1 }, () => fenced.user.findMany())).rejects.toMatchObject({ violation: 'missing_tenant_id' })
    expect(await runWithTenant({ tenantId: 1 }, () => fenced.user.count({ where: { tenantId: 1 } }))).toBe(2)
  })

  it('a bad hook option is refused, naming the valid ones', async () => {
    await expect(fencedDatabase(ENFORCE, { hook: 'query_extension' as never })).rejects.toThrow(/hook is "query_extension"; valid: 'request', 'query-extension'/)
  })

  it('hook: \'query-extension\' asks for the query extension', async () => {
    db = await fencedDatabase(ENFORCE, { hook: 'query-extension' })
    expect(db.fence.hookPath()).toBe('query extension')
    expect(extensionsOf(db.prisma).isEmpty()).toBe(false)
    expect(fallbacks()).toEqual([])
    await expect(runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany())).rejects.toMatchObject({ violation: 'missing_tenant_id' })
  })
})
