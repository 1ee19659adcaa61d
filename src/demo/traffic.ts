// Mixed traffic from the demo tenants' users against a running demo API: a bounded open-loop
// load (a target rate, at most `concurrency` requests in flight; beyond that a request is
// skipped and counted, never queued without bound). Used by `npm run demo`, the end-to-end
// tests and, as a CLI, against the compose stack:
//   tsx src/demo/traffic.ts --url http://localhost:3000 --rps 20 --duration 60
import { pathToFileURL } from 'node:url'
import { DEMO_ALERTS, DEMO_RESET_TOKENS, DEMO_ROLES, DEMO_USERS, type DemoUser } from './fixture.ts'
import { DEMO_JWT_SECRET, signDemoToken } from './tokens.ts'

interface Call {
  method: 'GET' | 'POST' | 'PATCH'
  path: string
  /** the route template, for the per-route counts */
  route: string
  body?: unknown
}

type Pick = <T>(xs: readonly T[]) => T

/** The request kinds and how each is built for a user. */
export const REQUESTS = {
  user: (u, pick) => {
    const other = pick(DEMO_USERS.filter((x) => x.tenantId === u.tenantId)).id
    return { method: 'GET', path: `/api/users/${other}`, route: '/api/users/:id' }
  },
  adminUsers: () => ({ method: 'GET', path: '/api/admin/users', route: '/api/admin/users' }),
  userRoles: (u) => ({ method: 'GET', path: `/api/users/${u.id}/roles`, route: '/api/users/:id/roles' }),
  roles: () => ({ method: 'GET', path: '/api/roles', route: '/api/roles' }),
  adminRoles: () => ({ method: 'GET', path: '/api/admin/roles', route: '/api/admin/roles' }),
  rolePermissions: (u, pick) => ({ method: 'GET', path: `/api/roles/${pick(DEMO_ROLES.filter((r) => r.tenantId === u.tenantId)).id}/permissions`, route: '/api/roles/:id/permissions' }),
  sessions: () => ({ method: 'GET', path: '/api/secure/sessions', route: '/api/secure/sessions' }),
  passwordReset: (u) => ({ method: 'GET', path: `/api/password-resets/${DEMO_RESET_TOKENS.find((t) => t.userId === u.id)!.id}`, route: '/api/password-resets/:id' }),
  mfa: () => ({ method: 'GET', path: '/api/mfa/backup-codes', route: '/api/mfa/backup-codes' }),
  auditLog: () => ({ method: 'GET', path: '/api/audit-log', route: '/api/audit-log' }),
  auditWrite: (_u, pick) => ({ method: 'POST', path: '/api/audit-log', route: '/api/audit-log', body: { action: pick(['page_view', 'settings_view', 'export_viewed']) } }),
  securityAlerts: () => ({ method: 'GET', path: '/api/security-alerts', route: '/api/security-alerts' }),
  auditExport: () => ({ method: 'GET', path: '/api/admin/audit-export', route: '/api/admin/audit-export' }),
  assignAlert: (u, pick) => ({
    method: 'PATCH',
    path: `/api/security-alerts/${pick(DEMO_ALERTS.filter((a) => a.tenantId === u.tenantId)).id}/assignee`,
    route: '/api/security-alerts/:id/assignee',
    body: { userId: pick(DEMO_USERS.filter((x) => x.tenantId === u.tenantId)).id },
  }),
  /** a stale client (a cached user picker) sends the id of another tenant's user */
  assignAlertStale: (u, pick) => ({
    method: 'PATCH',
    path: `/api/security-alerts/${pick(DEMO_ALERTS.filter((a) => a.tenantId === u.tenantId)).id}/assignee`,
    route: '/api/security-alerts/:id/assignee',
    body: { userId: pick(DEMO_USERS.filter((x) => x.tenantId !== u.tenantId)).id },
  }),
} satisfies Record<string, (u: DemoUser, pick: Pick) => Call>

export type RequestKind = keyof typeof REQUESTS

