// `tenantfence/web`: Web-standard `Request` → `Response` handlers (Next.js route handlers, Hono,
// any fetch-style server). The token and tenant steps are the shared core (src/http/core.ts);
// the route template comes from the caller, since only the framework knows it.
import type { Registry } from 'prom-client'
import { tenantStorage } from '../enforcement/context.ts'
import { isTenantContextRequiredError } from '../enforcement/errors.ts'
import { publicMatcher, requestStore, tenantAuthenticator, type TenantAuthOptions } from '../http/core.ts'
import { recordRequest, UNMATCHED_ROUTE } from '../http/labels.ts'
import { httpMetrics } from '../http/http-metrics.ts'
import { UNHANDLED_MESSAGE, unhandledErrorLine } from '../http/unhandled.ts'
import type { Logger } from '../telemetry/logger.ts'

export type { AuthFailure, IdType, TenantClaims, TenantId } from '../http/core.ts'
export { metricsListener, type MetricsListener, type MetricsListenerOptions } from '../http/metrics-listener.ts'

export interface WebTenantOptions extends TenantAuthOptions<Request> {
  /** Paths that need no token and get no context: exact, `/prefix/*` or RegExps, tested against the URL path. */
  publicPaths?: Array<string | RegExp>
  /** Count every request in this registry (http_requests_total, http_request_duration_seconds). */
  registry?: Registry
  /**
   * With a logger, an error the handler throws (other than a blocked query) is answered 500
   * `{ error: "INTERNAL_ERROR" }` and logged as HTTP_UNHANDLED_ERROR (type, code, model, operation,
   * sanitized arguments, app frames: never the message). Without one it is rethrown to the framework.
   */
  logger?: Pick<Logger, 'error'>
}

export interface WebTenantGuard {
  /**
   * Run `handler` as the request's tenant and return its response, or the refusal (401/403 JSON).
   * `route` is the route template (`/api/users/[id]`, `/api/users/:id`): the endpoint label of
   * metrics and violations, for refused requests too. A blocked query becomes 403
   * `{ error: "TENANT_CONTEXT_REQUIRED", model }`.
   */
  handle(request: Request, route: string, handler: () => Response | Promise<Response>): Promise<Response>
}

export function webTenantContext(options: WebTenantOptions): WebTenantGuard {
  const authenticate = tenantAuthenticator<Request>(options)
  const isPublic = publicMatcher(options.publicPaths ?? [])
  const metrics = options.registry ? httpMetrics(options.registry) : undefined

  return {
    async handle(request, route, handler) {
      const start = performance.now()
      const label = route || UNMATCHED_ROUTE
      let response: Response
      try {
        response = await respond(request, label, handler)
      } catch (err) {
        recordRequest(metrics, request.method, label, request.signal.aborted ? 499 : 500, (performance.now() - start) / 1000)
        throw err
      }
      // The server aborts the request's signal when the client goes away (Node adapters of Hono,
      // Next.js): what it answers then reaches nobody, so it is counted as 499.
      recordRequest(metrics, request.method, label, request.signal.aborted ? 499 : response.status, (performance.now() - start) / 1000)
      return response
    },
  }

  async function respond(request: Request, route: string, handler: () => Response | Promise<Response>): Promise<Response> {
    if (isPublic(new URL(request.url).pathname)) return handler()
    const outcome = await authenticate(request, (name) => request.headers.get(name) ?? undefined)
    if (!outcome.ok) return Response.json(outcome.body, { status: outcome.status, headers: outcome.headers })
    const store = requestStore(outcome, request.method, route)
    try {
      return await tenantStorage.run(store, async () => await handler())
    } catch (err) {
      if (isTenantContextRequiredError(err)) return Response.json({ error: 'TENANT_CONTEXT_REQUIRED', model: err.model }, { status: 403 })
      if (!options.logger) throw err
      try {
        options.logger.error(unhandledErrorLine(err, route, request.method), UNHANDLED_MESSAGE)
      } catch {
        // logging must not turn a 500 into a crash
      }
      return Response.json({ error: 'INTERNAL_ERROR' }, { status: 500 })
    }
  }
}

/**
 * A Next.js route handler (or any `(request, ...rest) => Response`) run as the request's tenant:
 * `export const GET = withTenant(guard, '/api/users/[id]', async (req, { params }) => Response.json(...))`.
 */
export function withTenant<Rest extends unknown[]>(guard: WebTenantGuard, route: string, handler: (request: Request, ...rest: Rest) => Response | Promise<Response>) {
  return (request: Request, ...rest: Rest): Promise<Response> => guard.handle(request, route, () => handler(request, ...rest))
}

/** The slice of Hono's context this adapter reads (typed here so that the package needs no hono types). */
export interface HonoLikeContext {
  req: { raw: Request; matchedRoutes?: ReadonlyArray<{ path: string }>; routePath?: string }
  res: Response
  /** the error a handler threw, kept by Hono after its onError answered */
  error?: unknown
}

/**
 * Hono middleware: `app.use('/api/*', honoTenantContext(guard))`. The route label is the path the
 * matched handler was registered with (the last matched route, as `routePath(c, -1)` in hono/route);
 * pass `route` to choose it yourself.
 */
export function honoTenantContext(guard: WebTenantGuard, options: { route?: (c: HonoLikeContext) => string } = {}) {
  const routeOf = options.route ?? ((c: HonoLikeContext) => c.req.matchedRoutes?.at(-1)?.path ?? UNMATCHED_ROUTE)
  return async function tenantfenceHono(c: HonoLikeContext, next: () => Promise<void>): Promise<Response> {
    const res = await guard.handle(c.req.raw, routeOf(c), async () => {
      await next()
      // Hono catches a handler's error itself (its onError answers 500 and keeps the error in
      // c.error): take it back, so a blocked query is the 403 it is and an unexpected error gets
      // the guard's answer and line (with `logger`), as in every other adapter.
      if (c.error !== undefined) {
        const err = c.error
        c.error = undefined
        throw err
      }
      return c.res
    })
    c.res = res
    return res
  }
}
