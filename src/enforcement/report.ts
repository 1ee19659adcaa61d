// What happens after a decision: counters always, a TENANT_VIOLATION line when sampled, a
// TENANT_BYPASS line per bypass. Telemetry failures are counted and swallowed: a query never
// fails or waits because Loki, a label or the logger misbehaved.
import type { ReportedMode, TenantFenceConfig } from '../config/schema.ts'
import type { Logger } from '../telemetry/logger.ts'
import { BYPASS_MESSAGE, VIOLATION_MESSAGE } from '../telemetry/metric-names.ts'
import type { EnforcementMetrics } from '../telemetry/metrics.ts'
import { loggableId, PRISMA_KEYS, sanitizeArgs } from '../telemetry/sanitize.ts'
import { safeLine } from '../telemetry/safe-line.ts'
import { captureStack, cleanStack } from '../telemetry/stack.ts'
import { publishViolation, violationChannel } from '../telemetry/violation-channel.ts'
import type { TenantViolationLine } from '../telemetry/violation-line.ts'
import { bypassActor } from './bypass.ts'
import type { BypassScope, TenantContext, TenantId } from './context.ts'
import type { DataModel } from './datamodel.ts'
import type { Finding } from './inspect.ts'
import { SINGLE_LEVEL, tenantLevels } from '../config/levels.ts'

/** The pseudo-model of raw SQL and of operations the check does not know. */
export const RAW_MODEL = '$raw'

export interface Reporter {
  /**
   * A logged or blocked query: counted once, under its primary finding; `related` are its other
   * findings (a filter reaching another model's rows), listed on the same line.
   */
  violation(f: Finding, decision: 'log' | 'block', operation: string, args: unknown, store: { context?: TenantContext } | undefined, mode: ReportedMode, sampleRate: number, callSite?: Error, related?: readonly Finding[]): void
  bypass(b: BypassScope, ctx: TenantContext | undefined, model: string, operation: string, outcome: 'granted' | 'denied', refusal: string | undefined): void
  /** Add a client's schema names: the keys a logged query may show (every other key is redacted). */
  learn(datamodel: DataModel): void
  /** A query's arguments as a log line shows them (also for an unexpected error's line). */
  sanitize(args: unknown): unknown
}

/** The names a query's keys may be: models, fields, compound unique inputs (`tenantId_email`). */
export function schemaKeys(datamodel: DataModel, into = new Set<string>()): Set<string> {
  for (const [name, m] of Object.entries(datamodel.models)) {
    into.add(name)
    for (const f of m.fields) into.add(f.name)
    for (const u of m.uniques ?? []) into.add(u.name)
    if (m.primaryKey && m.primaryKey.length > 1) into.add(m.primaryKey.join('_'))
  }
  return into
}

/** A finding's path (`include.userRoles`, `where.OR[1].user`) with every segment that is no known name replaced. */
function safePath(path: string, known: ReadonlySet<string>): string {
  return path
    .split('.')
    .map((seg) => {
      // a list position (`OR[1]`, `create[2]`) is the key's own and a small index: the key is judged
      const m = /^(.*?)((?:\[\d{1,6}\])*)$/.exec(seg)!
      const key = m[1]!
      return (key === '' && m[2] !== '') || PRISMA_KEYS.has(key) || known.has(key) || /^\d{1,6}$/.test(key) ? seg : '[key]'
    })
    .join('.')
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
  // Filled from each client's data model (learn); until then only Prisma's words and the tenant field pass.
  const known = new Set<string>([tenantField])
  const loggable = (v: TenantId | undefined) => {
    const id = idOf(v)
    return id === null ? null : (loggableId(id) === undefined ? '[redacted]' : id)
  }
  // The context's ids of the config's levels only (another key is the app's bug, named by a finding at path `context`).
  const levelNames = tenantLevels(config).map((l) => l.name)
  const loggableIds = (ids: Readonly<Record<string, TenantId>>): Record<string, string | null> => {
    const out: Record<string, string | null> = {}
    for (const name of levelNames) if (ids[name] !== undefined) out[name] = loggable(ids[name])
    return out
  }
  return {
    learn(datamodel) {
      schemaKeys(datamodel, known)
    },
    sanitize(args) {
      return sanitizeArgs(args, tenantField, known)
    },
    violation(f, decision, operation, args, store, mode, sampleRate, callSite, related) {
      const ctx = store?.context
      if (violationChannel.hasSubscribers) {
        publishViolation({ model: f.model, operation, violation: f.violation, severity: f.severity, decision: decision === 'block' ? 'blocked' : 'logged' }, callSite)
      }
      let endpoint: string | undefined // resolved only where it is used: a blocked query or a written line
      try {
        metrics.violations.inc({ model: f.model, severity: f.severity, violation: f.violation, decision: decision === 'block' ? 'blocked' : 'logged', level: f.level ?? SINGLE_LEVEL })
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
          userId: loggable(ctx?.userId),
          tenantId: loggable(ctx?.tenantId),
          ...(f.level !== undefined ? { tenantLevel: f.level } : {}),
          ...(ctx?.tenantIds !== undefined ? { tenantIds: loggableIds(ctx.tenantIds) } : {}),
          // the tenants the query named: ids by shape only (an e-mail under tenantId is redacted)
          ...(f.queryTenantIds ? { queryTenantIds: f.queryTenantIds.slice(0, 5).map((t) => loggable(t) ?? '[redacted]') } : {}),
          // `context`: the request context itself (two levels: its ids), a path of tenantfence's, not of the query
          ...(f.path ? { path: f.path === 'context' ? f.path : safePath(f.path, known) } : {}),
          ...(f.linked ? { linked: f.linked } : {}),
          ...(f.detail ? { detail: f.detail } : {}),
          ...(related && related.length > 0
            ? { related: related.slice(0, 10).map((r) => ({ model: r.model, violation: r.violation, path: safePath(r.path, known) })) }
            : {}),
          // Prisma captured the app's call site when the query was built; our own stack at this point
          // holds only Prisma frames (the query runs when awaited).
          stackTrace: callSite?.stack ? cleanStack(callSite.stack) : captureStack(),
          queryArgs: sanitizeArgs(args, tenantField, known),
        }
        if (decision === 'block') logger.error(safeLine(line), VIOLATION_MESSAGE)
        else logger.warn(safeLine(line), VIOLATION_MESSAGE)
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
          actor: safeActor(bypassActor(b, ctx)),
          model,
          action: operation,
          endpoint: endpointOf(ctx),
          userId: loggable(ctx?.userId),
          tenantId: loggable(ctx?.tenantId),
          stackTrace: cleanStack(b.stack),
          ...(refusal ? { refusal } : {}),
        }
        if (outcome === 'granted') logger.warn(safeLine(fields), BYPASS_MESSAGE)
        else logger.error(safeLine(fields), `${BYPASS_MESSAGE}_DENIED`)
      } catch {
        safeInc(metrics, 'log')
      }
    },
  }
}

/** The bypass actor without personal data: `user:alice@example.com` keeps `user:` only. */
function safeActor(actor: string | undefined): string | null {
  if (actor === undefined) return null
  return actor.replace(/[^\s:|]*@[^\s:|]*/g, '[redacted]')
}

function safeInc(metrics: EnforcementMetrics, sink: string) {
  try {
    metrics.telemetryErrors.inc({ sink })
  } catch {
    // nothing left to tell
  }
}
