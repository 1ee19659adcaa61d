// `tenantfence/fastify`: the tenant context of a Fastify request, from a verified JWT (or the
// app's resolveTenant), request metrics labelled with Fastify's route template, and blocked
// queries answered 403. The token and tenant steps are the shared core (src/http/core.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { tenantStorage } from '../enforcement/context.ts'
import { isTenantContextRequiredError } from '../enforcement/errors.ts'
import { publicMatcher, requestStore, tenantAuthenticator, type TenantAuthOptions } from '../http/core.ts'
import { recordRequest, UNMATCHED_ROUTE } from '../http/labels.ts'
import { httpMetrics } from '../http/http-metrics.ts'
import { UNHANDLED_MESSAGE, unhandledErrorLine } from '../http/unhandled.ts'

export type { AuthFailure, IdType, TenantClaims, TenantId } from '../http/core.ts'
export { metricsListener, type MetricsListener, type MetricsListenerOptions } from '../http/metrics-listener.ts'

export interface FastifyTenantOptions extends TenantAuthOptions<FastifyRequest> {
  /** Paths that need no token and get no context: exact, `/prefix/*` or RegExps, tested against the URL path. */
  publicPaths?: Array<string | RegExp>
  /** Count every request in this registry (http_requests_total, http_request_duration_seconds). */
  registry?: Registry
  /**
   * The plugin's error handler (default true): TenantContextRequiredError → 403 `{ error, model }`;
   * client errors (4xx: validation, bad JSON) as Fastify answers them; anything else → 500
   * `{ error: "INTERNAL_ERROR" }`, logged with request.log as HTTP_UNHANDLED_ERROR (type, code, model,
   * operation, sanitized arguments, app frames: never the message), nothing of it sent. `false` keeps yours.
   */
  mapErrors?: boolean
}

/** The route template of a request (`/api/users/:id`), or "unmatched" for a 404. */
export function fastifyRoute(request: FastifyRequest): string {
  return request.routeOptions?.url ?? UNMATCHED_ROUTE
}

/**
 * A Fastify plugin: `await app.register(tenantfence, { secret, resolveTenant })`. Its hooks apply
 * to the whole app (the plugin is not encapsulated). Refused requests: 401 UNAUTHENTICATED,
 * 403 TENANT_MISMATCH or TENANT_FORBIDDEN, labelled with their route.
 */
export function tenantfence(instance: FastifyInstance, options: FastifyTenantOptions, done: (err?: Error) => void): void {
  const authenticate = tenantAuthenticator<FastifyRequest>(options)
  const isPublic = publicMatcher(options.publicPaths ?? [])
  const metrics = options.registry ? httpMetrics(options.registry) : undefined
  const startOf = new WeakMap<FastifyRequest, number>()

  instance.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, next: (err?: Error) => void) => {
    if (metrics) startOf.set(request, performance.now())
    if (isPublic(request.url.split('?')[0]!)) return next()
    const header = (name: string) => {
      const v = request.headers[name]
      return Array.isArray(v) ? v[0] : v
    }
    authenticate(request, header).then(
      (outcome) => {
        if (!outcome.ok) {
          void reply.code(outcome.status).headers(outcome.headers).send(outcome.body)
          return
        }
        let store
        try {
          store = requestStore(outcome, request.method, () => fastifyRoute(request))
        } catch (err) {
          return next(err as Error)
        }
        // The rest of the lifecycle (hooks, handler) continues from next(), inside the context.
        tenantStorage.run(store, () => next())
      },
      (err: unknown) => next(err instanceof Error ? err : new Error(String(err))),
    )
  })
  if (metrics) {
    // A client that goes away before its answer (during authentication, mid-body, in the handler)
    // is counted once, as 499 under the route it asked for (Fastify routes before onRequest).
    const counted = new WeakSet<FastifyRequest>()
    const record = (request: FastifyRequest, status: number, seconds: number) => {
      if (counted.has(request)) return
      counted.add(request)
      recordRequest(metrics, request.method, fastifyRoute(request), status, seconds)
    }
    instance.addHook('onRequestAbort', (request: FastifyRequest, next: () => void) => {
      record(request, 499, (performance.now() - (startOf.get(request) ?? performance.now())) / 1000)
      next()
    })
    instance.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, next: () => void) => {
      record(request, request.raw.readableAborted === true ? 499 : reply.statusCode, reply.elapsedTime / 1000)
      next()
    })
  }
  if (options.mapErrors !== false) {
    instance.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
      if (isTenantContextRequiredError(err)) return reply.code(403).send({ error: 'TENANT_CONTEXT_REQUIRED', model: err.model })
      const status = Number((err as { statusCode?: unknown } | null)?.statusCode)
      if (Number.isInteger(status) && status >= 400 && status < 500) return reply.send(err)
      // request.log's own serializer would write the message and the raw stack: our fields instead
      request.log.error(unhandledErrorLine(err, fastifyRoute(request), request.method), UNHANDLED_MESSAGE)
      return reply.code(500).send({ error: 'INTERNAL_ERROR' })
    })
  }
  done()
}

// Not encapsulated: what fastify-plugin does, without the dependency.
Object.assign(tenantfence, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'tenantfence' })
