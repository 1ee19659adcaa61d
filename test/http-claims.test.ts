// The user and tenant claims are required and type-checked (issue 10 item 12), and the tenant can
// come from where the app keeps it (resolveTenant, with a membership check): Express, on a real
// Prisma client with tenantfence in enforce.
import express from 'express'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getTenantContext } from '../src/enforcement/context.ts'
import { requestMetrics, tenantContext, tenantErrorHandler, type ResolvedTenant, type TenantContextOptions } from '../src/http/index.ts'
import { fencedDatabase } from './helpers/fence.ts'
import { ALICE, requestSeries, SECRET, token } from './helpers/http-adapters.ts'

let db: Awaited<ReturnType<typeof fencedDatabase>>
beforeAll(async () => {
  db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce', TENANT_ENFORCEMENT_ALLOW_BYPASS: 'true' })
})
afterAll(() => db.close())

function app(options: Partial<TenantContextOptions> = {}) {
  const a = express()
  a.use(requestMetrics({ registry: db.registry }))
  a.use(tenantContext({ secret: SECRET, idType: 'number', ...options }))
  a.get('/whoami', (_req, res) => {
    const c = getTenantContext()!
    res.json({ tenantId: c.tenantId, userId: c.userId, userIdType: typeof c.userId })
  })
  a.get('/teams/:team/users', async (req, res) => {
    const { tenantId } = getTenantContext()!
    res.json((await db.prisma.user.findMany({ where: { tenantId: Number(tenantId) }, orderBy: { id: 'asc' } })).map((u) => u.id))
  })
  a.get('/levels', (_req, res) => {
    const c = getTenantContext()!
    res.json({ tenantId: c.tenantId ?? null, tenantIds: c.tenantIds, scope: c.scope ?? null })
  })
  a.use(tenantErrorHandler())
  return a
}
const get = async (a: express.Express, path: string, t: string) => request(a).get(path).set('Authorization', `Bearer ${t}`)

describe('claims', () => {
  it('401 missing_claim for a token without `sub`: never a context with userId undefined', async () => {
    const res = await get(app(), '/whoami', await token({ tenantId: 1 }))
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ error: 'UNAUTHENTICATED', reason: 'missing_claim' })
  })

  it('401 invalid_claim for a user or tenant claim that cannot be an id (object, float, non-numeric with idType number, empty)', async () => {
    const a = app()
    for (const [claims, sub] of [[{ tenantId: 1 }, 'seven'], [{ tenantId: 1 }, ''], [{ tenantId: 1.5 }, '1'], [{ tenantId: { id: 1 } }, '1'], [{ tenantId: 'one' }, '1'], [{ tenantId: '' }, '1']] as const) {
      const res = await get(a, '/whoami', await token(claims, sub))
      expect([JSON.stringify(claims), sub, res.status, res.body.reason]).toEqual([JSON.stringify(claims), sub, 401, 'invalid_claim'])
    }
    expect((await get(a, '/whoami', await token({}, '1'))).body.reason).toBe('missing_claim')
  })

  it('types each claim on its own: numeric tenants with UUID users', async () => {
    const a = app({ idType: { tenantId: 'number', userId: 'string' } })
    const res = await get(a, '/whoami', await token({ tenantId: '2' }, '6f1c9a52-0d1e-4c39-9a0b-1f5c2a7e9b11'))
    expect(res.body).toEqual({ tenantId: 2, userId: '6f1c9a52-0d1e-4c39-9a0b-1f5c2a7e9b11', userIdType: 'string' })
    expect(() => tenantContext({ secret: SECRET, idType: { userId: 'uuid' as 'string' } })).toThrow('idType.userId is "uuid"; valid: number, string, none')
  })
})

