// tenantfence must be the last query extension. Prisma runs query extensions in the order they
// were added, each passing its arguments on to the next: one added after tenantfence runs after
// the check and can rewrite what was checked (drop the tenant filter, say). Prisma offers no
// hook for "an extension was added", so tenantfence's client carries its own `$extends`, which
// looks at what is added and hands it to Prisma's.
import type { Logger } from '../telemetry/logger.ts'
import { TenantExtensionOrderError } from './errors.ts'

type Extends = (this: unknown, extension: unknown) => unknown

/** The extension's name, or what it is; never more (it is logged). */
function nameOf(extension: object): string {
  const name = (extension as { name?: unknown }).name
  return typeof name === 'string' && name !== '' ? name.slice(0, 100) : 'unnamed'
}

/**
 * The `client` component of tenantfence's extension: a `$extends` that warns (TENANT_EXTENSION_ORDER)
 * when an extension with a `query` component is added after tenantfence, and refuses it in hardened
 * mode. Extensions given as functions (`Prisma.defineExtension(client => client.$extends({...}))`)
 * call this `$extends` themselves, so their object is seen too. Result, model and client components
 * cannot change a query's arguments and pass silently.
 */
export function extensionOrderGuard(
  client: { $extends: Extends },
  options: { logger: Logger; hardened: boolean },
): { $extends: Extends } {
  const prismaExtends = client.$extends
  return {
    $extends(this: unknown, extension: unknown) {
      const isObject = typeof extension === 'object' && extension !== null
      const query = isObject ? (extension as { query?: unknown }).query : undefined
      if (query !== undefined && query !== null && nameOf(extension as object) !== 'tenantfence') {
        const name = nameOf(extension as object)
        if (options.hardened) throw new TenantExtensionOrderError(name)
        try {
          const why = 'it runs after the check and can change a query\'s arguments after they were checked'
          const fix = 'Add it before tenantfence (tenantfence must be the last $extends).'
          options.logger.warn({ extension: name }, `TENANT_EXTENSION_ORDER: the query extension "${name}" was added after tenantfence: ${why}. ${fix}`)
        } catch {
          // a broken logger must not break the client
        }
      }
      return prismaExtends.call(this, extension)
    },
  }
}
