import type { ViolationKind } from '../telemetry/metric-names.ts'

/** Thrown (as the query's rejection) when a query is blocked. HTTP maps it to 403 with its code. */
export class TenantContextRequiredError extends Error {
  readonly code = 'TENANT_CONTEXT_REQUIRED' as const
  constructor(
    readonly model: string,
    /** the Prisma operation (findMany, updateMany, $queryRaw, …) */
    readonly action: string,
    readonly violation: ViolationKind,
    /** where in the query's arguments (`where.OR[1]`, `data.userRoles.create[2].roleId`): what to fix; never a value */
    readonly path: string = '',
    /** what leads to the fix, when the check has more to say than the kind (an owned row's owner relation) */
    readonly detail?: string,
  ) {
    super(`TENANT_CONTEXT_REQUIRED: ${model}`)
    this.name = 'TenantContextRequiredError'
  }
}

export function isTenantContextRequiredError(err: unknown): err is TenantContextRequiredError {
  return err instanceof TenantContextRequiredError || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'TENANT_CONTEXT_REQUIRED')
}

/**
 * Thrown synchronously by runWithTenant / withoutTenantEnforcement when the context they are given
 * cannot be a request's: a missing, null, blank, negative or non-integer tenant id is a programming
 * error, never "no request" (which would let a query that names any one tenant through). The
 * message names the field and the type of the bad value, never the value itself.
 */
export class TenantContextInvalidError extends TypeError {
  readonly code = 'TENANT_CONTEXT_INVALID' as const
  constructor(
    /** the field that was refused: tenantId, userId, endpoint, method, reason, actor or context */
    readonly field: string,
    /** what was given, as a type ("null", "a blank string", "a negative number"), never the value */
    readonly got: string,
    expected: string,
  ) {
    super(`TENANT_CONTEXT_INVALID: ${field} must be ${expected}; got ${got}`)
    this.name = 'TenantContextInvalidError'
  }
}

/** Hardened mode: a query extension was added after tenantfence (it would run after the check). */
export class TenantExtensionOrderError extends Error {
  readonly code = 'TENANT_EXTENSION_ORDER' as const
  constructor(readonly extension: string) {
    super(
      `TENANT_EXTENSION_ORDER: the query extension "${extension}" was added after tenantfence; it would run after the ` +
        'check and could change what was checked. Add it before tenantfence: tenantfence must be the last $extends.',
    )
    this.name = 'TenantExtensionOrderError'
  }
}
