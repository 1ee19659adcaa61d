// The route template of a request (`/api/users/:id`), never its raw path: raw paths carry ids,
// and an id in a metric label or a violation's endpoint is an unbounded series per user.
import type { Request } from 'express'
import { UNMATCHED_ROUTE } from './labels.ts'

export { UNMATCHED_ROUTE }

const tracked = new WeakMap<Request, string>()

/**
 * Remember `req.baseUrl + route.path` at the moment the router matches a route. Express restores
 * `req.baseUrl` when an error leaves a sub-router, so reading it later (in the error handler,
 * when the response finishes) would lose the mount path. Called by requestMetrics() and
 * tenantContext(); idempotent.
 */
export function trackRoute(req: Request): void {
  const own = Object.getOwnPropertyDescriptor(req, 'route')
  if (own?.set) return
  let value: unknown = req.route
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => value,
    set(v: unknown) {
      value = v
      const path = (v as { path?: unknown } | undefined)?.path
      if (typeof path === 'string') tracked.set(req, (req.baseUrl ?? '') + path || '/')
    },
  })
}

/** Record a template found another way (probeRoute, for a request refused before routing). */
export function rememberRoute(req: Request, template: string | undefined): void {
  if (template !== undefined && !tracked.has(req)) tracked.set(req, template)
}

interface RouterLayer {
  match(path: string): boolean | { path: string; pattern?: unknown }
  route?: { path: unknown; _handlesMethod?(method: string): boolean }
  handle?: { stack?: unknown }
  path?: string
}

/**
 * The template of the route this request would reach, found without running it: the app's
 * router stack walked as the router would (sub-routers included), for requests refused before
 * routing (a 401 from the tenant middleware). Express keeps this in its router's internals; when
 * they are not as expected, the answer is undefined (the label stays "unmatched").
 */
export function probeRoute(req: Request): string | undefined {
  try {
    const router = (req.app as unknown as { router?: { stack?: unknown } }).router
    return walk(router?.stack, req.path, req.method, '')
  } catch {
    return undefined
  }
}

function walk(stack: unknown, path: string, method: string, base: string): string | undefined {
  if (!Array.isArray(stack)) return undefined
  for (const layer of stack as RouterLayer[]) {
    if (typeof layer?.match !== 'function') continue
    const m = layer.match(path)
    if (!m) continue
    // router ≥ 2.3 returns the match (the registered pattern included); 2.2 sets layer.path
    const matched = typeof m === 'object' ? m.path : (layer.path ?? '')
    if (layer.route) {
      if (typeof layer.route.path === 'string' && layer.route._handlesMethod?.(method) !== false) return base + layer.route.path || '/'
      continue
    }
    if (layer.handle && Array.isArray(layer.handle.stack)) {
      const pattern = typeof m === 'object' && typeof m.pattern === 'string' ? m.pattern : matched
      const inner = walk(layer.handle.stack, path.slice(matched.length) || '/', method, base + (pattern === '/' ? '' : pattern))
      if (inner) return inner
    }
  }
  return undefined
}

/**
 * The matched route's template: the mount path plus the route path as registered, or
 * "unmatched". Mount paths with parameters (`/tenants/:tid`) appear with their matched value
 * (Express keeps no template for them): mount routers on fixed paths.
 */
export function routeTemplate(req: Request): string {
  const t = tracked.get(req)
  if (t !== undefined) return t
  const path = (req.route as { path?: unknown } | undefined)?.path
  return typeof path === 'string' ? (req.baseUrl ?? '') + path || '/' : UNMATCHED_ROUTE
}
