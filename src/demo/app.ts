// The demo API of the rollout document, written the way a team has it on day one: most queries
// scoped to the request's tenant, a few not (see fixes.ts). Each broken path has its fixed
// version next to it, switched on at run time through the `fixes` set.
import express, { type Request, type Response } from 'express'
import type { Registry } from 'prom-client'
import type { TenantFenceConfig } from '../config/schema.ts'
import { getTenantContext } from '../enforcement/context.ts'
import { requestMetrics, tenantContext, tenantErrorHandler, type TenantContextOptions } from '../http/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { DemoFix } from './fixes.ts'
import type { PrismaClient } from './generated/prisma/client.ts'
import { DEMO_JWT_SECRET } from './tokens.ts'

export interface DemoAppOptions {
  /** the enforced client, or a function returning the one in use (the demo swaps in a hardened client for phase 4) */
  prisma: PrismaClient | (() => PrismaClient)
  config: TenantFenceConfig
  /** the registry the extension reports into; the HTTP metrics use it too */
  registry: Registry
  logger?: Logger
  /** fixes deployed so far (read per request: add to it to "deploy" a fix) */
  fixes?: Set<DemoFix>
  /** token verification (default: HS256 with the demo secret, claims tenantId and sub) */
  auth?: Partial<TenantContextOptions>
}

