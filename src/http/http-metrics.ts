// HTTP request metrics in the app's Registry (the one the enforcement extension uses), so that
// blocked queries / requests is one scrape: the denominator of every error-rate alert. Framework
// free: the Express, Fastify and Web adapters all count through these.
import { Counter, Histogram, type Registry } from 'prom-client'
import { METRIC } from '../telemetry/metric-names.ts'

export interface HttpMetrics {
  readonly requests: Counter<'method' | 'route' | 'status'>
  readonly duration: Histogram<'method' | 'route' | 'status'>
}

/** Seconds; an API answering in milliseconds, with room for a slow dependency. */
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const LABELS = ['method', 'route', 'status'] as const

/**
 * The HTTP metrics of a registry: registered once, reused when the registry already has them
 * (registering a name twice in one registry throws).
 */
export function httpMetrics(registry: Registry): HttpMetrics {
  const requests = registry.getSingleMetric(METRIC.httpRequests) ?? new Counter({ name: METRIC.httpRequests, help: 'HTTP requests, by method, route template and status.', labelNames: LABELS, registers: [registry] })
  const duration = registry.getSingleMetric(METRIC.httpDuration) ?? new Histogram({ name: METRIC.httpDuration, help: 'HTTP request duration in seconds, by method, route template and status.', labelNames: LABELS, buckets: HTTP_DURATION_BUCKETS, registers: [registry] })
  if (!(requests instanceof Counter)) throw new Error(`registry already has ${METRIC.httpRequests} and it is not a Counter`)
  if (!(duration instanceof Histogram)) throw new Error(`registry already has ${METRIC.httpDuration} and it is not a Histogram`)
  return { requests: requests as Counter<'method' | 'route' | 'status'>, duration: duration as Histogram<'method' | 'route' | 'status'> }
}
