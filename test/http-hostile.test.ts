// The HTTP surface and every log line under hostile input (issue 23): what an attacker sends
// (tokens, ids, paths, bodies, headers, aborts) through the Express, Fastify and Web/Hono adapters
// on a real Prisma client with tenantfence, and what comes out of it: nothing of a query's values,
// no secret, no absolute path, no raw U+2028/U+2029, no line over the cap, the same ids refused by
// every adapter and by runWithTenant, tokens bounded in time, /metrics only where it is meant to
// be, aborted requests counted 499 under their route. In-process servers on loopback, bounded loops.
import { createHmac } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { SignJWT } from 'jose'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoServer } from '../src/demo/serve.ts'
import { getTenantContext, isTenantId, runWithTenant, withoutTenantEnforcement } from '../src/enforcement/context.ts'
import { tenantfence } from '../src/fastify/index.ts'
import { metricsHandler, metricsListener, requestMetrics, tenantContext, tenantErrorHandler, type TenantContextOptions } from '../src/http/index.ts'
import { LINE_CAP, safeLine } from '../src/telemetry/safe-line.ts'
import { sanitizeArgs } from '../src/telemetry/sanitize.ts'
import { honoTenantContext, webTenantContext } from '../src/web/index.ts'
import { fencedDatabase } from './helpers/fence.ts'
import { requestSeries, SECRET } from './helpers/http-adapters.ts'
import { tempDir } from './helpers/tmp.ts'

/** A logger whose lines are kept as written (raw text: a U+2028 or an oversized line shows as it is). */
function rawLogger() {
  let text = ''
  const logger = pino({ level: 'debug', base: { app: 'hostile' } }, { write: (s: string) => void (text += s) })
  return { logger, lines: () => text.split('\n').filter(Boolean), clear: () => void (text = '') }
}

// ── what must never come out ──────────────────────────────────────────────────────────────────
const PASSWORD = 'hunter2-Pa55word'
const API_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.c2VrcmV0LXRva2Vu.sekritSignature'
const EMAIL = 'alice@example.com'
const HOME_PATH = '/home/alice/.ssh/id_rsa'
const HUGE_KEY = `huge${'k'.repeat(40_000)}`
/** Every needle that would betray a value of the hostile input. */
const NEEDLES = [PASSWORD, 'hunter2', API_TOKEN, 'sekrit', EMAIL, 'example.com', '/home/alice', 'kkkkkkkkkkkkkkkk', process.cwd()]

/** JSON bodies an attacker can send (they reach a query through `where`). */
const BODY_SHAPES: Record<string, Record<string, unknown>> = {
  'secret values under unknown fields': { password: PASSWORD, apiToken: API_TOKEN },
  'an e-mail as a key': { [EMAIL]: true },
  'a 40 kB key (over the line cap)': { [HUGE_KEY]: true },
  'e-mails as tenant ids': { tenantId: { in: [EMAIL, 'bob@example.com'] } },
  'line separators in a value (a string where a boolean goes)': { isActive: `x\u2028{"level":60,"msg":"forged"}\u2029y ${PASSWORD}` },
  'nested operators with secrets': { AND: [{ OR: [{ email: { contains: EMAIL } }, { [PASSWORD]: { equals: API_TOKEN } }] }] },
  'a long array of e-mails': { id: { in: Array.from({ length: 300 }, (_, i) => `${i}.${EMAIL}`) } },
  'an absolute path as key and value': { [HOME_PATH]: HOME_PATH, email: HOME_PATH },
}

/** Shapes only code can build (the app passes them to Prisma itself). */
function codeShapes(): Record<string, Record<string, unknown>> {
  return {
    ...BODY_SHAPES,
    'a Buffer': { email: Buffer.from(PASSWORD) },
    'a Date and a Uint8Array': { createdAt: new Date('2026-01-02T03:04:05Z'), email: new TextEncoder().encode(API_TOKEN) },
  }
}

/** Every line of tenantfence's: none carries a needle, a raw line separator, or more than the cap. */
function expectClean(lines: string[], what: string) {
  expect(lines.length, `${what}: no line was written`).toBeGreaterThan(0)
  for (const line of lines) {
    for (const needle of NEEDLES) expect(line.includes(needle), `${what}: a line carries "${needle.slice(0, 40)}": ${line.slice(0, 300)}`).toBe(false)
    expect(/[\u2028\u2029]/.test(line), `${what}: a raw line separator`).toBe(false)
    // the cap, plus pino's own fields (level, time, app, msg)
    expect(line.length, `${what}: a line of ${line.length} characters`).toBeLessThan(LINE_CAP + 512)
    JSON.parse(line) // one line, whole
  }
}

