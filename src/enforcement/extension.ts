// The Prisma adapter: one $allOperations hook that asks the pure core (inspect, decide) and
// applies the answer: let through, count + log, or reject with TenantContextRequiredError.
// Telemetry never fails a query: every report is wrapped and counted on failure.
import { Prisma } from '@prisma/client/extension'
import type { Registry } from 'prom-client'
import { ensureConfig, protectedModels } from '../config/define.ts'
import { envFlagSource, fileFlagSource, type FlagSource, type FlagState } from '../config/flag-source.ts'
import { RLS_DEFAULTS, type TenantFenceConfig, type TenantFenceConfigInput } from '../config/schema.ts'
import { defaultLogger, type Logger } from '../telemetry/logger.ts'
import { enforcementMetrics, publishPolicy, type EnforcementMetrics } from '../telemetry/metrics.ts'
import { auditModels } from './audit.ts'
import { tenantStorage, type TenantStore } from './context.ts'
import type { DataModel } from './datamodel.ts'
import { decide } from './decide.ts'
import { TenantContextRequiredError } from './errors.ts'
import type { Finding } from './inspect.ts'
import { inspect } from './inspect.ts'
import { RAW_OPERATIONS } from './operations.ts'
import { compilePolicy, type Policy } from './policy.ts'
import { createReporter, type Reporter } from './report.ts'
import { assertRlsProvider, createRlsCarrier, type RlsCarrier, type RlsClient, type RlsQueryParams } from './rls.ts'

export interface TenantEnforcementOptions {
  config: TenantFenceConfig | TenantFenceConfigInput
  /** prom-client Registry to register the metrics in (default: a new one, exposed as `.registry`) */
  registry?: Registry
  /** pino logger for violation lines (default: pino JSON on stdout) */
  logger?: Logger
  /** where flags come from: process.env (default) or a watched file such as a mounted ConfigMap */
  flags?: { file: string; pollMs?: number } | { source: FlagSource }
  /** Phase 4: ignore the flags, block every violation, allow bypass only for config.bypass.reasons */
  hardened?: boolean
  /** the data model, when the client does not expose `_runtimeDataModel` (tests, other ORMs) */
  datamodel?: DataModel
  /** warn at start-up about schema models the config does not classify (default true) */
  audit?: boolean
  /** replace the inspector (tests of the fail-open/fail-closed path; other ORMs' shapes) */
  inspector?: typeof inspect
  /**
   * PostgreSQL only: every query carries the request's tenant (and a granted bypass's reason) into
   * its transaction as set_config(config.rls.setting, …, true), for the row-level security policies
   * `generate` writes (docs/rls.md). Refused on another provider.
   */
  rls?: boolean
}

export interface TenantEnforcementHandle {
  readonly config: TenantFenceConfig
  readonly registry: Registry
  readonly metrics: EnforcementMetrics
  readonly logger: Logger
  /** the flags in force now (re-read if they changed) */
  currentFlags(): FlagState
  /** stop watching a flag file */
  close(): void
}

type QueryFn = (args: unknown) => Promise<unknown>
interface HookParams {
  model?: string
  operation: string
  args: unknown
  query: QueryFn
  /** Prisma's internals: the call site it captured when the model method was called (used for log lines only), the transaction (rls) */
  __internalParams?: { callsite?: { _error?: Error } } & RlsQueryParams['__internalParams']
}

/**
 * The Prisma Client extension: `new PrismaClient({ adapter }).$extends(tenantEnforcement({ config }))`.
 * The returned function also carries the handle (registry, metrics, logger, currentFlags).
 */