export function createDemoApp(options: DemoAppOptions): express.Express {
  const db = typeof options.prisma === 'function' ? options.prisma : () => options.prisma as PrismaClient
  const fixes = options.fixes ?? new Set<DemoFix>()
  const fixed = (f: DemoFix) => fixes.has(f)
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)

  app.use(requestMetrics({ registry: options.registry }))
  // No /metrics here: the demo server serves it on a listener of its own (METRICS_PORT), never
  // on the API's port (src/demo/serve.ts, metricsListener).
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true })
  })
  app.use(express.json({ limit: '16kb' }))
  const auth: TenantContextOptions = options.auth?.jwks ? { ...options.auth } : { secret: DEMO_JWT_SECRET, ...options.auth }
  app.use(tenantContext({ idType: 'number', ...auth }))

  // ── users ──────────────────────────────────────────────────────────────────────────────────
  app.get('/api/users/:id', async (req, res) => {
    const { tenantId } = ctx()
    const user = await db().user.findFirst({ where: { id: intParam(req, 'id'), tenantId }, select: { id: true, email: true, isActive: true } })
    sendOr404(res, user)
  })

  app.get('/api/admin/users', async (_req, res) => {
    const { tenantId } = ctx()
    const users = fixed('admin-users-tenant')
      ? await db().user.findMany({ where: { tenantId, isActive: true }, select: { id: true, email: true }, orderBy: { id: 'asc' }, take: 50 })
      : await db().user.findMany({ where: { isActive: true }, select: { id: true, email: true }, orderBy: { id: 'asc' }, take: 50 }) // BUG: no tenantId
    res.json({ users })
  })

  app.get('/api/users/:id/roles', async (req, res) => {
    const { tenantId } = ctx()
    const userId = intParam(req, 'id')
    const roles = fixed('user-roles-relation')
      ? await db().userRole.findMany({ where: { userId, user: { tenantId } }, include: { role: { select: { id: true, name: true } } } })
      : await db().userRole.findMany({ where: { userId }, include: { role: { select: { id: true, name: true } } } }) // BUG: no user.tenantId
    res.json({ roles: roles.map((r) => r.role) })
  })

  // ── roles and permissions ─────────────────────────────────────────────────────────────────
  app.get('/api/roles', async (_req, res) => {
    const { tenantId } = ctx()
    res.json({ roles: await db().role.findMany({ where: { tenantId }, select: { id: true, name: true }, orderBy: { id: 'asc' } }) })
  })

  app.get('/api/admin/roles', async (_req, res) => {
    const { tenantId } = ctx()
    const include = { rolePermissions: { select: { permission: { select: { key: true } } } } }
    const roles = fixed('admin-roles-tenant')
      ? await db().role.findMany({ where: { tenantId, isActive: true }, include, orderBy: { id: 'asc' } })
      : await db().role.findMany({ where: { isActive: true }, include, orderBy: { id: 'asc' } }) // BUG: no tenantId
    res.json({ roles: roles.map((r) => ({ id: r.id, name: r.name, permissions: r.rolePermissions.map((p) => p.permission.key) })) })
  })

  app.get('/api/roles/:id/permissions', async (req, res) => {
    const { tenantId } = ctx()
    const roleId = intParam(req, 'id')
    const rows = fixed('role-permissions-relation')
      ? await db().rolePermission.findMany({ where: { roleId, role: { tenantId } }, select: { permission: { select: { key: true } } } })
      : await db().rolePermission.findMany({ where: { roleId }, select: { permission: { select: { key: true } } } }) // BUG: no role.tenantId
    res.json({ permissions: rows.map((r) => r.permission.key) })
  })

  // ── sessions, password resets, MFA ───────────────────────────────────────────────────────
  app.get('/api/secure/sessions', async (_req, res) => {
    const { tenantId, userId } = ctx()
    const select = { id: true, expiresAt: true }
    const sessions = fixed('sessions-relation-filter')
      ? await db().refreshToken.findMany({ where: { userId, user: { tenantId } }, select, orderBy: { id: 'asc' } })
      : await db().refreshToken.findMany({ where: { userId }, select, orderBy: { id: 'asc' } }) // BUG: no user.tenantId
    res.json({ sessions })
  })

  app.get('/api/password-resets/:id', async (req, res) => {
    const { tenantId } = ctx()
    const id = intParam(req, 'id')
    const select = { id: true, expiresAt: true }
    const token = fixed('password-reset-by-id')
      ? await db().passwordResetToken.findFirst({ where: { id, user: { tenantId } }, select })
      : await db().passwordResetToken.findUnique({ where: { id }, select }) // BUG: by id alone
    sendOr404(res, token && { id: token.id, valid: token.expiresAt.getTime() > Date.now() })
  })

  app.get('/api/mfa/backup-codes', async (_req, res) => {
    const { tenantId, userId } = ctx()
    res.json({ remaining: await db().mfaBackupCode.count({ where: { userId, usedAt: null, user: { tenantId } } }) })
  })

  // ── audit log and security alerts ────────────────────────────────────────────────────────
  app.get('/api/audit-log', async (_req, res) => {
    const { tenantId } = ctx()
    res.json({ entries: await db().auditLog.findMany({ where: { tenantId }, select: { id: true, userId: true, action: true, createdAt: true }, orderBy: { id: 'desc' }, take: 20 }) })
  })

  app.post('/api/audit-log', async (req, res) => {
    const { tenantId, userId } = ctx()
    const action = (req.body as { action?: unknown } | undefined)?.action
    if (typeof action !== 'string' || !/^[a-z_]{1,64}$/.test(action)) {
      res.status(400).json({ error: 'BAD_REQUEST' })
      return
    }
    const entry = await db().auditLog.create({ data: { tenantId, userId, action }, select: { id: true } })
    res.status(201).json(entry)
  })

  app.get('/api/admin/audit-export', async (_req, res) => {
    const { tenantId } = ctx()
    const since = new Date(Date.now() - 31 * 24 * 3_600_000)
    const select = { id: true, userId: true, action: true, createdAt: true }
    const entries = fixed('audit-export-tenant')
      ? await db().auditLog.findMany({ where: { tenantId, createdAt: { gte: since } }, select, orderBy: { id: 'asc' }, take: 500 })
      : await db().auditLog.findMany({ where: { createdAt: { gte: since } }, select, orderBy: { id: 'asc' }, take: 500 }) // BUG: no tenantId
    res.json({ count: entries.length })
  })

  app.get('/api/security-alerts', async (_req, res) => {
    const { tenantId } = ctx()
    res.json({ alerts: await db().securityAlert.findMany({ where: { tenantId }, select: { id: true, kind: true, createdAt: true }, orderBy: { id: 'desc' }, take: 20 }) })
  })

  app.patch('/api/security-alerts/:id/assignee', async (req, res) => {
    const { tenantId } = ctx()
    const id = intParam(req, 'id')
    const assignee = (req.body as { userId?: unknown } | undefined)?.userId
    if (typeof assignee !== 'number' || !Number.isSafeInteger(assignee) || assignee < 0) {
      res.status(400).json({ error: 'BAD_REQUEST' })
      return
    }
    const select = { id: true, userId: true }
    try {
      const alert = fixed('alert-assignee-reference')
        ? await db().securityAlert.update({ where: { id, tenantId }, data: { user: { connect: { id: assignee, tenantId } } }, select })
        : await db().securityAlert.update({ where: { id, tenantId }, data: { userId: assignee }, select }) // BUG: any tenant's user
      res.json(alert)
    } catch (err) {
      // P2025: no alert of this tenant, or (fixed) no user of this tenant with that id
      if ((err as { code?: unknown }).code === 'P2025') res.status(404).json({ error: 'NOT_FOUND' })
      else throw err
    }
  })

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'NOT_FOUND' })
  })
  app.use(tenantErrorHandler({ logger: options.logger }))
  return app
}

/** The request's tenant and user as the Int ids of the demo schema. */
function ctx(): { tenantId: number; userId: number | undefined } {
  const c = getTenantContext()
  if (c?.tenantId === undefined) throw new Error('no tenant context: the route is not behind tenantContext()')
  return { tenantId: Number(c.tenantId), userId: c.userId === undefined ? undefined : Number(c.userId) }
}

function intParam(req: Request, name: string): number {
  const v = Number(req.params[name])
  if (!Number.isSafeInteger(v) || v < 0) throw Object.assign(new Error(`bad ${name}`), { status: 400 })
  return v
}

function sendOr404(res: Response, body: unknown): void {
  if (body === null || body === undefined) res.status(404).json({ error: 'NOT_FOUND' })
  else res.json(body)
}
