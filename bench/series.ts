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
  const text = await registry.metrics()
  let total = 0
  let errors = 0
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    total++
    if (line.startsWith(`${METRIC.enforcementErrors}{`) || line.startsWith(`${METRIC.enforcementErrors} `)) errors++
  }
  return { total, errors }
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
  const bound = ROUTES.length // each route reads one model here: templates × models = 4
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
    via: existsSync(new URL('../src/http/index.ts', import.meta.url)) ? 'runWithTenant contexts (src/http exists: see report)' : 'runWithTenant contexts whose endpoint is the route template',
  }
}