export function tenantEnforcement(options: TenantEnforcementOptions) {
  const config = ensureConfig(options.config)
  const metrics = enforcementMetrics(options.registry)
  const logger = options.logger ?? defaultLogger(config.app.job)
  const models = protectedModels(config).map((m) => m.name)
  const severities = new Map(protectedModels(config).map((m) => [m.name, m.severity]))
  const hardened = options.hardened === true
  const reporter: Reporter = createReporter({ config, metrics, logger })

  const publish = (state: FlagState) => {
    try {
      publishPolicy(metrics, hardened ? 'hardened' : state.mode, hardened ? new Map(models.map((m) => [m, 'block' as const])) : state.actions, severities)
    } catch {
      metrics.telemetryErrors.inc({ sink: 'metrics' })
    }
  }
  const hooks = {
    onChange: publish,
    onError: (err: Error & { flag?: string }) => {
      metrics.flagErrors.inc({ flag: String(err.flag ?? 'unknown').slice(0, 64) })
      try {
        logger.error({ err: { message: err.message }, flag: err.flag }, 'TENANT_FLAG_INVALID: keeping the last good flags')
      } catch {
        metrics.telemetryErrors.inc({ sink: 'log' })
      }
    },
  }
  // Start-up: a bad flag throws here, so the app refuses to start with the flag's message.
  const source: FlagSource =
    options.flags && 'source' in options.flags ? options.flags.source : options.flags && 'file' in options.flags ? fileFlagSource(options.flags.file, models, hooks, options.flags.pollMs) : envFlagSource(models, hooks)
  publish(source.current('all'))

  const handle: TenantEnforcementHandle = { config, registry: metrics.registry, metrics, logger, currentFlags: () => source.current('all'), close: () => source.close() }

  const extension = Prisma.defineExtension((client) => {
    const datamodel = options.datamodel ?? (client as unknown as { _runtimeDataModel?: DataModel })._runtimeDataModel
    if (!datamodel) throw new Error('tenantfence: this Prisma client exposes no data model; pass `datamodel` to tenantEnforcement()')
    const policy = compilePolicy(config, datamodel)
    if (options.audit !== false) {
      const unclassified = auditModels(config, datamodel)
      if (unclassified.length) logger.warn({ models: unclassified }, `TENANT_AUDIT: ${unclassified.length} model(s) look tenant-owned but are not in the config: ${unclassified.map((u) => u.model).join(', ')}`)
    }
    let carry: RlsCarrier | undefined
    if (options.rls) {
      assertRlsProvider((client as unknown as { _activeProvider?: string })._activeProvider)
      carry = createRlsCarrier(client as unknown as RlsClient, config.rls ?? RLS_DEFAULTS)
    }
    const hook = createHook({ policy, source, hardened, reporter, metrics, bypassReasons: config.bypass.reasons, owner: handle, inspector: options.inspector ?? inspect, carry })
    return client.$extends({ name: 'tenantfence', query: { $allOperations: hook as never } })
  })
  return Object.assign(extension, handle)
}

interface HookDeps {
  policy: Policy
  source: FlagSource
  hardened: boolean
  reporter: Reporter
  metrics: EnforcementMetrics
  bypassReasons: readonly string[]
  owner: object
  inspector: typeof inspect
  /** rls: runs a query with the tenant set for its transaction */
  carry: RlsCarrier | undefined
}

