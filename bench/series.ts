// Cardinality: 10 000 blocked queries from 10 000 different raw request paths must leave the
// /metrics series count bounded, because the enforcement counters are labelled with the route
// template the request matched (`/api/users/:id`), never the raw path.
import { existsSync } from 'node:fs'
import { Registry } from 'prom-client'
import { runWithTenant, type TenantContext } from '../src/enforcement/context.ts'
import { tenantEnforcement } from '../src/enforcement/extension.ts'
import { isTenantContextRequiredError } from '../src/enforcement/errors.ts'
import { METRIC } from '../src/telemetry/metric-names.ts'
import type { BenchDatabase } from './db.ts'
import { config, FLAGS, nullLogger, setEnvFlags } from './setup.ts'

export interface SeriesResult {
  requests: number
  distinctRawPaths: number
  routeTemplates: number
  blocked: number
  /** series of tenant_enforcement_errors_total after the requests */
  enforcementErrorSeries: number
  /** the most it may be: route templates × models blocked */
  bound: number
  /** every series the registry exposes on /metrics, before and after */
  totalSeriesBefore: number
  totalSeriesAfter: number
  bounded: boolean
  via: string
}

/** Is the Express adapter there (it was being written while this benchmark was)? */
export const httpAdapterPresent = () => existsSync(new URL('../src/http/index.ts', import.meta.url))

// Routes of an app on the demo schema, as a router would match them: raw path -> template.
const ROUTES: { template: string; path: (i: number) => string; query: (c: Clients, i: number) => Promise<unknown> }[] = [
  { template: '/api/users/:id', path: (i) => `/api/users/${i}`, query: (c, i) => c.user.findMany({ where: { id: i } }) },
  { template: '/api/users/:id/roles', path: (i) => `/api/users/${i}/roles`, query: (c, i) => c.userRole.findMany({ where: { userId: i } }) },
  { template: '/api/audit-logs/:id', path: (i) => `/api/audit-logs/${i}`, query: (c, i) => c.auditLog.findMany({ where: { id: i } }) },
  { template: '/api/roles/:roleId/permissions/:id', path: (i) => `/api/roles/${i}/permissions/${i * 7}`, query: (c, i) => c.rolePermission.findMany({ where: { roleId: i } }) },
]
type Clients = BenchDatabase['prisma']

/** What a router does: numeric segments become parameters. */
function templateOf(rawPath: string): string {
  const route = ROUTES.find((r) => new RegExp(`^${r.template.replace(/:\w+/g, '\\d+')}$`).test(rawPath))
  return route ? route.template : 'unmatched'
}

async function countSeries(registry: Registry): Promise<{ total: number; errors: number }> {
  return countSeriesText(await registry.metrics())
}

export async function benchSeries(db: BenchDatabase, requests: number): Promise<SeriesResult> {
  setEnvFlags(FLAGS.enforce)
  const registry = new Registry()
  const prisma = db.prisma.$extends(tenantEnforcement({ config, registry, logger: nullLogger().logger, audit: false })) as unknown as Clients
  const before = await countSeries(registry)
  const rawPaths = new Set<string>()
  let blocked = 0
  for (let i = 0; i < requests; i++) {
    const route = ROUTES[i % ROUTES.length]!
    const rawPath = route.path(100_000 + i)
    rawPaths.add(rawPath)
    // Half the contexts carry the template, half a resolver (as a router that matches late would).
    const endpoint = i % 2 === 0 ? templateOf(rawPath) : () => templateOf(rawPath)
    const ctx: TenantContext = { tenantId: 1 + (i % 10), userId: i, endpoint, method: 'GET' }
    try {
      await runWithTenant(ctx, () => route.query(prisma, i))
    } catch (err) {
      if (!isTenantContextRequiredError(err)) throw err
      blocked++
    }
  }
  const after = await countSeries(registry)
  // each route reads one model here: templates × models = 4, over the series that exist from
  // start-up (one per protected model outside a request, endpoint "unknown")
  const bound = ROUTES.length + before.errors
  return {
    requests,
    distinctRawPaths: rawPaths.size,
    routeTemplates: ROUTES.length,
    blocked,
    enforcementErrorSeries: after.errors,
    bound,
    totalSeriesBefore: before.total,
    totalSeriesAfter: after.total,
    bounded: blocked === requests && after.errors <= bound,
    via: 'runWithTenant contexts whose endpoint is the route template',
  }
}

