// Express 5: the tenant context of a request, from a verified JWT (and, when the app says so,
// from where it keeps the tenant: resolveTenant). The framework-agnostic steps live in core.ts.
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { tenantStorage } from '../enforcement/context.ts'
import { publicMatcher, requestStore, tenantAuthenticator, type TenantAuthOptions } from './core.ts'
import { probeRoute, rememberRoute, routeTemplate, trackRoute } from './route.ts'

export type { AuthFailure, IdType, ResolvedTenant, TenantClaims, TenantId } from './core.ts'

export interface TenantContextOptions extends TenantAuthOptions<Request> {
  /**
   * Requests that need no token and get no tenant context: exact paths (`/healthz`), prefixes
   * ending in `/*` (`/public/*`) or RegExps, tested against `req.path`. Routes mounted before
   * this middleware are public as well.
   */
  publicPaths?: Array<string | RegExp>
}

/**
 * Express middleware: verify the bearer token, then run the rest of the request inside the
 * tenant context (AsyncLocalStorage), so every Prisma query awaited by a handler sees it.
 * 401 `{ error: "UNAUTHENTICATED", reason }` for a missing, invalid or expired token or a missing
 * or unusable user/tenant claim; 403 `{ error: "TENANT_MISMATCH" }` when the tenant header names
 * another tenant; 403 `{ error: "TENANT_FORBIDDEN" }` when resolveTenant finds no membership.
 * A refused request is labelled with the route it asked for (metrics, logs), not "unmatched".
 */
export function tenantContext(options: TenantContextOptions): RequestHandler {
  const authenticate = tenantAuthenticator<Request>(options)
  const isPublic = publicMatcher(options.publicPaths ?? [])

  return async function tenantContextMiddleware(req: Request, res: Response, next: NextFunction) {
    if (isPublic(req.path)) return next()
    let outcome
    try {
      outcome = await authenticate(req, (name) => {
        const v = req.headers[name]
        return Array.isArray(v) ? v[0] : v
      })
    } catch (err) {
      return next(err) // resolveTenant failed or broke its contract: the app's error handler answers
    }
    trackRoute(req)
    if (!outcome.ok) {
      rememberRoute(req, probeRoute(req))
      for (const [k, v] of Object.entries(outcome.headers)) res.setHeader(k, v)
      res.status(outcome.status).json(outcome.body)
      return
    }
    let store
    try {
      store = requestStore(outcome, req.method, () => routeTemplate(req))
    } catch (err) {
      return next(err)
    }
    res.locals.tenant = store.context
    tenantStorage.run(store, next)
  }
}
