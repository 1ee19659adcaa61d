import type { ViolationKind } from '../telemetry/metric-names.ts'

/** Thrown (as the query's rejection) when a query is blocked. HTTP maps it to 403 with its code. */
export class TenantContextRequiredError extends Error {
  readonly code = 'TENANT_CONTEXT_REQUIRED' as const
  constructor(
    readonly model: string,
    /** the Prisma operation (findMany, updateMany, $queryRaw, …) */
    readonly action: string,
    readonly violation: ViolationKind,
  ) {
    super(`TENANT_CONTEXT_REQUIRED: ${model}`)
    this.name = 'TenantContextRequiredError'
  }
}

export function isTenantContextRequiredError(err: unknown): err is TenantContextRequiredError {
  return err instanceof TenantContextRequiredError || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'TENANT_CONTEXT_REQUIRED')
}
