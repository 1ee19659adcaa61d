// `tenantfence/express`: Express 5 integration: tenant context from a verified JWT (or the app's
// own resolveTenant), route-template metrics, /metrics, and the error mapping of blocked queries.
export { tenantContext, type TenantContextOptions, type AuthFailure, type IdType, type ResolvedTenant, type TenantClaims, type TenantId } from './auth.ts'
export { requestMetrics, httpMetrics, metricsHandler, metricsListener, HTTP_DURATION_BUCKETS } from './metrics.ts'
export type { HttpMetrics, MetricsListener, MetricsListenerOptions } from './metrics.ts'
export { tenantErrorHandler, type ErrorHandlerOptions } from './errors.ts'
export { routeTemplate, trackRoute, probeRoute, UNMATCHED_ROUTE } from './route.ts'
