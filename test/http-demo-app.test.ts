// The demo app over HTTP in each enforcement mode: scoped endpoints answer, broken ones are
// logged (log_only) or refused with 403 (enforce), fixed ones answer, metric labels are route
// templates. Every test has its own database.
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { phaseFlags } from '../src/config/index.ts'
import { FLAG_NAMES } from '../src/config/flags.ts'
import { ALL_FIXES, DEMO_FIXES, type DemoFix } from '../src/demo/fixes.ts'
import { createDemo, demoConfig, memoryLogger, type Demo } from '../src/demo/harness.ts'
import { DEMO_ALERTS, DEMO_USERS } from '../src/demo/fixture.ts'
import { signDemoToken } from '../src/demo/tokens.ts'

const admin1 = DEMO_USERS.find((u) => u.tenantId === 1 && u.admin)!
const member1 = DEMO_USERS.find((u) => u.tenantId === 1 && !u.admin)!

function setFlags(flags: Record<string, string>) {
  for (const name of FLAG_NAMES) delete process.env[name]
  Object.assign(process.env, flags)
}
const ENFORCE = { TENANT_ENFORCEMENT_ENABLED: 'true', TENANT_ENFORCEMENT_MODE: 'enforce', TENANT_ENFORCEMENT_ALLOW_BYPASS: 'true' }
const LOG_ONLY = { TENANT_ENFORCEMENT_ENABLED: 'true', TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_MODELS: 'all', TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: '1' }

interface Call {
  method: 'GET' | 'PATCH'
  path: string
  body?: object
}
const alert1 = DEMO_ALERTS.find((a) => a.tenantId === 1)!
/** how a broken fix's endpoint is called, with ids of tenant 1 (the FK IDOR: another tenant's user in the body) */
const BROKEN: Record<DemoFix, Call> = {
  'admin-users-tenant': { method: 'GET', path: '/api/admin/users' },
  'sessions-relation-filter': { method: 'GET', path: '/api/secure/sessions' },
  'password-reset-by-id': { method: 'GET', path: `/api/password-resets/${member1.id}` },
  'audit-export-tenant': { method: 'GET', path: '/api/admin/audit-export' },
  'admin-roles-tenant': { method: 'GET', path: '/api/admin/roles' },
  'user-roles-relation': { method: 'GET', path: `/api/users/${member1.id}/roles` },
  'role-permissions-relation': { method: 'GET', path: '/api/roles/1/permissions' },
  'alert-assignee-reference': { method: 'PATCH', path: `/api/security-alerts/${alert1.id}/assignee`, body: { userId: DEMO_USERS.find((u) => u.tenantId === 2)!.id } },
}
const SCOPED = [`/api/users/${member1.id}`, '/api/roles', '/api/audit-log', '/api/security-alerts', '/api/mfa/backup-codes']

let demo: Demo
let logs: ReturnType<typeof memoryLogger>
let token: string

async function violationsTotal(labels: Record<string, string> = {}): Promise<number> {
  const m = await demo.registry.getSingleMetric('tenant_violations_total')!.get()
  return m.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0)
}

beforeEach(async () => {
  logs = memoryLogger()
  setFlags(ENFORCE)
  demo = await createDemo({ logger: logs.logger })
  token = await signDemoToken(admin1)
})
afterEach(async () => {
  await demo.close()
  setFlags({})
})

const get = (path: string, t = token) => request(demo.app).get(path).set('Authorization', `Bearer ${t}`)
const call = (c: Call, t = token) => (c.method === 'GET' ? get(c.path, t) : request(demo.app).patch(c.path).set('Authorization', `Bearer ${t}`).send(c.body))

describe('enforce', () => {
  it('answers every scoped endpoint with 200', async () => {
    for (const path of SCOPED) expect((await get(path)).status, path).toBe(200)
    const created = await request(demo.app).post('/api/audit-log').set('Authorization', `Bearer ${token}`).send({ action: 'export_viewed' })
    expect(created.status).toBe(201)
    expect(await violationsTotal()).toBe(0)
  })

  it('refuses every broken path with 403 and only the code and model', async () => {
    for (const fix of ALL_FIXES) {
      const res = await call(BROKEN[fix])
      expect(res.status, BROKEN[fix].path).toBe(403)
      expect(res.body).toEqual({ error: 'TENANT_CONTEXT_REQUIRED', model: DEMO_FIXES[fix].model })
    }
    expect(await violationsTotal({ decision: 'blocked' })).toBe(ALL_FIXES.length)
    const errors = await demo.registry.getSingleMetric('tenant_enforcement_errors_total')!.get()
    expect(errors.values.find((v) => v.labels.model === 'User' && v.value > 0)?.labels.endpoint).toBe('/api/admin/users')
    expect(errors.values.find((v) => v.labels.model === 'UserRole' && v.value > 0)?.labels.endpoint).toBe('/api/users/:id/roles')
  })

  it('answers the fixed versions with 200 and only the own tenant\'s rows', async () => {
    for (const fix of ALL_FIXES) demo.fixes.add(fix)
    // the fixed assignee path refuses another tenant's user as not found (the connect pins the tenant)
    for (const fix of ALL_FIXES) expect((await call(BROKEN[fix])).status, BROKEN[fix].path).toBe(fix === 'alert-assignee-reference' ? 404 : 200)
    const own = DEMO_USERS.find((u) => u.tenantId === 1 && u.id !== alert1.userId)!
    expect((await call({ ...BROKEN['alert-assignee-reference'], body: { userId: own.id } })).body).toEqual({ id: alert1.id, userId: own.id })
    const users = (await get('/api/admin/users')).body.users as { id: number }[]
    expect(users.map((u) => u.id).sort((a, b) => a - b)).toEqual(DEMO_USERS.filter((u) => u.tenantId === 1).map((u) => u.id))
    expect(await violationsTotal()).toBe(0)
  })

  it('gives another tenant\'s ids a 404, not their rows', async () => {
    demo.fixes.add('password-reset-by-id')
    const other = DEMO_USERS.find((u) => u.tenantId === 2)!
    expect((await get(`/api/users/${other.id}`)).status).toBe(404)
    expect((await get(`/api/password-resets/${other.id}`)).status).toBe(404)
  })
})

