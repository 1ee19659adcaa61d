// Who may bypass: the rollout document asks that a bypass need "explicit flag + reason +
// authorized user". The flags and reasons are checked in the extension; this file holds the third
// part, from the config's `bypass.actors` and `bypass.authorize`.
import type { BypassAuthorize, TenantFenceConfig } from '../config/schema.ts'
import type { BypassScope, TenantContext } from './context.ts'

export interface BypassPolicy {
  /** config.bypass.reasons: the documented reasons (hardened mode accepts only these) */
  readonly reasons: readonly string[]
  /** Why this actor may not bypass, or undefined when it may (or when the config names nobody). */
  refusal(scope: BypassScope, context: TenantContext | undefined): string | undefined
}

/** The actor of a bypass: the `actor` it was given, else the context's user. */
export function bypassActor(scope: BypassScope, context: TenantContext | undefined): string | undefined {
  return scope.actor ?? (context?.userId === undefined ? undefined : String(context.userId))
}

export function bypassPolicy(config: TenantFenceConfig): BypassPolicy {
  const { reasons, actors, authorize } = config.bypass
  const allowed = actors === undefined ? undefined : new Set(actors)
  if (allowed === undefined && authorize === undefined) return { reasons, refusal: () => undefined }
  return {
    reasons,
    refusal(scope, context) {
      const actor = bypassActor(scope, context)
      if (actor === undefined) {
        return 'no actor: pass withoutTenantEnforcement({ actor }) or run it in a context with a userId (bypass.actors / bypass.authorize is configured)'
      }
      if (allowed !== undefined && !allowed.has(actor)) return 'actor is not in bypass.actors'
      return authorize === undefined ? undefined : askAuthorize(authorize, actor, scope.reason, context)
    },
  }
}

/** Only `true` grants: a throw, a promise or any other value refuses (fail closed). */
function askAuthorize(authorize: BypassAuthorize, actor: string, reason: string, context: TenantContext | undefined) {
  let answer: unknown
  try {
    answer = authorize({ actor, reason, context })
  } catch (err) {
    // The error's name only: its message may quote whatever the predicate looked at.
    return `bypass.authorize threw ${err instanceof Error ? err.name : typeof err}`
  }
  if (answer === true) return undefined
  if (typeof (answer as { then?: unknown } | null)?.then === 'function') {
    // Not awaited (the check is synchronous); keep its rejection from becoming an unhandled one.
    Promise.resolve(answer).catch(() => {})
    return 'bypass.authorize returned a promise; it must answer synchronously'
  }
  return 'bypass.authorize refused the actor'
}
