// The request's tenant, carried by AsyncLocalStorage. Set and restored in one place
// (runWithTenant / withoutTenantEnforcement); read by the extension at query time.
import { AsyncLocalStorage } from 'node:async_hooks'

export interface TenantContext {
  tenantId?: string | number
  userId?: string | number
  /** route template (`/api/users/:id`), or a function resolving it when a violation is reported */
  endpoint?: string | (() => string | undefined)
  method?: string
}

export interface BypassScope {
  readonly reason: string
  readonly actor: string | undefined
  /** where withoutTenantEnforcement was called (captured once; bypasses are rare) */
  readonly stack: string | undefined
  /** set by the extension the first time the bypass is used / refused, so each is counted once */
  usedBy?: WeakSet<object>
  deniedBy?: WeakSet<object>
}

export interface TenantStore {
  readonly context: TenantContext | undefined
  readonly bypass: BypassScope | undefined
}

export const tenantStorage = new AsyncLocalStorage<TenantStore>()

/**
 * Run fn with this tenant context. Prisma's queries are lazy (they run when awaited), so the
 * callback's result is awaited inside the context: `runWithTenant(ctx, () => prisma.user.findMany())`
 * runs the query as this tenant.
 */
export function runWithTenant<T>(context: TenantContext, fn: () => T | PromiseLike<T>): Promise<Awaited<T>> {
  return tenantStorage.run({ context, bypass: undefined }, async (): Promise<Awaited<T>> => await fn())
}

export function getTenantContext(): TenantContext | undefined {
  return tenantStorage.getStore()?.context
}

export interface BypassOptions {
  /** why the bypass is needed; with BYPASS_REQUIRES_REASON (and always when hardened) it must be given, hardened: one of config.bypass.reasons */
  reason?: string
  /** who or what asked for it (a job name, an operator): logged, never a label */
  actor?: string
}

/**
 * Run fn with tenant enforcement lifted for tenant-owned queries. Whether the bypass is granted
 * is decided by each client's extension at query time (ALLOW_BYPASS, BYPASS_REQUIRES_REASON,
 * hardened reasons); a refused bypass leaves the queries to the normal check. Every granted
 * bypass is counted and logged with the stack of this call.
 */
export function withoutTenantEnforcement<T>(options: BypassOptions, fn: () => T | PromiseLike<T>): Promise<Awaited<T>> {
  const bypass: BypassScope = { reason: options.reason?.trim() ?? '', actor: options.actor, stack: new Error().stack }
  return tenantStorage.run({ context: tenantStorage.getStore()?.context, bypass }, async (): Promise<Awaited<T>> => await fn())
}
