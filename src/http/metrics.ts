// Express: request metrics and the /metrics endpoint, on the shared HTTP metrics (http-metrics.ts).
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { Registry } from 'prom-client'
import { httpMetrics } from './http-metrics.ts'
import { recordRequest } from './labels.ts'
import { routeTemplate, trackRoute } from './route.ts'

export { httpMetrics, HTTP_DURATION_BUCKETS, type HttpMetrics } from './http-metrics.ts'

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
      recordRequest(m, req.method, routeTemplate(req), finished ? res.statusCode : 499, (performance.now() - start) / 1000)
    }
    trackRoute(req)
    res.once('finish', () => record(true))
    res.once('close', () => record(res.writableFinished))
    next()
  }
}

/** GET handler serving the registry in the Prometheus text format. */
export function metricsHandler(registry: Registry): RequestHandler {
  return async function metricsEndpoint(_req: Request, res: Response) {
    const body = await registry.metrics()
    res.setHeader('Content-Type', registry.contentType)
    res.send(body)
  }
}