let db: Awaited<ReturnType<typeof fencedDatabase>>
const raw = rawLogger()
beforeAll(async () => {
  db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_ALLOW_BYPASS: 'true' }, { logger: raw.logger })
})
afterAll(async () => {
  delete process.env.TENANT_ENFORCEMENT_ALLOW_BYPASS
  delete process.env.TENANT_ENFORCEMENT_MODE
  await db?.close()
})

describe('log lines under hostile query arguments', () => {
  for (const mode of ['log_only', 'enforce'] as const) {
    it(`violation lines in ${mode}: every shape, nothing of its values, each line under the cap`, async () => {
      process.env.TENANT_ENFORCEMENT_MODE = mode
      for (const [name, where] of Object.entries(codeShapes())) {
        raw.clear()
        // unscoped (no tenantId pinned): a violation, logged or blocked; in log_only Prisma then refuses the arguments
        await runWithTenant({ tenantId: 1, userId: 1 }, () => db.prisma.user.findMany({ where } as never)).catch(() => undefined)
        const lines = raw.lines().filter((l) => l.includes('TENANT_VIOLATION'))
        expectClean(lines, `${mode} / ${name}`)
      }
      process.env.TENANT_ENFORCEMENT_MODE = 'log_only'
    })
  }

  it('a tenant value that is no id is redacted where the line shows it (queryArgs, queryTenantIds)', async () => {
    raw.clear()
    await runWithTenant({ tenantId: 1 }, () => db.prisma.role.findMany({ where: { tenantId: { in: [EMAIL] } } } as never)).catch(() => undefined)
    await runWithTenant({ tenantId: 1 }, () => db.prisma.role.findMany({ where: { tenantId: EMAIL } } as never)).catch(() => undefined)
    const lines = raw.lines().filter((l) => l.includes('TENANT_VIOLATION'))
    expectClean(lines, 'tenant values')
    // ids stay readable: the structure and a numeric tenant are kept
    raw.clear()
    await runWithTenant({ tenantId: 1 }, () => db.prisma.role.findMany({ where: { tenantId: 2, name: PASSWORD } }))
    const line = JSON.parse(raw.lines().find((l) => l.includes('TENANT_VIOLATION'))!) as { queryArgs: unknown; queryTenantIds?: unknown }
    expect(line.queryArgs).toEqual({ where: { tenantId: 2, name: '[redacted]' } })
  })

  it('cycles (Prisma overflows its own stack on them before the extension sees the query): cut by the sanitizer and the line', () => {
    const cycle: Record<string, unknown> = { note: PASSWORD, [EMAIL]: 1 }
    cycle.self = cycle
    cycle.list = [cycle, cycle]
    const args = sanitizeArgs({ where: { email: { contains: cycle }, AND: [cycle] } }, 'tenantId', new Set(['email', 'note', 'self', 'list']))
    const loop: Record<string, unknown> = { kind: 'loop' }
    loop.self = loop
    const line = JSON.stringify(safeLine({ queryArgs: args, loop }))
    expect(line).toContain('"self":"[cycle]"')
    for (const needle of NEEDLES) expect(line).not.toContain(needle)
  })

  it('paths: the working and home directories and other absolute paths are cut; route templates stay', () => {
    const line = JSON.stringify(safeLine({
      message: `at ${process.cwd()}/src/a.ts:1:2, file:///srv/deploy/b.js:3:4, C:\\Users\\bob\\c.ts, ${HOME_PATH}`,
      endpoint: '/home/feed/:id',
      route: '/tmp/uploads/:id',
    }))
    for (const needle of [process.cwd(), '/srv/deploy', 'Users\\\\bob', '/home/alice']) expect(line).not.toContain(needle)
    expect(line).toContain('at src/a.ts:1:2')
    expect(line).toContain('"endpoint":"/home/feed/:id","route":"/tmp/uploads/:id"')
  })

  it('bypass lines: an e-mail in the actor is redacted; a huge reason with line separators is escaped and capped', async () => {
    raw.clear()
    const reason = `cleanup\u2028${'r'.repeat(100_000)}`
    await withoutTenantEnforcement({ reason, actor: `user:${EMAIL}` }, () => db.prisma.user.findMany({ where: { email: PASSWORD } }))
    const lines = raw.lines().filter((l) => l.includes('TENANT_BYPASS'))
    expectClean(lines, 'bypass')
  })

  it('flag error lines: a hostile flag value is escaped and capped', async () => {
    raw.clear()
    process.env.TENANT_ENFORCEMENT_MODE = `enforce\u2028${'m'.repeat(100_000)}`
    try {
      await runWithTenant({ tenantId: 1 }, () => db.prisma.role.findMany({ where: { tenantId: 1 } }))
    } finally {
      process.env.TENANT_ENFORCEMENT_MODE = 'log_only'
    }
    const lines = raw.lines().filter((l) => l.includes('TENANT_FLAG_INVALID'))
    expectClean(lines, 'flag error')
  })
})