/** Day-to-day traffic: mostly scoped reads; the monthly audit export is off (weight 0). */
export const DEFAULT_MIX: Record<RequestKind, number> = {
  user: 3,
  adminUsers: 1,
  userRoles: 1,
  roles: 2,
  adminRoles: 1,
  rolePermissions: 1,
  sessions: 2,
  passwordReset: 1,
  mfa: 2,
  auditLog: 2,
  auditWrite: 1,
  securityAlerts: 2,
  auditExport: 0,
  assignAlert: 1,
  assignAlertStale: 0.5,
}

export interface TrafficOptions {
  /** base URL of the running demo API */
  url: string
  /** target requests per second (1..5000) */
  rps: number
  /** stop after this long (ms); give this, `count`, or both (whichever comes first) */
  durationMs?: number
  /** stop after this many requests */
  count?: number
  /** most requests in flight (default 32); a request due while all are busy is skipped */
  concurrency?: number
  /** per-request timeout in ms (default 30 s: a busy machine can take seconds per request) */
  timeoutMs?: number
  /** weights by request kind, merged over DEFAULT_MIX */
  mix?: Partial<Record<RequestKind, number>>
  /** HS256 secret the API verifies (default the demo secret) */
  secret?: string
  /** PRNG seed: the same seed plays the same sequence (default 1) */
  seed?: number
  signal?: AbortSignal
}

export interface TrafficResult {
  /** requests answered (any status) */
  sent: number
  byStatus: Record<string, number>
  /** route template → status → count */
  byRoute: Record<string, Record<string, number>>
  /** network errors and timeouts */
  failed: number
  /** due while `concurrency` requests were in flight */
  skipped: number
  durationMs: number
}

const MAX_DURATION_MS = 60 * 60 * 1000

export async function runTraffic(options: TrafficOptions): Promise<TrafficResult> {
  const base = new URL(options.url)
  if (!(options.rps > 0 && options.rps <= 5000)) throw new Error(`rps must be in (0, 5000], got ${options.rps}`)
  if (options.durationMs === undefined && options.count === undefined) throw new Error('give durationMs or count: traffic is always bounded')
  const durationMs = Math.min(options.durationMs ?? MAX_DURATION_MS, MAX_DURATION_MS)
  const count = options.count ?? Number.POSITIVE_INFINITY
  const concurrency = options.concurrency ?? 32
  const timeoutMs = options.timeoutMs ?? 30_000
  const mix = { ...DEFAULT_MIX, ...options.mix }
  const kinds = (Object.keys(mix) as RequestKind[]).filter((k) => mix[k] > 0 && k in REQUESTS)
  const totalWeight = kinds.reduce((s, k) => s + mix[k], 0)
  if (totalWeight <= 0) throw new Error('the mix has no request kind with a positive weight')
  const random = mulberry32(options.seed ?? 1)
  const pick: Pick = (xs) => xs[Math.floor(random() * xs.length)]!
  const tokens = new Map<number, string>()
  for (const u of DEMO_USERS) tokens.set(u.id, await signDemoToken(u, { secret: options.secret ?? DEMO_JWT_SECRET, ttlSeconds: 24 * 3600 }))

  const result: TrafficResult = { sent: 0, byStatus: {}, byRoute: {}, failed: 0, skipped: 0, durationMs: 0 }
  let inFlight = 0
  let started = 0
  const pending = new Set<Promise<void>>()
  const t0 = performance.now()

  const one = async (call: Call, token: string) => {
    try {
      const res = await fetch(new URL(call.path, base), {
        method: call.method,
        headers: { authorization: `Bearer ${token}`, ...(call.body ? { 'content-type': 'application/json' } : {}) },
        body: call.body ? JSON.stringify(call.body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      })
      await res.arrayBuffer()
      const status = String(res.status)
      result.sent++
      result.byStatus[status] = (result.byStatus[status] ?? 0) + 1
      const r = (result.byRoute[call.route] ??= {})
      r[status] = (r[status] ?? 0) + 1
    } catch {
      result.failed++
    }
  }

  const chooseKind = (): RequestKind => {
    let x = random() * totalWeight
    for (const k of kinds) if ((x -= mix[k]) < 0) return k
    return kinds[kinds.length - 1]!
  }

  while (started < count && !options.signal?.aborted) {
    const elapsed = performance.now() - t0
    if (elapsed >= durationMs) break
    const due = Math.min(count, Math.floor((elapsed * options.rps) / 1000) + 1)
    while (started < due) {
      started++
      if (inFlight >= concurrency) {
        result.skipped++
        continue
      }
      const user = pick(DEMO_USERS)
      const call = REQUESTS[chooseKind()](user, pick)
      inFlight++
      const p = one(call, tokens.get(user.id)!).finally(() => {
        inFlight--
        pending.delete(p)
      })
      pending.add(p)
    }
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(20, 1000 / options.rps))))
  }
  await Promise.all(pending)
  result.durationMs = Math.round(performance.now() - t0)
  return result
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const USAGE = `tsx src/demo/traffic.ts --url URL [--rps N] [--duration SECONDS | --count N] [--concurrency N] [--mix kind=weight,...] [--seed N]

  --url          the demo API (e.g. http://localhost:3000)
  --rps          target requests per second (default 20)
  --duration     seconds of traffic (default 60 unless --count is given)
  --count        stop after N requests
  --concurrency  requests in flight at most (default 32)
  --mix          weights over the default mix, e.g. auditExport=0.25,adminUsers=0
                 kinds: ${Object.keys(REQUESTS).join(', ')}
  DEMO_JWT_SECRET  the API's HS256 secret (default: the demo secret)`

