// Names that live on a subpath entry (tenantfence/express, /web, /fastify, /vitest, /jest), not on
// the main one: adapters have their own entries so that the runtime never loads a framework. Taken
// from 'tenantfence' by habit, each is a stub that says where it lives: its type refuses any call at
// compile time (an editor shows the @deprecated note with the right import), and a call that runs
// anyway throws, naming the subpath. Without them an ESM import fails with Node's "does not provide
// an export named …", and a CommonJS require gives undefined.

export class TenantMovedExportError extends Error {
  readonly code = 'TENANTFENCE_MOVED_EXPORT'
  constructor(
    readonly exportName: string,
    readonly subpath: string,
    also?: string,
  ) {
    super(`"${exportName}" is not exported by 'tenantfence': import { ${exportName} } from '${subpath}'${also ? ` (or '${also}')` : ''}`)
    this.name = 'TenantMovedExportError'
  }
}

/** A stub that no call type-checks against, and that throws when called. */
type Moved = (...args: never[]) => never

function moved(name: string, subpath: string, also?: string): Moved {
  return () => {
    throw new TenantMovedExportError(name, subpath, also)
  }
}

/** @deprecated Not on the main entry: `import { tenantContext } from 'tenantfence/express'`. */
export const tenantContext: Moved = moved('tenantContext', 'tenantfence/express')
/** @deprecated Not on the main entry: `import { requestMetrics } from 'tenantfence/express'`. */
export const requestMetrics: Moved = moved('requestMetrics', 'tenantfence/express')
/** @deprecated Not on the main entry: `import { metricsHandler } from 'tenantfence/express'`. */
export const metricsHandler: Moved = moved('metricsHandler', 'tenantfence/express')
/** @deprecated Not on the main entry: `import { tenantErrorHandler } from 'tenantfence/express'`. */
export const tenantErrorHandler: Moved = moved('tenantErrorHandler', 'tenantfence/express')
/** @deprecated Not on the main entry: `import { trackRoute } from 'tenantfence/express'`. */
export const trackRoute: Moved = moved('trackRoute', 'tenantfence/express')
/** @deprecated Not on the main entry: `import { fastifyRoute } from 'tenantfence/fastify'`. */
export const fastifyRoute: Moved = moved('fastifyRoute', 'tenantfence/fastify')
/** @deprecated Not on the main entry: `import { webTenantContext } from 'tenantfence/web'`. */
export const webTenantContext: Moved = moved('webTenantContext', 'tenantfence/web')
/** @deprecated Not on the main entry: `import { withTenant } from 'tenantfence/web'`. */
export const withTenant: Moved = moved('withTenant', 'tenantfence/web')
/** @deprecated Not on the main entry: `import { honoTenantContext } from 'tenantfence/web'`. */
export const honoTenantContext: Moved = moved('honoTenantContext', 'tenantfence/web')
/** @deprecated Not on the main entry: `import { allowTenantViolations } from 'tenantfence/vitest'` (or 'tenantfence/jest'). */
export const allowTenantViolations: Moved = moved('allowTenantViolations', 'tenantfence/vitest', 'tenantfence/jest')
