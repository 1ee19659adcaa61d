// What reaches Loki, checked against Loki's documented push API with a local receiver
// (POST /loki/api/v1/push, JSON {streams:[{stream:{labels}, values:[["<ns>", "<line>"]]}]}),
// and that a Loki that refuses or hangs never fails or slows a query. "Never slows" is shown by
// order of events, not by a stopwatch: the queries finish while a push is still hanging.
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { runWithTenant } from '../src/enforcement/context.ts'
import { createDemo, type Demo } from '../src/demo/harness.ts'
import { createLogger } from '../src/telemetry/log-shipping.ts'
import { tempDir } from './helpers/tmp.ts'

interface Push {
  method: string
  url: string
  contentType: string | undefined
  body: unknown
  /** open: no answer yet; answered: the receiver responded; aborted: the client gave up first */
  state: 'open' | 'answered' | 'aborted'
}

async function receiver(handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void = (_q, res) => void res.writeHead(204).end()): Promise<{ url: string; pushes: Push[]; connections: () => number; close(): Promise<void> }> {
  const pushes: Push[] = []
  let connections = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let raw = Buffer.concat(chunks)
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw)
      let body: unknown
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch {
        body = raw.toString('utf8')
      }
      const push: Push = { method: req.method!, url: req.url!, contentType: req.headers['content-type'], body, state: 'open' }
      pushes.push(push)
      res.once('finish', () => (push.state = 'answered'))
      res.once('close', () => void (push.state === 'open' && (push.state = 'aborted')))
      handle(req, res, raw)
    })
  })
  server.on('connection', () => connections++)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    pushes,
    connections: () => connections,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections()
      server.close(() => r())
    }),
  }
}

/** Loki's push contract: streams of string labels, values of [ns timestamp string, line]. */
function assertLokiPush(p: Push): { labels: Record<string, string>; ts: string; line: string }[] {
  expect(p.method).toBe('POST')
  expect(p.url).toBe('/loki/api/v1/push')
  expect(p.contentType).toMatch(/^application\/json/)
  const body = p.body as { streams: { stream: Record<string, unknown>; values: unknown[][] }[] }
  expect(Array.isArray(body.streams)).toBe(true)
  const out: { labels: Record<string, string>; ts: string; line: string }[] = []
  for (const s of body.streams) {
    for (const [k, v] of Object.entries(s.stream)) {
      expect(k).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/)
      expect(typeof v).toBe('string')
    }
    expect(s.values.length).toBeGreaterThan(0)
    for (const v of s.values) {
      expect(v.length).toBe(2)
      expect(typeof v[0]).toBe('string')
      expect(v[0]).toMatch(/^\d{19}$/)
      expect(typeof v[1]).toBe('string')
      out.push({ labels: s.stream as Record<string, string>, ts: v[0] as string, line: v[1] as string })
    }
  }
  return out
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  delete process.env.TENANT_ENFORCEMENT_MODE
})

const tmp = () => tempDir('tenantfence-loki-')

async function logOnlyDemo(logger: Demo['logger']): Promise<Demo> {
  process.env.TENANT_ENFORCEMENT_MODE = 'log_only'
  const demo = await createDemo({ logger })
  cleanups.push(() => demo.close())
  return demo
}

/** one unscoped query as tenant 1: a TENANT_VIOLATION line in log_only */
const violate = (demo: Demo) => runWithTenant({ tenantId: 1, userId: 1, endpoint: '/api/admin/users', method: 'GET' }, () => demo.prisma().user.findMany({ where: { isActive: true } }))

