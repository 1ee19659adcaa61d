// What happens after a decision: counters always, a TENANT_VIOLATION line when sampled, a
// TENANT_BYPASS line per bypass. Telemetry failures are counted and swallowed: a query never
// fails or waits because Loki, a label or the logger misbehaved.
import type { ReportedMode, TenantFenceConfig } from '../config/schema.ts'
import type { Logger } from '../telemetry/logger.ts'
import { BYPASS_MESSAGE, VIOLATION_MESSAGE } from '../telemetry/metric-names.ts'
import type { EnforcementMetrics } from '../telemetry/metrics.ts'
import { sanitizeArgs } from '../telemetry/sanitize.ts'
import { captureStack, cleanStack } from '../telemetry/stack.ts'
import { publishViolation, violationChannel } from '../telemetry/violation-channel.ts'
import type { TenantViolationLine } from '../telemetry/violation-line.ts'
import { bypassActor } from './bypass.ts'
import type { BypassScope, TenantContext, TenantId } from './context.ts'
import type { Finding } from './inspect.ts'

/** The pseudo-model of raw SQL and of operations the check does not know. */
export const RAW_MODEL = '$raw'

export interface Reporter {
  /**
   * A logged or blocked query: counted once, under its primary finding; `related` are its other
   * findings (a filter reaching another model's rows), listed on the same line.
   */
  violation(f: Finding, decision: 'log' | 'block', operation: string, args: unknown, store: { context?: TenantContext } | undefined, mode: ReportedMode, sampleRate: number, callSite?: Error, related?: readonly Finding[]): void
  bypass(b: BypassScope, ctx: TenantContext | undefined, model: string, operation: string, outcome: 'granted' | 'denied', refusal: string | undefined): void
}

export function endpointOf(ctx: TenantContext | undefined): string {
  const e = ctx?.endpoint
  if (typeof e === 'function') {
    try {
      return e() ?? 'unknown'
    } catch {
      return 'unknown'
    }
  }
  return e ?? 'unknown'
}

const idOf = (v: TenantId | undefined) => (v === undefined || v === null ? null : String(v))

export function createReporter({ config, metrics, logger }: { config: TenantFenceConfig; metrics: EnforcementMetrics; logger: Logger }): Reporter {
  const reasons = new Set(config.bypass.reasons)
  const tenantField = config.tenant.field
  return {
    violation(f, decision, operation, args, store, mode, sampleRate, callSite, related) {
      const ctx = store?.context
      if (violationChannel.hasSubscribers) {
        publishViolation({ model: f.model, operation, violation: f.violation, severity: f.severity, decision: decision === 'block' ? 'blocked' : 'logged' }, callSite)
      }
      let endpoint: string | undefined // resolved only where it is used: a blocked query or a written line
      try {
        metrics.violations.inc({ model: f.model, severity: f.severity, violation: f.violation, decision: decision === 'block' ? 'blocked' : 'logged' })
        if (decision === 'block') metrics.enforcementErrors.inc({ model: f.model, endpoint: (endpoint = endpointOf(ctx)) })
      } catch {
        safeInc(metrics, 'metrics')
      }
      // Counters above are never sampled; only the log line is.
      if (sampleRate < 1 && Math.random() >= sampleRate) return
      try {
        const line: Omit<TenantViolationLine, 'level' | 'time' | 'msg'> = {
          timestamp: new Date().toISOString(),
          severity: f.severity,
          model: f.model,
          action: operation,
          violation: f.violation,
          decision: decision === 'block' ? 'blocked' : 'logged',
          mode,
          endpoint: endpoint ?? endpointOf(ctx),
          method: ctx?.method ?? 'unknown',
          userId: idOf(ctx?.userId),
          tenantId: idOf(ctx?.tenantId),
          ...(f.queryTenantIds ? { queryTenantIds: [...f.queryTenantIds] } : {}),
          ...(f.path ? { path: f.path } : {}),
          ...(f.linked ? { linked: f.linked } : {}),
          ...(f.detail ? { detail: f.detail } : {}),
          ...(related && related.length > 0 ? { related: related.map((r) => ({ model: r.model, violation: r.violation, path: r.path })) } : {}),
          // Prisma captured the app's call site when the query was built; our own stack at this point
          // holds only Prisma frames (the query runs when awaited).
          stackTrace: callSite?.stack ? cleanStack(callSite.stack) : captureStack(),
          queryArgs: sanitizeArgs(args, tenantField),
        }
        if (decision === 'block') logger.error(line, VIOLATION_MESSAGE)
        else logger.warn(line, VIOLATION_MESSAGE)
      } catch {
        safeInc(metrics, 'log')
      }
    },
    bypass(b, ctx, model, operation, outcome, refusal) {
      const label = reasons.has(b.reason) ? b.reason : b.reason === '' ? 'none' : 'other'
      try {
        if (outcome === 'granted') metrics.bypassUsage.inc({ reason: label })
        else metrics.bypassDenied.inc({ reason: label })
      } catch {
        safeInc(metrics, 'metrics')
      }
      try {
        const fields = {
          timestamp: new Date().toISOString(),
          outcome,
          reason: b.reason || null,
          // The actor the authorization saw: the one given, else the context's user.
          actor: bypassActor(b, ctx) ?? null,
          model,
          action: operation,
          endpoint: endpointOf(ctx),
          userId: idOf(ctx?.userId),
          tenantId: idOf(ctx?.tenantId),
          stackTrace: cleanStack(b.stack),
          ...(refusal ? { refusal } : {}),
        }
        if (outcome === 'granted') logger.warn(fields, BYPASS_MESSAGE)
        else logger.error(fields, `${BYPASS_MESSAGE}_DENIED`)
      } catch {
        safeInc(metrics, 'log')
      }
    },
  }
}

function safeInc(metrics: EnforcementMetrics, sink: string) {
  try {
    metrics.telemetryErrors.inc({ sink })
  } catch {
    // nothing left to tell
  }
}