describe('resolveTenant', () => {
  // The app keeps the tenant in the URL; membership is the user's row in that tenant. The lookup
  // pins the requested tenant, so it passes enforce with no context and no bypass.
  const byUrl = (): Partial<TenantContextOptions> => ({
    resolveTenant: async (req, claims) => {
      const team = Number(/^\/teams\/(\d+)\//.exec(req.path)?.[1])
      const member = await db.prisma.user.findFirst({ where: { id: Number(claims.userId), tenantId: team } })
      return member ? team : null
    },
  })

  it('a member gets the tenant named by the URL, without a tenant claim in the token', async () => {
    const res = await get(app(byUrl()), '/teams/1/users', await token({}, String(ALICE.id)))
    expect(res.status).toBe(200)
    expect(res.body).toEqual([1, 2])
  })

  it('403 TENANT_FORBIDDEN for a tenant the user is not a member of, labelled with its route', async () => {
    const res = await get(app(byUrl()), '/teams/2/users', await token({ tenantId: 1 }, String(ALICE.id)))
    expect(res.status).toBe(403)
    expect(res.body).toEqual({ error: 'TENANT_FORBIDDEN' })
    expect(await requestSeries(db.registry)).toContain('/teams/:team/users 403')
  })

  it('a resolveTenant that breaks its contract is a 500 naming nothing to the client', async () => {
    const res = await get(app({ resolveTenant: () => 1.5 }), '/whoami', await token({}, '1'))
    expect(res.status).toBe(500)
    expect(res.body).toEqual({ error: 'INTERNAL_ERROR' })
  })

  it('two levels: resolveTenant returns one id per level and a scope, validated as runWithTenant validates them', async () => {
    const t = await token({}, '1')
    const org = await get(app({ resolveTenant: () => ({ tenantIds: { organization: 1 }, scope: 'organization' }) }), '/levels', t)
    expect([org.status, org.body]).toEqual([200, { tenantId: null, tenantIds: { organization: 1 }, scope: 'organization' }])
    const team = await get(app({ resolveTenant: () => ({ tenantIds: { organization: 1, team: 'b' } }) }), '/levels', t)
    expect(team.body).toEqual({ tenantId: null, tenantIds: { organization: 1, team: 'b' }, scope: null })
    for (const bad of [{ tenantIds: { organization: -1 } }, { tenantIds: {} }, { tenantIds: { team: 1 }, scope: 'organization' }] as ResolvedTenant[]) {
      const res = await get(app({ resolveTenant: () => bad }), '/levels', t)
      expect([JSON.stringify(bad), res.status, res.body]).toEqual([JSON.stringify(bad), 500, { error: 'INTERNAL_ERROR' }])
    }
  })

  it('an unscoped membership lookup is blocked in enforce, and passes through resolveTenantBypass, audited', async () => {
    const listMemberships: TenantContextOptions['resolveTenant'] = async (req, claims) => {
      const rows = await db.prisma.user.findMany({ where: { id: Number(claims.userId) } }) // every tenant: not pinned
      const team = Number(req.headers['x-team'])
      return rows.some((r) => r.tenantId === team) ? team : null
    }
    const t = await token({}, String(ALICE.id))
    const blocked = await request(app({ resolveTenant: listMemberships })).get('/whoami').set('Authorization', `Bearer ${t}`).set('X-Team', '1')
    expect([blocked.status, blocked.body]).toEqual([403, { error: 'TENANT_CONTEXT_REQUIRED', model: 'User' }])

    const before = await db.counter('tenant_bypass_usage_total')
    const a = app({ resolveTenant: listMemberships, resolveTenantBypass: { reason: 'tenant_resolution' } })
    const ok = await request(a).get('/whoami').set('Authorization', `Bearer ${t}`).set('X-Team', '1')
    expect([ok.status, ok.body]).toEqual([200, { tenantId: 1, userId: 1, userIdType: 'number' }])
    expect(await db.counter('tenant_bypass_usage_total')).toBe(before + 1)
    expect(db.lines.filter((l) => l.msg === 'TENANT_BYPASS').at(-1)).toMatchObject({ reason: 'tenant_resolution', actor: 'user:1' })
  })
})