export async function main(argv: string[]): Promise<number> {
  const args = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--help' || a === '-h') {
      console.log(USAGE)
      return 0
    }
    if (!a.startsWith('--')) {
      console.error(`unexpected argument "${a}"\n\n${USAGE}`)
      return 2
    }
    const [k, inline] = a.slice(2).split('=', 2) as [string, string | undefined]
    const v = inline ?? argv[++i]
    if (v === undefined) {
      console.error(`--${k} needs a value`)
      return 2
    }
    args.set(k, v)
  }
  const known = ['url', 'rps', 'duration', 'count', 'concurrency', 'mix', 'seed']
  for (const k of args.keys()) if (!known.includes(k)) {
    console.error(`unknown option --${k}\n\n${USAGE}`)
    return 2
  }
  const num = (k: string, d?: number) => {
    const raw = args.get(k)
    if (raw === undefined) return d
    const n = Number(raw)
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k} ${raw}: expected a positive number`)
    return n
  }
  const url = args.get('url')
  if (!url) {
    console.error(`--url is required\n\n${USAGE}`)
    return 2
  }
  const mix: Partial<Record<RequestKind, number>> = {}
  for (const pair of (args.get('mix') ?? '').split(',').filter(Boolean)) {
    const [k, w] = pair.split('=')
    if (!k || !(k in REQUESTS) || !Number.isFinite(Number(w))) {
      console.error(`--mix ${pair}: expected kind=weight with kind one of ${Object.keys(REQUESTS).join(', ')}`)
      return 2
    }
    mix[k as RequestKind] = Number(w)
  }
  const count = num('count')
  const controller = new AbortController()
  process.once('SIGINT', () => controller.abort())
  process.once('SIGTERM', () => controller.abort())
  const res = await runTraffic({ url, rps: num('rps', 20)!, durationMs: count !== undefined && !args.has('duration') ? undefined : num('duration', 60)! * 1000, count, concurrency: num('concurrency'), mix, seed: num('seed'), signal: controller.signal })
  console.log(JSON.stringify(res, null, 2))
  return res.failed > 0 && res.sent === 0 ? 1 : 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`traffic: ${err.message}`)
      process.exit(2)
    },
  )
}
