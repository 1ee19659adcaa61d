// The Express pieces on their own: tokens (missing, invalid, expired, another tenant), JWKS,
// public paths, the context a handler sees, route templates under a router, error mapping.
import express from 'express'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { Registry } from 'prom-client'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getTenantContext } from '../src/enforcement/context.ts'
import { TenantContextRequiredError } from '../src/enforcement/errors.ts'
import { metricsHandler, requestMetrics, routeTemplate, tenantContext, tenantErrorHandler, type TenantContextOptions } from '../src/http/index.ts'
import { createDemo, memoryLogger, type Demo } from '../src/demo/harness.ts'
import { DEMO_USERS } from '../src/demo/fixture.ts'
import { signDemoToken } from '../src/demo/tokens.ts'

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long'
const user = { id: 7, tenantId: 3 }
const sign = (o: { ttlSeconds?: number; tenantId?: unknown; secret?: string } = {}) => signDemoToken(user, { secret: SECRET, ...o })

function app(auth: Partial<TenantContextOptions> = {}, registry = new Registry()) {
  const a = express()
  const logs = memoryLogger()
  a.use(requestMetrics({ registry }))
  a.get('/metrics', metricsHandler(registry))
  a.use(tenantContext({ secret: SECRET, idType: 'number', publicPaths: ['/healthz', '/public/*'], ...auth }))
  a.get('/healthz', (_req, res) => void res.json({ context: getTenantContext() ?? null }))
  a.get('/public/info', (_req, res) => void res.json({ context: getTenantContext() ?? null }))
  a.get('/whoami', async (_req, res) => {
    await new Promise((r) => setTimeout(r, 5)) // the context survives awaits
    const c = getTenantContext()!
    res.json({ tenantId: c.tenantId, userId: c.userId, method: c.method, endpoint: typeof c.endpoint === 'function' ? c.endpoint() : c.endpoint })
  })
  const router = express.Router()
  router.get('/things/:id', async () => {
    await Promise.resolve()
    throw new TenantContextRequiredError('Role', 'findMany', 'missing_tenant_id')
  })
  router.get('/boom/:id', () => {
    throw new Error('SQLITE_ERROR: no such table secret_internal_table')
  })
  router.get('/endpoint/:id', (req, res) => void res.json({ endpoint: (getTenantContext()!.endpoint as () => string)(), template: routeTemplate(req) }))
  a.use('/api/v2', router)
  a.use(tenantErrorHandler({ logger: logs.logger }))
  return { app: a, registry, logs }
}

