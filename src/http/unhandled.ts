// The HTTP_UNHANDLED_ERROR line of every adapter (Express, Fastify, Web): one shape, built from
// errorFields (never the error's message) and made safe like every tenantfence line.
import { errorFields } from '../telemetry/error-line.ts'
import { safeLine } from '../telemetry/safe-line.ts'

export const UNHANDLED_MESSAGE = 'HTTP_UNHANDLED_ERROR'
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

export function unhandledErrorLine(err: unknown, route: string, method: string): Record<string, unknown> {
  return safeLine({ err: errorFields(err), route, method: METHODS.has(method) ? method : 'OTHER' })
}