describe('log_only', () => {
  it('answers broken paths with 200, one TENANT_VIOLATION line and a counter increment each', async () => {
    setFlags(LOG_ONLY)
    for (const fix of ALL_FIXES) {
      const before = await violationsTotal({ model: DEMO_FIXES[fix].model, decision: 'logged' })
      logs.clear()
      const res = await call(BROKEN[fix])
      expect(res.status, BROKEN[fix].path).toBe(200)
      const lines = logs.lines().filter((l) => l.msg === 'TENANT_VIOLATION')
      expect(lines, BROKEN[fix].path).toHaveLength(1)
      expect(lines[0]).toMatchObject({ model: DEMO_FIXES[fix].model, decision: 'logged', mode: 'log_only', method: BROKEN[fix].method, tenantId: '1', userId: String(admin1.id) })
      expect(await violationsTotal({ model: DEMO_FIXES[fix].model, decision: 'logged' })).toBe(before + 1)
    }
    const line = (await (async () => {
      logs.clear()
      await call(BROKEN['user-roles-relation'])
      return logs.lines().find((l) => l.msg === 'TENANT_VIOLATION')!
    })())
    expect(line.endpoint).toBe('/api/users/:id/roles')
    expect(line.severity).toBe('HIGH')
    expect(line.violation).toBe('missing_relation_filter')
  })

  it("shows the foreign-key IDOR it logs: the alert now points at another tenant's user", async () => {
    setFlags(LOG_ONLY)
    logs.clear()
    const res = await call(BROKEN['alert-assignee-reference'])
    expect(res.body).toEqual({ id: alert1.id, userId: (BROKEN['alert-assignee-reference'].body as { userId: number }).userId })
    expect(logs.lines().find((l) => l.msg === 'TENANT_VIOLATION')).toMatchObject({ model: 'User', violation: 'tenant_mismatch', path: 'data.userId', queryTenantIds: ['2'] })
  })

  it('shows the leak it logs: the broken admin list returns every tenant\'s users', async () => {
    setFlags(LOG_ONLY)
    const res = await get('/api/admin/users')
    expect(res.status).toBe(200)
    expect(res.body.users).toHaveLength(DEMO_USERS.length)
  })
})

describe('disabled and selective', () => {
  it('disabled: broken paths answer and nothing is counted', async () => {
    setFlags(phaseFlags(demoConfig, 0))
    for (const fix of ALL_FIXES) expect((await call(BROKEN[fix])).status).toBe(200)
    expect(await violationsTotal()).toBe(0)
  })

  it('selective (phase 2): CRITICAL models blocked, the others logged', async () => {
    setFlags(phaseFlags(demoConfig, 2))
    expect((await call(BROKEN['admin-users-tenant'])).status).toBe(403)
    expect((await call(BROKEN['sessions-relation-filter'])).status).toBe(403)
    expect((await call(BROKEN['admin-roles-tenant'])).status).toBe(200)
    expect((await call(BROKEN['role-permissions-relation'])).status).toBe(200)
    expect((await call(BROKEN['alert-assignee-reference'])).status).toBe(403)
    expect(await violationsTotal({ decision: 'blocked' })).toBe(3)
    expect(await violationsTotal({ decision: 'logged' })).toBe(2)
  })

  it('hardened: blocks with the flags saying disabled', async () => {
    setFlags(phaseFlags(demoConfig, 0))
    demo.harden()
    expect((await call(BROKEN['admin-users-tenant'])).status).toBe(403)
    expect((await get(SCOPED[0]!)).status).toBe(200)
  })
})

describe('HTTP metrics', () => {
  it('counts /api/users/123 and /api/users/456 in one series labelled with the route template', async () => {
    await get('/api/users/123')
    await get('/api/users/456')
    const text = await demo.registry.metrics()
    const series = text.split('\n').filter((l) => l.startsWith('http_requests_total{'))
    expect(series).toEqual(['http_requests_total{method="GET",route="/api/users/:id",status="404"} 2'])
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/api/users/:id",status="404"} 2')
  })

  it('labels 403s of blocked queries, unmatched paths and refused tokens with bounded routes (a 401 with the route it asked for)', async () => {
    await get('/api/admin/users')
    await get('/nope/123')
    await request(demo.app).get('/api/users/9')
    const values = (await demo.registry.getSingleMetric('http_requests_total')!.get()).values.map((v) => `${v.labels.route} ${v.labels.status}`).sort()
    expect(values).toEqual(['/api/admin/users 403', '/api/users/:id 401', 'unmatched 404'])
  })

  it('serves no /metrics on the API (the demo server has a metrics listener of its own); /healthz needs no token', async () => {
    for (const path of ['/metrics', '/METRICS', '/metrics/']) expect((await request(demo.app).get(path)).status, path).toBe(401)
    expect((await request(demo.app).get('/healthz')).status).toBe(200)
  })
})