describe('tokens', () => {
  const { app: a } = app()
  it('401 missing_token without a bearer token', async () => {
    const res = await request(a).get('/whoami')
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ error: 'UNAUTHENTICATED', reason: 'missing_token' })
    expect(res.headers['www-authenticate']).toBe('Bearer')
    expect((await request(a).get('/whoami').set('Authorization', 'Basic abc')).status).toBe(401)
  })
  it('401 invalid_token for garbage, a wrong signature or alg none', async () => {
    for (const t of ['not.a.jwt', await sign({ secret: 'another-secret-that-is-also-32-bytes-long!' }), 'eyJhbGciOiJub25lIn0.eyJ0ZW5hbnRJZCI6Mywic3ViIjoiNyJ9.']) {
      const res = await request(a).get('/whoami').set('Authorization', `Bearer ${t}`)
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ error: 'UNAUTHENTICATED', reason: 'invalid_token' })
    }
  })
  it('401 token_expired for an expired token', async () => {
    // beyond the default 60 s of clock skew
    const res = await request(a).get('/whoami').set('Authorization', `Bearer ${await sign({ ttlSeconds: -90 })}`)
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ error: 'UNAUTHENTICATED', reason: 'token_expired' })
  })
  it('401 missing_claim when the token names no tenant', async () => {
    const t = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('7').setExpirationTime('1h').sign(new TextEncoder().encode(SECRET))
    expect((await request(a).get('/whoami').set('Authorization', `Bearer ${t}`)).body).toEqual({ error: 'UNAUTHENTICATED', reason: 'missing_claim' })
  })
  it('403 TENANT_MISMATCH when the tenant header names another tenant; the same tenant passes', async () => {
    const t = await sign()
    const other = await request(a).get('/whoami').set('Authorization', `Bearer ${t}`).set('X-Tenant-Id', '4')
    expect(other.status).toBe(403)
    expect(other.body).toEqual({ error: 'TENANT_MISMATCH' })
    expect((await request(a).get('/whoami').set('Authorization', `Bearer ${t}`).set('X-Tenant-Id', '3')).status).toBe(200)
  })
  it('a valid token runs the handler inside the tenant context, across awaits', async () => {
    const res = await request(a).get('/whoami').set('Authorization', `Bearer ${await sign()}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ tenantId: 3, userId: 7, method: 'GET', endpoint: '/whoami' })
  })
  it('public paths need no token and get no context', async () => {
    expect((await request(a).get('/healthz')).body).toEqual({ context: null })
    expect((await request(a).get('/public/info')).body).toEqual({ context: null })
    expect((await request(a).get('/healthz').set('Authorization', `Bearer ${await sign()}`)).body).toEqual({ context: null })
  })
  it('refuses to start without a key or with a short HS256 secret', () => {
    expect(() => tenantContext({})).toThrow(/exactly one of/)
    expect(() => tenantContext({ secret: 'short' })).toThrow(/32 bytes/)
  })
})

describe('JWKS', () => {
  it('verifies RS256 tokens against a local key set, with custom claim names', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256')
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
    const { app: a } = app({ secret: undefined, jwks: { keys: [jwk] }, claims: { tenantId: 'org.id', userId: 'uid' } })
    const t = await new SignJWT({ org: { id: '12' }, uid: 99 }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('1h').sign(privateKey)
    const res = await request(a).get('/whoami').set('Authorization', `Bearer ${t}`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ tenantId: 12, userId: 99 })
    // an HS256 token signed with the public key's bytes must not pass (algorithm confusion)
    const forged = await new SignJWT({ tenantId: 1 }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(JSON.stringify(jwk)))
    expect((await request(a).get('/whoami').set('Authorization', `Bearer ${forged}`)).status).toBe(401)
  })
})

describe('routes under a router and errors', () => {
  it('the endpoint is the route template (baseUrl + route path), never the raw path', async () => {
    const { app: a } = app()
    const res = await request(a).get('/api/v2/endpoint/42').set('Authorization', `Bearer ${await sign()}`)
    expect(res.body).toEqual({ endpoint: '/api/v2/endpoint/:id', template: '/api/v2/endpoint/:id' })
  })
  it('maps TenantContextRequiredError to 403 with only the code and model, labelled with the full template', async () => {
    const { app: a, registry } = app()
    const res = await request(a).get('/api/v2/things/5').set('Authorization', `Bearer ${await sign()}`)
    expect(res.status).toBe(403)
    expect(res.body).toEqual({ error: 'TENANT_CONTEXT_REQUIRED', model: 'Role' })
    const text = await registry.metrics()
    expect(text).toContain('http_requests_total{method="GET",route="/api/v2/things/:id",status="403"} 1')
  })
  it('maps other errors to 500 without internals, and logs them server side by type and app frames, never the message', async () => {
    const { app: a, logs } = app()
    const res = await request(a).get('/api/v2/boom/1').set('Authorization', `Bearer ${await sign()}`)
    expect(res.status).toBe(500)
    expect(res.body).toEqual({ error: 'INTERNAL_ERROR' })
    expect(res.text).not.toContain('secret_internal_table')
    const line = logs.lines().find((l) => l.msg === 'HTTP_UNHANDLED_ERROR')
    expect(line).toMatchObject({ err: { type: 'Error', stack: expect.stringMatching(/^at test\/http-auth\.test\.ts:\d+:\d+/) }, route: '/api/v2/boom/:id', method: 'GET' })
    expect(JSON.stringify(line)).not.toContain('secret_internal_table')
  })
  it('reuses HTTP metrics already in the registry instead of registering them twice', async () => {
    const registry = new Registry()
    app({}, registry)
    expect(() => app({}, registry)).not.toThrow()
  })
})

describe('the demo app with a JWT of each tenant', () => {
  let demo: Demo
  beforeAll(async () => {
    process.env.TENANT_ENFORCEMENT_MODE = 'enforce'
    demo = await createDemo({ logger: memoryLogger().logger })
  })
  afterAll(async () => {
    delete process.env.TENANT_ENFORCEMENT_MODE
    await demo.close()
  })
  it('each tenant sees its own audit log only', async () => {
    for (const u of DEMO_USERS.filter((x) => x.admin)) {
      const res = await request(demo.app).get('/api/audit-log').set('Authorization', `Bearer ${await signDemoToken(u)}`)
      expect(res.status).toBe(200)
      const users = new Set((res.body.entries as { userId: number }[]).map((e) => e.userId))
      for (const id of users) expect(DEMO_USERS.find((x) => x.id === id)!.tenantId).toBe(u.tenantId)
    }
  })
})