/**
 * The same through the Express adapter (src/http): a real HTTP server, a signed token per
 * request, 10 000 distinct raw paths on four routes whose queries are blocked (403), then one
 * scrape of /metrics. Both the enforcement counter and the HTTP request counter must stay bounded.
 */
export async function benchSeriesHttp(db: BenchDatabase, requests: number): Promise<SeriesHttpResult> {
  const [{ default: express }, http, { SignJWT }] = await Promise.all([import('express'), import('../src/http/index.ts'), import('jose')])
  setEnvFlags(FLAGS.enforce)
  const registry = new Registry()
  const prisma = db.prisma.$extends(tenantEnforcement({ config, registry, logger: nullLogger().logger, audit: false })) as unknown as Clients
  const secret = 'tenantfence-bench-secret-of-at-least-32-bytes'
  const app = express()
  app.use(http.requestMetrics({ registry }))
  app.get('/metrics', http.metricsHandler(registry))
  app.use(http.tenantContext({ secret, idType: 'number' }))
  for (const route of ROUTES) {
    app.get(route.template, async (req, res) => {
      await route.query(prisma, Number(req.params.id ?? req.params.roleId ?? 0))
      res.json({ ok: true })
    })
  }
  app.use(http.tenantErrorHandler())
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  try {
    const { port } = server.address() as import('node:net').AddressInfo
    const base = `http://127.0.0.1:${port}`
    const token = await new SignJWT({ tenantId: 1 }).setProtectedHeader({ alg: 'HS256' }).setSubject('7').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret))
    const headers = { authorization: `Bearer ${token}` }
    const before = countSeriesText(await (await fetch(`${base}/metrics`)).text())
    const rawPaths = new Set<string>()
    const statuses = new Map<number, number>()
    let next = 0
    const worker = async () => {
      while (next < requests) {
        const i = next++
        const rawPath = ROUTES[i % ROUTES.length]!.path(100_000 + i)
        rawPaths.add(rawPath)
        const res = await fetch(base + rawPath, { headers })
        await res.arrayBuffer()
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
    const after = countSeriesText(await (await fetch(`${base}/metrics`)).text())
    const blocked = statuses.get(403) ?? 0
    return {
      requests,
      distinctRawPaths: rawPaths.size,
      routeTemplates: ROUTES.length,
      blocked,
      statuses: Object.fromEntries(statuses),
      enforcementErrorSeries: after.errors,
      httpRequestSeries: after.http,
      bound: ROUTES.length + before.errors,
      totalSeriesBefore: before.total,
      totalSeriesAfter: after.total,
      bounded: blocked === requests && after.errors <= ROUTES.length + before.errors && after.http <= ROUTES.length + 1,
    }
  } finally {
    await new Promise((r) => server.close(r))
  }
}

export interface SeriesHttpResult {
  requests: number
  distinctRawPaths: number
  routeTemplates: number
  blocked: number
  statuses: Record<string, number>
  enforcementErrorSeries: number
  /** series of http_requests_total (route × method × status): the 10 000 requests plus the scrape */
  httpRequestSeries: number
  bound: number
  totalSeriesBefore: number
  totalSeriesAfter: number
  bounded: boolean
}

function countSeriesText(text: string): { total: number; errors: number; http: number } {
  let total = 0
  let errors = 0
  let http = 0
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    total++
    if (line.startsWith(`${METRIC.enforcementErrors}{`)) errors++
    if (line.startsWith(`${METRIC.httpRequests}{`)) http++
  }
  return { total, errors, http }
}