// ── the adapters ─────────────────────────────────────────────────────────────────────────────
/** The route every adapter serves: the attacker's `where` reaches a scoped query (Prisma validates it). */
const search = (body: unknown) => {
  const { tenantId } = getTenantContext()!
  const where = (body as { where?: Record<string, unknown> } | undefined)?.where ?? {}
  return db.prisma.user.findMany({ where: { AND: [where, { tenantId: Number(tenantId) }] } } as never)
}

function expressApp(registry = new Registry(), auth: Partial<TenantContextOptions> = {}) {
  const a = express()
  a.use(requestMetrics({ registry }))
  a.get('/metrics', metricsHandler(registry))
  a.use(express.json({ limit: '1mb' }))
  a.use(tenantContext({ secret: SECRET, idType: 'number', ...auth }))
  a.get('/whoami', (_req, res) => void res.json(getTenantContext()))
  a.post('/api/search', async (req, res) => void res.json(await search(req.body)))
  a.post('/api/echo', (req, res) => void res.json(req.body))
  a.get('/api/users/:id', (req, res) => void res.json({ id: req.params.id }))
  a.use(tenantErrorHandler({ logger: raw.logger }))
  return a
}

async function fastifyApp(registry = new Registry()) {
  const f = Fastify({ loggerInstance: raw.logger, disableRequestLogging: true, bodyLimit: 1024 * 1024 })
  await f.register(tenantfence, { secret: SECRET, idType: 'number', registry })
  f.get('/whoami', async () => getTenantContext())
  f.post('/api/search', async (req) => search(req.body))
  f.post('/api/echo', async (req) => req.body)
  await f.ready()
  return f
}

function honoApp(registry = new Registry()) {
  const guard = webTenantContext({ secret: SECRET, idType: 'number', registry, logger: raw.logger })
  const h = new Hono()
  h.use('*', honoTenantContext(guard))
  h.get('/whoami', (c) => c.json(getTenantContext()))
  h.post('/api/search', async (c) => c.json(await search(await c.req.json())))
  h.get('/api/all-users', async (c) => c.json(await db.prisma.user.findMany())) // the unscoped bug
  h.get('/api/slow', async (c) => {
    await new Promise((r) => setTimeout(r, 20))
    return c.json({ ok: true })
  })
  return h
}

const now = () => Math.floor(Date.now() / 1000)
const good = () => new SignJWT({ tenantId: 1 }).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(SECRET))

/** An HS256 token with exactly this payload text: values JSON cannot round-trip (-0) kept as written. */
function rawToken(payload: string): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64url')
  const head = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(payload)}`
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`
}
const claims = (tenantId: string, sub = '"1"', times = `"iat":${now()},"exp":${now() + 600}`) => rawToken(`{"tenantId":${tenantId},"sub":${sub},${times}}`)

