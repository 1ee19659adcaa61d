// The route template of a request (`/api/users/:id`), never its raw path: raw paths carry ids,
// and an id in a metric label or a violation's endpoint is an unbounded series per user.
import type { Request } from 'express'

/** Label of requests that matched no route (404s, requests rejected before routing such as 401s). */
export const UNMATCHED_ROUTE = 'unmatched'

const cache = new WeakMap<Request, string>()

/**
 * `req.baseUrl + req.route.path` while a route handler runs, else "unmatched".
 *
 * Express restores `req.baseUrl` when an error leaves a sub-router, so the template is cached
 * the first time it is read inside the handler (a violation report, the response being sent).
 * Mount paths with parameters (`/tenants/:tid`) appear as their matched value in `baseUrl`:
 * mount routers on fixed paths, or register such routes on the app itself.
 */
export function routeTemplate(req: Request): string {
  const cached = cache.get(req)
  if (cached !== undefined) return cached
  const path = (req.route as { path?: unknown } | undefined)?.path
  if (typeof path !== 'string') return UNMATCHED_ROUTE
  const template = (req.baseUrl ?? '') + path || '/'
  cache.set(req, template)
  return template
}
