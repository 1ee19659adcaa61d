// Express 5 integration: tenant context from a verified JWT, route-template metrics, /metrics,
// and the error mapping of blocked queries.
export { tenantContext, type TenantContextOptions, type AuthFailure } from './auth.ts'
export { requestMetrics, httpMetrics, metricsHandler, HTTP_DURATION_BUCKETS, type HttpMetrics } from './metrics.ts'
export { tenantErrorHandler, type ErrorHandlerOptions } from './errors.ts'
export { routeTemplate, trackRoute, UNMATCHED_ROUTE } from './route.ts'
