// The route template of a request (`/api/users/:id`), never its raw path: raw paths carry ids,
// and an id in a metric label or a violation's endpoint is an unbounded series per user.
import type { Request } from 'express'

/** Label of requests that matched no route (404s, requests refused before routing such as 401s). */
export const UNMATCHED_ROUTE = 'unmatched'

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