function createHook({ policy, source, hardened, reporter, metrics, bypassReasons, owner, inspector, carry }: HookDeps) {
  const checkDuration = metrics.checkDuration
  // Every query the hook lets through runs here. With rls, it carries the tenant and, when the
  // flags grant the bypass in force (counted once per bypass, as for the check), its reason.
  const pass = (params: HookParams, store: TenantStore | undefined): Promise<unknown> => {
    if (carry === undefined) return params.query(params.args)
    const granted = store?.bypass !== undefined && grantBypass(store, hardened ? undefined : source.current('bypass'), hardened, bypassReasons, reporter, owner, params.model ?? '$raw', params.operation)
    const tenantId = store?.context?.tenantId
    return carry(params, { tenant: tenantId === undefined ? '' : String(tenantId), bypassReason: granted ? store!.bypass!.reason : '' })
  }
  // Log or block. Outside the per-query function so that a query that is let through
  // allocates no closure for it.
  const apply = (f: Finding, d: 'log' | 'block', params: HookParams, store: TenantStore | undefined, state: FlagState | undefined): Promise<unknown> => {
    // LOG_SAMPLE_RATE is read only here, where a line may be written.
    const sampleRate = state === undefined ? 1 : source.current('log').flags.logSampleRate
    reporter.violation(f, d, params.operation, params.args, store, hardened ? 'hardened' : state!.mode, sampleRate, params.__internalParams?.callsite?._error)
    if (d === 'block') return Promise.reject(new TenantContextRequiredError(f.model, params.operation, f.violation))
    return pass(params, store)
  }
  return function tenantfenceCheck(params: HookParams): Promise<unknown> {
    const { model, operation, args } = params
    const state = hardened ? undefined : source.current()
    if (state !== undefined && state.mode === 'disabled') return carry === undefined ? params.query(args) : pass(params, tenantStorage.getStore())
    const store = tenantStorage.getStore()
    if (model === undefined) {
      if (!RAW_OPERATIONS.has(operation) || policy.rawPolicy === 'allow') return pass(params, store)
      if (store?.bypass && grantBypass(store, hardened ? undefined : source.current('bypass'), hardened, bypassReasons, reporter, owner, '$raw', operation)) return pass(params, store)
      const raw: Finding = { model: '$raw', severity: policy.rawSeverity, violation: 'raw_query' }
      // Raw SQL cannot be inspected: blocked where everything is blocked, logged otherwise.
      return apply(raw, hardened || state!.mode === 'enforce' ? 'block' : 'log', params, store, state)
    }
    if (!policy.models.has(model)) return pass(params, store)
    if (store?.bypass && grantBypass(store, hardened ? undefined : source.current('bypass'), hardened, bypassReasons, reporter, owner, model, operation)) return pass(params, store)

    const start = performance.now()
    let found: Finding | null
    try {
      found = inspector(policy, model, operation, args, store?.context?.tenantId)
    } catch {
      // Fail open where nothing is blocked, closed where this model is blocked.
      found = { model, severity: policy.models.get(model)!.severity, violation: 'inspection_error' }
      try {
        metrics.inspectionErrors.inc({ model })
      } catch {}
    }
    const action = found === null ? 'off' : hardened ? 'block' : (state!.actions.get(found.model) ?? 'off')
    const decision = decide(found, action)
    checkDuration.observe((performance.now() - start) / 1000)
    if (decision === 'allow') return pass(params, store)
    return apply(found!, decision, params, store, state)
  }
}

/** Is this bypass granted by the flags in force (or, hardened, by the config's reasons)? Counted once per bypass call. */
function grantBypass(store: TenantStore, state: FlagState | undefined, hardened: boolean, reasons: readonly string[], reporter: Reporter, owner: object, model: string, operation: string): boolean {
  const b = store.bypass!
  const reason = b.reason
  let refusal: string | undefined
  if (hardened) {
    if (!reasons.includes(reason)) refusal = `hardened mode allows only the documented reasons (${reasons.join(', ')})`
  } else if (!state!.flags.allowBypass) {
    refusal = 'TENANT_ENFORCEMENT_ALLOW_BYPASS is false'
  } else if (state!.flags.bypassRequiresReason && reason === '') {
    refusal = 'TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON is true and no reason was given'
  }
  if (refusal === undefined) {
    if (!(b.usedBy ??= new WeakSet()).has(owner)) {
      b.usedBy.add(owner)
      reporter.bypass(b, store.context, model, operation, 'granted', undefined)
    }
    return true
  }
  if (!(b.deniedBy ??= new WeakSet()).has(owner)) {
    b.deniedBy.add(owner)
    reporter.bypass(b, store.context, model, operation, 'denied', refusal)
  }
  return false
}
