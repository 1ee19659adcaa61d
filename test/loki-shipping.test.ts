// What reaches Loki, checked against Loki's documented push API with a local receiver
// (POST /loki/api/v1/push, JSON {streams:[{stream:{labels}, values:[["<ns>", "<line>"]]}]}),
// and that a Loki that refuses or hangs never fails or slows a query.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { runWithTenant } from '../src/enforcement/context.ts'
import { createDemo, type Demo } from '../src/demo/harness.ts'
import { createLogger } from '../src/telemetry/log-shipping.ts'

interface Push {
  method: string
  url: string
  contentType: string | undefined
  body: unknown
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
      pushes.push({ method: req.method!, url: req.url!, contentType: req.headers['content-type'], body })
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

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tenantfence-loki-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

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
    const shipping = createLogger({ app: 'tenantfence-demo', env: 'test', lokiUrl: loki.url, destination: file })
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
  async function queriesWhile(demo: Demo, ms: number): Promise<{ count: number; maxMs: number }> {
    for (let i = 0; i < 20; i++) await violate(demo) // warm up (first queries compile and JIT)
    const end = performance.now() + ms
    let count = 0
    let maxMs = 0
    while (performance.now() < end) {
      const t = performance.now()
      await violate(demo)
      await new Promise((r) => setImmediate(r)) // requests arrive through I/O: let timers and sockets run between them
      maxMs = Math.max(maxMs, performance.now() - t)
      count++
    }
    return { count, maxMs }
  }

  it('a hanging Loki: no query waits for a push, close() returns within the push timeout', async () => {
    const loki = await receiver(() => {}) // never answers
    cleanups.push(() => loki.close())
    const shipping = createLogger({ app: 'a', env: 'test', lokiUrl: loki.url, destination: join(tmp(), 'app.log'), loki: { batchIntervalSeconds: 0.2, timeoutMs: 1000, silenceErrors: true } })
    const demo = await logOnlyDemo(shipping.logger)
    const { count, maxMs } = await queriesWhile(demo, 1200)
    expect(count).toBeGreaterThan(50)
    expect(loki.pushes.length).toBeGreaterThan(0) // pushes were attempted (and hung) while the queries ran
    expect(maxMs).toBeLessThan(500) // a query waiting on the hung push would take the push timeout (1000 ms)
    const t = performance.now()
    await shipping.close()
    expect(performance.now() - t).toBeLessThan(2000)
  })

  it('an unreachable Loki (connection refused) and a Loki answering 500: every query succeeds', async () => {
    const refused = await receiver()
    const url = refused.url
    await refused.close() // nothing listens there now
    const failing = await receiver((_req, res) => void res.writeHead(500).end('ingester unavailable'))
    cleanups.push(() => failing.close())
    for (const lokiUrl of [url, failing.url]) {
      const shipping = createLogger({ app: 'a', env: 'test', lokiUrl, destination: join(tmp(), 'app.log'), loki: { batchIntervalSeconds: 0.2, timeoutMs: 1000, silenceErrors: true } })
      const demo = await logOnlyDemo(shipping.logger)
      const { count, maxMs } = await queriesWhile(demo, 600)
      expect(count).toBeGreaterThan(20)
      expect(maxMs).toBeLessThan(500)
      await shipping.close()
    }
    expect(failing.pushes.length).toBeGreaterThan(0)
  })
})
