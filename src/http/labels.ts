// Request-metric labels every adapter shares: bounded methods, the route template or
// "unmatched", the status as a string. One place, so Express, Fastify and Web series agree.
import type { HttpMetrics } from './http-metrics.ts'

/** Label of requests that matched no route (404s; a refused request whose route cannot be found). */
export const UNMATCHED_ROUTE = 'unmatched'

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/** Count one finished request; a metric never fails a request. */
export function recordRequest(m: HttpMetrics | undefined, method: string, route: string, status: number | string, seconds: number): void {
  if (!m) return
  try {
    const labels = { method: METHODS.has(method) ? method : 'OTHER', route, status: String(status) }
    m.requests.inc(labels)
    m.duration.observe(labels, seconds)
  } catch {
    // a metric must never fail a request
  }
}
