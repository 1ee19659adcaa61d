// The Web-standard adapter: a Next.js route handler (a `(Request, ctx) => Response` function,
// called as Next calls it) and a real Hono app, on a real Prisma client with tenantfence in
// enforce. Context in async handlers, refusals labelled with their route, resolveTenant, 403 on a
// blocked query.
import { Hono } from 'hono'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getTenantContext } from '../src/enforcement/context.ts'
import { honoTenantContext, webTenantContext, withTenant } from '../src/web/index.ts'
import { fencedDatabase } from './helpers/fence.ts'
import { ALICE, CAROL, requestSeries, SECRET, token } from './helpers/http-adapters.ts'

let db: Awaited<ReturnType<typeof fencedDatabase>>
beforeAll(async () => {
  db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' })
})
afterAll(() => db.close())

const bearer = async (claims: Record<string, unknown>, sub?: string) => ({ authorization: `Bearer ${await token(claims, sub)}` })

describe('Next.js route handlers (withTenant)', () => {
  const registry = new Registry()
  const guard = webTenantContext({ secret: SECRET, idType: 'number', registry })
  // app/api/users/[id]/route.ts
  const GET = withTenant(guard, '/api/users/[id]', async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
    const { id } = await ctx.params
    await new Promise((r) => setTimeout(r, 2))
    const { tenantId } = getTenantContext()!
    return Response.json(await db.prisma.user.findFirst({ where: { id: Number(id), tenantId: Number(tenantId) } }))
  })
  const LIST = withTenant(guard, '/api/users', async () => Response.json(await db.prisma.user.findMany()))
  const call = async (handler: typeof GET, id: string, headers: Record<string, string> = {}) => handler(new Request(`http://app.test/api/users/${id}`, { headers }), { params: Promise.resolve({ id }) })

  it('runs the handler as the token tenant', async () => {
    const res = await call(GET, String(ALICE.id), await bearer({ tenantId: 1 }, '1'))
    expect([res.status, ((await res.json()) as { email: string }).email]).toEqual([200, 'alice@acme.test'])
    expect(await (await call(GET, String(CAROL.id), await bearer({ tenantId: 1 }, '1'))).json()).toBeNull()
  })

  it('refuses a missing token and a token without sub (401), labelled with the route', async () => {
    const none = await call(GET, '1')
    expect([none.status, await none.json(), none.headers.get('www-authenticate')]).toEqual([401, { error: 'UNAUTHENTICATED', reason: 'missing_token' }, 'Bearer'])
    expect(await (await call(GET, '1', await bearer({ tenantId: 1 }))).json()).toEqual({ error: 'UNAUTHENTICATED', reason: 'missing_claim' })
    expect(await requestSeries(registry)).toEqual(['/api/users/[id] 200', '/api/users/[id] 401'])
  })

  it('answers a blocked query with 403 TENANT_CONTEXT_REQUIRED; the violation names the route', async () => {
    const res = await LIST(new Request('http://app.test/api/users', { headers: await bearer({ tenantId: 2 }, '3') }))
    expect([res.status, await res.json()]).toEqual([403, { error: 'TENANT_CONTEXT_REQUIRED', model: 'User' }])
    expect(db.violations().at(-1)).toMatchObject({ model: 'User', endpoint: '/api/users', tenantId: '2', userId: '3' })
  })
})

describe('Hono (honoTenantContext)', () => {
  function app() {
    const registry = new Registry()
    const guard = webTenantContext({
      secret: SECRET,
      idType: 'number',
      registry,
      publicPaths: ['/healthz'],
      resolveTenant: async (req, claims) => {
        const team = Number(req.headers.get('x-team') ?? NaN)
        return (await db.prisma.user.findFirst({ where: { id: Number(claims.userId), tenantId: team } })) ? team : null
      },
    })
    const h = new Hono()
    h.use('*', honoTenantContext(guard))
    h.get('/healthz', (c) => c.json({ context: getTenantContext() ?? null }))
    h.get('/api/users/:id', async (c) => {
      const { tenantId } = getTenantContext()!
      return c.json(await db.prisma.user.findFirst({ where: { id: Number(c.req.param('id')), tenantId: Number(tenantId) } }))
    })
    return { h, registry }
  }

  it('a member of the team named by the header reads that team; a stranger gets 403 TENANT_FORBIDDEN', async () => {
    const { h, registry } = app()
    const member = await h.request('/api/users/3', { headers: { ...(await bearer({}, String(CAROL.id))), 'x-team': '2' } })
    expect([member.status, ((await member.json()) as { email: string }).email]).toEqual([200, 'carol@globex.test'])
    const stranger = await h.request('/api/users/3', { headers: { ...(await bearer({}, String(ALICE.id))), 'x-team': '2' } })
    expect([stranger.status, await stranger.json()]).toEqual([403, { error: 'TENANT_FORBIDDEN' }])
    expect((await h.request('/api/users/3')).status).toBe(401)
    expect(await (await h.request('/healthz')).json()).toEqual({ context: null })
    expect(await requestSeries(registry)).toEqual(['/api/users/:id 200', '/api/users/:id 401', '/api/users/:id 403', '/healthz 200'])
  })
})