describe('push format', () => {
  it('pushes JSON lines to /loki/api/v1/push with app and env labels and nanosecond timestamps', async () => {
    const loki = await receiver()
    cleanups.push(() => loki.close())
    const file = join(tmp(), 'app.log')
    // close() waits for the final push up to the push timeout: generous, this test is about the format
    const shipping = createLogger({ app: 'tenantfence-demo', env: 'test', lokiUrl: loki.url, destination: file, loki: { timeoutMs: 120_000 } })
    const demo = await logOnlyDemo(shipping.logger)
    await violate(demo)
    shipping.logger.info({ phase: 1 }, 'phase started')
    await shipping.close()

    expect(loki.pushes.length).toBeGreaterThanOrEqual(1)
    const entries = loki.pushes.flatMap(assertLokiPush)
    const violation = entries.find((e) => JSON.parse(e.line).msg === 'TENANT_VIOLATION')!
    expect(violation).toBeDefined()
    expect(violation.labels).toMatchObject({ app: 'tenantfence-demo', env: 'test', level: 'warning' })
    expect(Object.keys(violation.labels).sort()).toEqual(['app', 'env', 'level'])
    const line = JSON.parse(violation.line)
    expect(line).toMatchObject({ model: 'User', decision: 'logged', endpoint: '/api/admin/users', tenantId: '1' })
    expect(violation.ts).toBe(String(BigInt(line.time) * 1_000_000n))
    // every line also went to the local destination
    const local = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(local.map((l) => l.msg)).toEqual(entries.map((e) => JSON.parse(e.line).msg))
  })

  it('logs locally only when no Loki URL is set', async () => {
    const before = process.env.LOKI_URL
    delete process.env.LOKI_URL
    const file = join(tmp(), 'app.log')
    const shipping = createLogger({ app: 'a', env: 'test', destination: file })
    expect(shipping.lokiUrl).toBeUndefined()
    shipping.logger.info('hello')
    await shipping.close()
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ app: 'a', env: 'test', msg: 'hello' })
    if (before !== undefined) process.env.LOKI_URL = before
  })

  it('refuses a malformed LOKI_URL at start-up', () => {
    expect(() => createLogger({ app: 'a', env: 'test', lokiUrl: 'not a url', destination: join(tmp(), 'x.log') })).toThrow()
  })
})

describe('Loki failures never fail or slow a query', () => {
  const ROUNDS = 50

  it('a hanging Loki: queries go on while a push hangs (none waits for it)', async () => {
    const loki = await receiver(() => {}) // never answers
    cleanups.push(() => loki.close())
    // A push timeout far longer than the queries take: if a query waited for the push, the push
    // would be answered or aborted before the queries finished, and this test would see it.
    const shipping = createLogger({ app: 'a', env: 'test', lokiUrl: loki.url, destination: join(tmp(), 'app.log'), loki: { batchIntervalSeconds: 0.2, timeoutMs: 120_000, silenceErrors: true } })
    const demo = await logOnlyDemo(shipping.logger)
    await violate(demo)
    await expect.poll(() => loki.pushes.length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(0)
    const hung = loki.pushes[0]!
    for (let i = 0; i < ROUNDS; i++) expect(await violate(demo)).toBeDefined() // each logs a TENANT_VIOLATION line
    expect(hung.state).toBe('open') // every query finished while the first push still hung
    await loki.close() // drops the hung connection: the final push is refused at once
    await shipping.close()
  })

  it('close() returns though Loki never answers: the push is abandoned at its timeout', async () => {
    const loki = await receiver(() => {}) // never answers
    cleanups.push(() => loki.close())
    // No batch before close(): the only push is close()'s own, of the buffered line.
    const shipping = createLogger({ app: 'a', env: 'test', lokiUrl: loki.url, destination: join(tmp(), 'app.log'), loki: { batchIntervalSeconds: 3600, timeoutMs: 1000, silenceErrors: true } })
    shipping.logger.info('last line')
    await shipping.close()
    // The receiver never answered, so the request can only have ended by the client giving up.
    await expect.poll(() => loki.pushes.map((p) => p.state), { timeout: 30_000, interval: 20 }).toEqual(['aborted'])
  })

  it('an unreachable Loki (connection refused) and a Loki answering 500: every query succeeds', async () => {
    const refused = await receiver()
    const url = refused.url
    await refused.close() // nothing listens there now
    const failing = await receiver((_req, res) => void res.writeHead(500).end('ingester unavailable'))
    cleanups.push(() => failing.close())
    // pino-loki reports a failed push on console.error (unless silenced): that is how the test
    // knows a push has failed before it sends more queries.
    const reported: string[] = []
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void reported.push(a.map(String).join(' ')))
    cleanups.push(() => error.mockRestore())
    for (const lokiUrl of [url, failing.url]) {
      const shipping = createLogger({ app: 'a', env: 'test', lokiUrl, destination: join(tmp(), 'app.log'), loki: { batchIntervalSeconds: 0.2, timeoutMs: 1000 } })
      const demo = await logOnlyDemo(shipping.logger)
      const failedBefore = reported.length
      for (let i = 0; i < ROUNDS; i++) expect(await violate(demo)).toBeDefined()
      await expect.poll(() => reported.length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(failedBefore)
      for (let i = 0; i < ROUNDS; i++) expect(await violate(demo)).toBeDefined() // after a failed push too
      await shipping.close()
    }
    expect(failing.pushes.length).toBeGreaterThan(0)
    expect(reported.join('\n')).toContain('ingester unavailable')
  })
})
