// The Loki query_range contract, against a local receiver that checks the documented
// parameters and answers Loki's documented response shape.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dailyReport } from '../src/ops/report-cli.ts'
import { runCli } from './fixtures/ops/run-cli.ts'
import { freePort } from './helpers/prometheus.ts'

const DAY = '2025-03-10'
const START = BigInt(Date.parse('2025-03-09T00:00:00Z')) * 1_000_000n
const END = BigInt(Date.parse('2025-03-11T00:00:00Z')) * 1_000_000n

// 7 violation lines on the day, 3 the day before, in two streams (two pods).
const entries: { pod: string; ns: bigint; line: string }[] = []
const violation = (day: string, model: string, sec: number) =>
  JSON.stringify({ msg: 'TENANT_VIOLATION', timestamp: `${day}T08:00:${String(sec).padStart(2, '0')}.000Z`, severity: model === 'User' ? 'CRITICAL' : 'HIGH', model, action: 'findMany', violation: 'missing_tenant_id', decision: 'logged', endpoint: '/api/users', method: 'GET' })
for (let i = 0; i < 10; i++) {
  const day = i < 3 ? '2025-03-09' : DAY
  const ns = BigInt(Date.parse(`${day}T08:00:${String(i).padStart(2, '0')}.000Z`)) * 1_000_000n + 123n
  entries.push({ pod: i % 2 ? 'api-1' : 'api-2', ns, line: violation(day, i % 3 ? 'Role' : 'User', i) })
}

let server: Server
let base: string
const requests: URLSearchParams[] = []
const problems: string[] = []

function answer(req: IncomingMessage): { status: number; body: unknown } {
  const url = new URL(req.url!, 'http://x')
  if (req.method !== 'GET' || url.pathname !== '/loki/api/v1/query_range') return { status: 404, body: '404 page not found' }
  const p = url.searchParams
  requests.push(p)
  for (const k of ['query', 'start', 'end', 'limit', 'direction']) if (!p.has(k)) problems.push(`missing ${k}`)
  if (!/^\d{19}$/.test(p.get('start') ?? '') || !/^\d{19}$/.test(p.get('end') ?? '')) problems.push(`start/end not in ns: ${p.get('start')} ${p.get('end')}`)
  if (p.get('direction') !== 'forward') problems.push(`direction ${p.get('direction')}`)
  const query = p.get('query')!
  if (query.includes('bad')) return { status: 400, body: 'parse error at line 1, col 1: syntax error' }
  const start = BigInt(p.get('start')!)
  const end = BigInt(p.get('end')!)
  const limit = Number(p.get('limit'))
  const page = entries.filter((e) => e.ns >= start && e.ns < end).sort((a, b) => (a.ns < b.ns ? -1 : 1)).slice(0, limit)
  const streams = new Map<string, [string, string][]>()
  for (const e of page) {
    const values = streams.get(e.pod) ?? []
    values.push([e.ns.toString(), e.line])
    streams.set(e.pod, values)
  }
  return {
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'streams',
        result: [...streams].map(([pod, values]) => ({ stream: { app: 'tenantfence-demo', pod }, values })),
        stats: {},
      },
    },
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const { status, body } = answer(req)
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' })
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('report --loki', () => {
  it('queries query_range for the day and the day before, paging until a short page', async () => {
    requests.length = 0
    const r = await dailyReport({ loki: base, date: DAY, limit: 4 })
    expect(problems).toEqual([])
    expect([r.total, r.previousTotal]).toEqual([7, 3])
    // 10 entries, limit 4: pages of 4, 4, 2.
    expect(requests).toHaveLength(3)
    const first = requests[0]!
    expect(first.get('query')).toBe('{app="tenantfence-demo"} |= "TENANT_VIOLATION"')
    expect(BigInt(first.get('start')!)).toBe(START)
    expect(BigInt(first.get('end')!)).toBe(END)
    expect(first.get('limit')).toBe('4')
    // Each next page starts just past the previous page's last timestamp.
    expect(BigInt(requests[1]!.get('start')!)).toBe(entries[3]!.ns + 1n)
    expect(BigInt(requests[2]!.get('start')!)).toBe(entries[7]!.ns + 1n)
  })

  it('defaults --date to today and takes a LogQL override', async () => {
    requests.length = 0
    const r = await dailyReport({ loki: base, query: '{namespace="prod"} |= "TENANT_VIOLATION"' }, new Date('2025-03-10T15:00:00Z'))
    expect(r.date).toBe(DAY)
    expect(r.total).toBe(7)
    expect(requests[0]!.get('query')).toBe('{namespace="prod"} |= "TENANT_VIOLATION"')
  })

  it('reports a Loki error or an unreachable Loki as a message, not a stack', async () => {
    const bad = await runCli(['report', '--loki', base, '--query', '{app="bad"}', '--date', DAY])
    expect(bad.thrown).toBeUndefined()
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('Loki answered HTTP 400')
    expect(bad.stderr).not.toMatch(/\n\s+at /)
    const port = await freePort() // nothing listens there
    const down = await runCli(['report', '--loki', `http://127.0.0.1:${port}`, '--date', DAY])
    expect(down.code).toBe(1)
    expect(down.stderr).toContain(`cannot reach Loki at http://127.0.0.1:${port}: ECONNREFUSED`)
  })
})
