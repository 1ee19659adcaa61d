// The last error handler: a blocked query is a 403 with its code and model, nothing else of the
// query; anything else is a 500 that tells the client nothing about the internals.
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express'
import { isTenantContextRequiredError } from '../enforcement/errors.ts'
import type { Logger } from '../telemetry/logger.ts'
import { routeTemplate } from './route.ts'
import { UNHANDLED_MESSAGE, unhandledErrorLine } from './unhandled.ts'

export interface ErrorHandlerOptions {
  /**
   * where unexpected errors are logged: type, code, model, operation, sanitized arguments and the
   * app's stack frames (errorFields); never the message, which may quote the query's values
   */
  logger?: Pick<Logger, 'error'>
}

/**
 * `TenantContextRequiredError` → 403 `{ "error": "TENANT_CONTEXT_REQUIRED", "model": "<Model>" }`;
 * client errors Express already classified (malformed JSON, bad parameter encoding) → their 4xx
 * status with a generic code; everything else → 500 `{ "error": "INTERNAL_ERROR" }`.
 */
export function tenantErrorHandler(options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  return function tenantfenceErrorHandler(err: unknown, req: Request, res: Response, next: NextFunction) {
    if (res.headersSent) return next(err)
    if (isTenantContextRequiredError(err)) {
      res.status(403).json({ error: 'TENANT_CONTEXT_REQUIRED', model: err.model })
      return
    }
    const status = Number((err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode)
    if (Number.isInteger(status) && status >= 400 && status < 500) {
      res.status(status).json({ error: status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST' })
      return
    }
    try {
      options.logger?.error(unhandledErrorLine(err, routeTemplate(req), req.method), UNHANDLED_MESSAGE)
    } catch {
      // logging must not turn a 500 into a hang
    }
    res.status(500).json({ error: 'INTERNAL_ERROR' })
  }
}