type Caller = (path: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<{ status: number; body: string }>

async function callers(): Promise<Record<string, Caller>> {
  const ex = expressApp()
  const fa = await fastifyApp()
  const ho = honoApp()
  return {
    express: async (path, init = {}) => {
      let r = init.method === 'POST' ? request(ex).post(path) : request(ex).get(path)
      for (const [k, v] of Object.entries(init.headers ?? {})) r = r.set(k, v)
      const res = init.body !== undefined ? await r.send(init.body) : await r
      return { status: res.status, body: res.text }
    },
    fastify: async (path, init = {}) => {
      const res = await fa.inject({ method: (init.method ?? 'GET') as 'GET', url: path, headers: init.headers, payload: init.body })
      return { status: res.statusCode, body: res.body }
    },
    hono: async (path, init = {}) => {
      const res = await ho.request(path, { method: init.method ?? 'GET', headers: init.headers, body: init.body })
      return { status: res.status, body: await res.text() }
    },
  }
}

describe('HTTP_UNHANDLED_ERROR under hostile bodies, in every adapter', () => {
  it('a Prisma validation error quoting the body is logged by type, model and operation: nothing of the body', async () => {
    const adapters = await callers()
    const headers = { authorization: `Bearer ${await good()}`, 'content-type': 'application/json' }
    for (const [adapter, call] of Object.entries(adapters)) {
      for (const [name, where] of Object.entries(BODY_SHAPES)) {
        raw.clear()
        const res = await call('/api/search', { method: 'POST', headers, body: JSON.stringify({ where }) })
        expect([adapter, name, res.status]).toEqual([adapter, name, 500])
        expect(res.body).toBe('{"error":"INTERNAL_ERROR"}')
        const lines = raw.lines().filter((l) => l.includes('HTTP_UNHANDLED_ERROR'))
        expectClean(lines, `${adapter} / ${name}`)
        expect(lines).toHaveLength(1)
        const { err } = JSON.parse(lines[0]!) as { err: Record<string, unknown> }
        expect(err, `${adapter} / ${name}`).toMatchObject({ type: 'PrismaClientValidationError', model: 'User', operation: 'findMany' })
        expect(err.message, 'never the message').toBeUndefined()
      }
    }
  })
})

describe('Hono: the handler\'s errors come back to the guard', () => {
  it('a blocked query is 403 TENANT_CONTEXT_REQUIRED, not Hono\'s 500', async () => {
    process.env.TENANT_ENFORCEMENT_MODE = 'enforce'
    try {
      const res = await honoApp().request('/api/all-users', { headers: { authorization: `Bearer ${await good()}` } })
      expect([res.status, await res.json()]).toEqual([403, { error: 'TENANT_CONTEXT_REQUIRED', model: 'User' }])
    } finally {
      process.env.TENANT_ENFORCEMENT_MODE = 'log_only'
    }
  })
})

describe('ids: one rule for every adapter and runWithTenant', () => {
  // tenant claim as JSON text, and the idType it is read with
  const BAD: Array<[string, string, TenantContextOptions['idType']]> = [
    ['tenantId -1', '-1', 'number'],
    ['tenantId -1 as signed', '-1', 'none'],
    ['tenantId "-1"', '"-1"', 'number'],
    ['tenantId "-1" as a string id', '"-1"', 'none'],
    ['tenantId -0', '-0', 'none'],
    ['tenantId -0 as number', '-0', 'number'],
    ['tenantId " 1" untrimmed', '" 1"', 'string'],
    ['tenantId " 1" with idType number', '" 1"', 'number'],
    ['tenantId "1\\u2028"', '"1\\u2028x"', 'string'],
  ]
  it('refuses each bad tenant claim 401 invalid_claim in Express, Fastify and Hono', async () => {
    for (const [name, tenant, idType] of BAD) {
      const ex = expressApp(new Registry(), { idType })
      const f = Fastify()
      await f.register(tenantfence, { secret: SECRET, idType })
      f.get('/whoami', async () => getTenantContext())
      const guard = webTenantContext({ secret: SECRET, idType })
      const headers = { authorization: `Bearer ${claims(tenant)}` }
      const e = await request(ex).get('/whoami').set(headers)
      const fr = await f.inject({ url: '/whoami', headers })
      const w = await guard.handle(new Request('http://app.test/whoami', { headers }), '/whoami', () => Response.json(getTenantContext()))
      expect([name, e.status, e.body.reason]).toEqual([name, 401, 'invalid_claim'])
      expect([name, fr.statusCode, fr.json().reason]).toEqual([name, 401, 'invalid_claim'])
      expect([name, w.status, ((await w.json()) as { reason: string }).reason]).toEqual([name, 401, 'invalid_claim'])
      await f.close()
    }
  })

  it('refuses sub "-5" and " 1" as user ids, as runWithTenant refuses them', async () => {
    const a = expressApp(new Registry(), { idType: 'none' })
    for (const sub of ['"-5"', '" 1"', '-5', '"+5"']) {
      const res = await request(a).get('/whoami').set('authorization', `Bearer ${claims('1', sub)}`)
      expect([sub, res.status, res.body.reason]).toEqual([sub, 401, 'invalid_claim'])
    }
  })

  it('runWithTenant refuses exactly the values the adapters refuse', () => {
    for (const v of [-1, '-1', -0, ' 1', '-5', '+5', '1\u2028x']) {
      expect(isTenantId(v), String(v)).toBe(false)
      expect(() => runWithTenant({ tenantId: v as never }, () => 1), String(v)).toThrow(/TENANT_CONTEXT_INVALID/)
      expect(() => runWithTenant({ tenantId: 1, userId: v as never }, () => 1), String(v)).toThrow(/TENANT_CONTEXT_INVALID/)
    }
    for (const v of [0, 1, '1', 'acme', 'org_2Xy', 5n]) expect(isTenantId(v), String(v)).toBe(true)
  })
})

describe('tokens: exp required, age and skew bounded', () => {
  const a = expressApp()
  const who = (t: string) => request(a).get('/whoami').set('authorization', `Bearer ${t}`)
  it('refuses a token without exp, unless the app opts out', async () => {
    const noExp = claims('1', '"1"', `"iat":${now()}`)
    expect((await who(noExp)).body).toEqual({ error: 'UNAUTHENTICATED', reason: 'invalid_token' })
    const optedOut = expressApp(new Registry(), { requireExp: false })
    expect((await request(optedOut).get('/whoami').set('authorization', `Bearer ${noExp}`)).status).toBe(200)
  })
  it('refuses an iat in the future beyond the skew, and tokens older or longer-lived than the maximum age', async () => {
    expect((await who(claims('1', '"1"', `"iat":${now() + 365 * 86_400},"exp":${now() + 366 * 86_400}`))).body.reason).toBe('invalid_token')
    expect((await who(claims('1', '"1"', `"iat":${now() + 300},"exp":${now() + 600}`))).body.reason).toBe('invalid_token')
    expect((await who(claims('1', '"1"', `"iat":${now() + 30},"exp":${now() + 600}`))).status).toBe(200) // within 60 s of skew
    expect((await who(claims('1', '"1"', `"iat":${now() - 25 * 3600},"exp":${now() + 600}`))).body.reason).toBe('token_expired')
    expect((await who(claims('1', '"1"', `"exp":${now() + 30 * 86_400}`))).body.reason).toBe('invalid_token') // a month-long token, no iat
    const lax = expressApp(new Registry(), { maxTokenAge: false })
    expect((await request(lax).get('/whoami').set('authorization', `Bearer ${claims('1', '"1"', `"exp":${now() + 30 * 86_400}`)}`)).status).toBe(200)
  })
  it('tolerates 60 s of clock skew on exp by default, not more; bad settings refuse to start', async () => {
    expect((await who(claims('1', '"1"', `"iat":${now() - 600},"exp":${now() - 30}`))).status).toBe(200)
    expect((await who(claims('1', '"1"', `"iat":${now() - 600},"exp":${now() - 90}`))).body.reason).toBe('token_expired')
    expect(() => tenantContext({ secret: SECRET, clockTolerance: -1 })).toThrow('clockTolerance is -1')
    expect(() => tenantContext({ secret: SECRET, maxTokenAge: 0 })).toThrow('maxTokenAge is 0')
  })
  it('hostile Authorization and tenant headers get a clean 401/403 and no context', async () => {
    const t = await good()
    const cases: Array<[Record<string, string>, number]> = [
      [{ authorization: `Bearer ${'A'.repeat(7000)}` }, 401],
      [{ authorization: 'Bearer a b' }, 401],
      [{ authorization: `Bearer ${t}.` }, 401],
      [{ authorization: `Bearer ${t}`, 'x-tenant-id': '2' }, 403],
      [{ authorization: `Bearer ${t}`, 'x-tenant-id': '-1' }, 403],
    ]
    for (const [headers, status] of cases) {
      const res = await request(a).get('/whoami').set(headers)
      expect([Object.keys(headers).join(','), res.status]).toEqual([Object.keys(headers).join(','), status])
      expect(Object.keys(res.body as object).sort()).toEqual(status === 401 ? ['error', 'reason'] : ['error'])
    }
  })
})

describe('/metrics', () => {
  it('the in-app handler serves its exact path only: /METRICS and /metrics/ are not it', async () => {
    const registry = new Registry()
    const a = express()
    a.get('/metrics', metricsHandler(registry))
    expect((await request(a).get('/metrics')).status).toBe(200)
    for (const path of ['/METRICS', '/metrics/', '/Metrics']) expect((await request(a).get(path)).status, path).toBe(404)
  })

  it('metricsListener: a loopback listener of its own, one exact path, GET and HEAD only', async () => {
    const registry = new Registry()
    const m = await metricsListener({ registry, port: 0 })
    try {
      expect(m.url).toBe(`http://127.0.0.1:${m.port}/metrics`)
      expect(m.server.address()).toMatchObject({ address: '127.0.0.1' })
      const at = (path: string, method = 'GET') => fetch(`http://127.0.0.1:${m.port}${path}`, { method })
      expect((await at('/metrics')).headers.get('content-type')).toBe(registry.contentType)
      expect((await at('/metrics?x=1')).status).toBe(200)
      for (const path of ['/METRICS', '/metrics/', '/', '/metrics/../metrics%2f']) expect((await at(path)).status, path).toBe(404)
      expect((await at('/metrics', 'POST')).status).toBe(405)
    } finally {
      await m.close()
    }
  })
})

describe('aborted requests: 499 under the route they asked for', () => {
  /** Send the head of a request and part of its body, then drop the connection. */
  const abortMidBody = (port: number, path: string, token: string) =>
    new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write(`POST ${path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"where":`)
        setTimeout(() => {
          s.destroy()
          resolve()
        }, 30)
      })
    })

  it('Express: mid-body and during authentication', async () => {
    const registry = new Registry()
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => (release = r))
    const a = express()
    a.use(requestMetrics({ registry }))
    a.use(express.json())
    a.use(tenantContext({ secret: SECRET, idType: 'number', resolveTenant: async () => (await gate, 1) }))
    a.post('/api/echo', (req, res) => void res.json(req.body))
    a.get('/api/slow/:id', (_req, res) => void res.json({ ok: true }))
    const server = a.listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    const port = (server.address() as { port: number }).port
    try {
      await abortMidBody(port, '/api/echo', await good())
      await expect.poll(() => requestSeries(registry), { timeout: 10_000 }).toEqual(['/api/echo 499'])
      // aborted while resolveTenant is pending: counted under the route it asked for
      const controller = new AbortController()
      const pending = fetch(`http://127.0.0.1:${port}/api/slow/7`, { headers: { authorization: `Bearer ${await good()}` }, signal: controller.signal }).catch(() => undefined)
      await new Promise((r) => setTimeout(r, 50))
      controller.abort()
      await pending
      await expect.poll(() => requestSeries(registry), { timeout: 10_000 }).toEqual(['/api/echo 499', '/api/slow/:id 499'])
      release()
    } finally {
      release()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })

  it('Fastify: mid-body', async () => {
    const registry = new Registry()
    const f = await fastifyApp(registry)
    await f.listen({ port: 0, host: '127.0.0.1' })
    try {
      await abortMidBody((f.server.address() as { port: number }).port, '/api/echo', await good())
      await expect.poll(() => requestSeries(registry), { timeout: 10_000 }).toEqual(['/api/echo 499'])
    } finally {
      await f.close()
    }
  })

  it('Web/Hono: a request whose client went away while the handler ran', async () => {
    const registry = new Registry()
    const h = honoApp(registry)
    const controller = new AbortController()
    const res = h.request('/api/slow', { headers: { authorization: `Bearer ${await good()}` }, signal: controller.signal })
    controller.abort()
    await res
    expect(await requestSeries(registry)).toEqual(['/api/slow 499'])
  })
})

