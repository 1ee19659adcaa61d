// The Fastify adapter with real Fastify (inject runs the full request lifecycle) on a real
// Prisma client with tenantfence in enforce: context in async handlers, 401/403 refusals labelled
// with their route, resolveTenant with a membership check, blocked queries answered 403.
import Fastify, { type FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getTenantContext } from '../src/enforcement/context.ts'
import { tenantfence, type FastifyTenantOptions } from '../src/fastify/index.ts'
import { fencedDatabase } from './helpers/fence.ts'
import { ALICE, CAROL, requestSeries, SECRET, token } from './helpers/http-adapters.ts'

let db: Awaited<ReturnType<typeof fencedDatabase>>
beforeAll(async () => {
  db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' })
})
afterAll(() => db.close())

async function app(options: Partial<FastifyTenantOptions> = {}) {
  const registry = new Registry()
  const a: FastifyInstance = Fastify()
  await a.register(tenantfence, { secret: SECRET, idType: 'number', publicPaths: ['/healthz'], registry, ...options })
  a.get('/healthz', async () => ({ context: getTenantContext() ?? null }))
  a.get('/api/users/:id', async (req) => {
    await new Promise((r) => setTimeout(r, 2)) // the context survives awaits
    const { tenantId } = getTenantContext()!
    return db.prisma.user.findFirst({ where: { id: Number((req.params as { id: string }).id), tenantId: Number(tenantId) } })
  })
  a.get('/api/all-users', async () => db.prisma.user.findMany()) // the unscoped bug
  a.get('/teams/:team/whoami', async () => getTenantContext())
  a.post('/api/echo', async (req) => req.body)
  a.get('/api/boom', async () => {
    throw new Error('SQLITE_ERROR: no such table secret_internal_table')
  })
  await a.ready()
  return { a, registry }
}
const auth = async (claims: Record<string, unknown>, sub?: string) => ({ authorization: `Bearer ${await token(claims, sub)}` })

describe('Fastify adapter', () => {
  it('runs handlers as the token tenant: its own row found, another tenant\'s row not', async () => {
    const { a } = await app()
    const own = await a.inject({ url: `/api/users/${ALICE.id}`, headers: await auth({ tenantId: 1 }, '1') })
    expect([own.statusCode, own.json().email]).toEqual([200, 'alice@acme.test'])
    const other = await a.inject({ url: `/api/users/${CAROL.id}`, headers: await auth({ tenantId: 1 }, '1') })
    expect([other.statusCode, other.body]).toEqual([200, 'null'])
  })

  it('blocks an unscoped query with 403 TENANT_CONTEXT_REQUIRED; the violation names the route template', async () => {
    const { a } = await app()
    const res = await a.inject({ url: '/api/all-users', headers: await auth({ tenantId: 1 }, '1') })
    expect([res.statusCode, res.json()]).toEqual([403, { error: 'TENANT_CONTEXT_REQUIRED', model: 'User' }])
    expect(db.violations().at(-1)).toMatchObject({ model: 'User', endpoint: '/api/all-users', method: 'GET', tenantId: '1', userId: '1' })
  })

  it('answers other errors 500 without internals; client errors stay 4xx', async () => {
    const { a } = await app()
    const res = await a.inject({ url: '/api/boom', headers: await auth({ tenantId: 1 }, '1') })
    expect([res.statusCode, res.json()]).toEqual([500, { error: 'INTERNAL_ERROR' }])
    expect(res.body).not.toContain('secret_internal_table')
    const bad = await a.inject({ method: 'POST', url: '/api/echo', headers: { ...(await auth({ tenantId: 1 }, '1')), 'content-type': 'application/json' }, payload: '{nope' })
    expect(bad.statusCode).toBe(400) // a client error stays Fastify's
  })

  it('refuses missing, subless and mismatched tokens, labelled with their route; public paths get no context', async () => {
    const { a, registry } = await app()
    const none = await a.inject({ url: '/api/users/1' })
    expect([none.statusCode, none.json(), none.headers['www-authenticate']]).toEqual([401, { error: 'UNAUTHENTICATED', reason: 'missing_token' }, 'Bearer'])
    expect((await a.inject({ url: '/api/users/1', headers: await auth({ tenantId: 1 }) })).json()).toEqual({ error: 'UNAUTHENTICATED', reason: 'missing_claim' })
    const mismatch = await a.inject({ url: '/api/users/1', headers: { ...(await auth({ tenantId: 1 }, '1')), 'x-tenant-id': '2' } })
    expect([mismatch.statusCode, mismatch.json()]).toEqual([403, { error: 'TENANT_MISMATCH' }])
    expect((await a.inject({ url: '/healthz' })).json()).toEqual({ context: null })
    await a.inject({ url: '/nope' }) // no route: refused all the same (no token), labelled unmatched
    expect(await requestSeries(registry)).toEqual(['/api/users/:id 401', '/api/users/:id 403', '/healthz 200', 'unmatched 401'])
  })

  it('resolveTenant: a member gets the tenant of the URL, a non-member 403 TENANT_FORBIDDEN', async () => {
    const { a } = await app({
      resolveTenant: async (req, claims) => {
        const team = Number((req.params as { team?: string }).team)
        return (await db.prisma.user.findFirst({ where: { id: Number(claims.userId), tenantId: team } })) ? team : null
      },
    })
    const member = await a.inject({ url: '/teams/2/whoami', headers: await auth({}, String(CAROL.id)) })
    expect(member.json()).toMatchObject({ tenantId: 2, userId: 3, method: 'GET' })
    const stranger = await a.inject({ url: '/teams/2/whoami', headers: await auth({}, String(ALICE.id)) })
    expect([stranger.statusCode, stranger.json()]).toEqual([403, { error: 'TENANT_FORBIDDEN' }])
  })
})
