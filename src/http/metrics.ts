// Express: request metrics and the /metrics endpoint, on the shared HTTP metrics (http-metrics.ts).
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { Registry } from 'prom-client'
import { httpMetrics } from './http-metrics.ts'
import { recordRequest, UNMATCHED_ROUTE } from './labels.ts'
import { probeRoute, routeTemplate, trackRoute } from './route.ts'

export { httpMetrics, HTTP_DURATION_BUCKETS, type HttpMetrics } from './http-metrics.ts'
export { metricsListener, type MetricsListener, type MetricsListenerOptions } from './metrics-listener.ts'

/**
 * Middleware counting every request when its response finishes (or the client goes away: status
 * "499"). Mount it first, before authentication, so refused requests are counted too.
 */
export function requestMetrics(options: { registry: Registry }): RequestHandler {
  const m = httpMetrics(options.registry)
  return function requestMetricsMiddleware(req: Request, res: Response, next: NextFunction) {
    const start = performance.now()
    let done = false
    const record = (finished: boolean) => {
      if (done) return
      done = true
      // Aborted: the client went away before the response was sent, or before its own body was
      // read (a 400 "request aborted" written to a closed socket is no answer the client saw).
      const aborted = !finished || req.readableAborted
      const route = aborted ? abortedRoute(req) : routeTemplate(req)
      recordRequest(m, req.method, route, aborted ? 499 : res.statusCode, (performance.now() - start) / 1000)
    }
    trackRoute(req)
    res.once('finish', () => record(true))
    res.once('close', () => record(res.writableFinished))
    next()
  }
}

/**
 * The route an aborted request was counted under: the one it matched, or (aborted before routing,
 * mid-body or during authentication) the one it asked for, found by walking the router.
 */
function abortedRoute(req: Request): string {
  const matched = routeTemplate(req)
  return matched !== UNMATCHED_ROUTE ? matched : (probeRoute(req) ?? UNMATCHED_ROUTE)
}

/**
 * GET handler serving the registry in the Prometheus text format, on exactly the path it is
 * registered with: Express matches routes case-insensitively and with a trailing slash, so
 * `/METRICS` and `/metrics/` would reach it too and slip past a proxy rule on `/metrics`; they get
 * a 404. Prefer metricsListener(): a port of its own, never published, instead of a public route.
 */
export function metricsHandler(registry: Registry): RequestHandler {
  return async function metricsEndpoint(req: Request, res: Response, next: NextFunction) {
    const registered = (req.route as { path?: unknown } | undefined)?.path
    if (typeof registered === 'string' && req.path !== registered) return next()
    const body = await registry.metrics()
    res.setHeader('Content-Type', registry.contentType)
    res.send(body)
  }
}