describe('hostile paths', () => {
  it('label nothing but route templates or "unmatched", and answer 4xx', async () => {
    const registry = new Registry()
    const a = expressApp(registry)
    const t = await good()
    const paths = ['/api/users/%00', `/api/users/${'a'.repeat(5000)}`, '/..%2f..%2fetc%2fpasswd', '/api/users/1/../../metrics', '/%E2%80%A8', '/api/USERS/1']
    for (const p of paths) {
      const res = await request(a).get(p).set('authorization', `Bearer ${t}`)
      expect(res.status < 500, p).toBe(true)
    }
    for (const s of await requestSeries(registry)) expect(s).toMatch(/^(\/api\/users\/:id|unmatched) \d{3}$/)
  })
})

describe('the start-up line', () => {
  it('names the flag file by its name only, never its absolute path', async () => {
    const dir = tempDir('tf-hostile-')
    const file = join(dir, 'flags.env')
    writeFileSync(file, 'TENANT_ENFORCEMENT_MODE=log_only\n')
    const log = rawLogger()
    const s = await startDemoServer({ port: 0, metricsPort: 0, env: { TENANT_ENFORCEMENT_FLAG_FILE: file, NIGHTLY_CLEANUP_SECONDS: '0' }, logger: log.logger })
    try {
      const line = log.lines().find((l) => l.includes('demo API listening'))!
      expect(line).toContain('"flagFile":"flags.env"')
      expect(line).not.toContain(dir)
    } finally {
      await s.close()
    }
  })
})
