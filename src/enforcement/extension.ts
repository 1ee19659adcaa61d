// The Prisma adapter: one $allOperations hook that asks the pure core (inspect, decide) and
// applies the answer: let through, count + log, or reject with TenantContextRequiredError.
// Telemetry never fails a query: every report is wrapped and counted on failure.
import { Prisma } from '@prisma/client/extension'
import type { Registry } from 'prom-client'
import { ensureConfig, protectedModels } from '../config/define.ts'
import { envFlagSource, fileFlagSource, type FileFlagSourceOptions, type FlagSource, type FlagSourceFactory, type FlagState } from '../config/flag-source.ts'
import { flagLabel } from '../config/flags.ts'
import { RLS_DEFAULTS, type RlsConfig, type TenantFenceConfig, type TenantFenceConfigInput } from '../config/schema.ts'
import { defaultLogger, type Logger } from '../telemetry/logger.ts'
import { enforcementMetrics, preCreateSeries, publishPolicy, type EnforcementMetrics } from '../telemetry/metrics.ts'
import { noteQueryError } from '../telemetry/error-line.ts'
import { safeLine, safeText } from '../telemetry/safe-line.ts'
import { auditModels, auditSummary } from './audit.ts'
import { bypassPolicy, type BypassPolicy } from './bypass.ts'
import { createdRowsOf, rememberCreated, rowKey } from './claims.ts'
import { extensionOrderGuard } from './extension-order.ts'
import { tenantStorage, type TenantContext, type TenantStore } from './context.ts'
import type { ModelAction } from '../config/flags.ts'
import { dataModelOfClient, type DataModel } from './datamodel.ts'
import { decideQuery, type QueryDecision } from './decide.ts'
import { TenantContextRequiredError } from './errors.ts'
import { inspect, type Finding, type Inspection, type ReferenceCheck } from './inspect.ts'
import { allLevels, compileLevels, contextFinding, inspectLevels, membershipFinding, membershipQuery, mergeLevels, NO_TENANT, type CompiledLevels, type LevelRun } from './levels-inspect.ts'
import { isTwoLevel, SINGLE_LEVEL } from '../config/levels.ts'
import { MODEL_RAW_OPERATIONS, RAW_OPERATIONS } from './operations.ts'
import { compilePolicy, type Policy, type ReferencePolicy } from './policy.ts'
import { delegateName, verifyReferences, type PendingKey } from './references.ts'
import { createReporter, RAW_MODEL, type Reporter } from './report.ts'
import { requestPath } from './request-path.ts'
import { assertRlsProvider, createRlsCarrier, type RlsCarrier, type RlsClient, type RlsQueryParams } from './rls.ts'

export interface TenantEnforcementOptions {
  config: TenantFenceConfig | TenantFenceConfigInput
  /** prom-client Registry to register the metrics in (default: a new one, exposed as `.registry`) */
  registry?: Registry
  /** pino logger for violation lines (default: pino JSON on stdout) */
  logger?: Logger
  /** where flags come from: process.env (default), a file re-read every pollMs (a mounted ConfigMap), or a FlagSource or its factory (tenantfence/openfeature) */
  flags?: ({ file: string } & FileFlagSourceOptions) | { source: FlagSource | FlagSourceFactory }
  /** Phase 4: ignore the flags, block every violation, allow bypass only for config.bypass.reasons */
  hardened?: boolean
  /** the data model, when the client does not expose `_runtimeDataModel` (tests, other ORMs) */
  datamodel?: DataModel
  /** warn at start-up about schema models the config does not classify (default true) */
  audit?: boolean
  /** replace the inspector (tests of the fail-open/fail-closed path; other ORMs' shapes) */
  inspector?: typeof inspect
  /**
   * Foreign keys in write data that the query does not prove (`roleId: 5`, `connect: { id: 5 }`):
   * 'verify' (default) looks the referenced rows' tenants up, one query per referenced model per
   * write; 'violation' reports them as `unverified_reference` without a lookup.
   */
  references?: ReferencePolicy
  /**
   * PostgreSQL only: every query carries the request's tenant (and a granted bypass's reason) into
   * its transaction as set_config(config.rls.setting, …, true), for the row-level security policies
   * `generate` writes (docs/rls.md). Refused on another provider.
   */
  rls?: boolean
  /**
   * Where the check runs: 'request' (default) in the client's own request path, where every query
   * passes, at a fraction of a query extension's cost; 'query-extension' as a Prisma `query`
   * extension. 'request' falls back to 'query-extension' by itself, with a warning
   * (TENANT_HOOK_FALLBACK), when this Prisma version's internals are not what it expects, and
   * without one when an extension added before tenantfence has a `query` component.
   */
  hook?: 'request' | 'query-extension'
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
  /** where the check of the client built last runs ('request' or 'query extension'); undefined before any */
  hookPath(): HookPath | undefined
}

export type HookPath = 'request' | 'query extension'
const HOOKS: readonly string[] = ['request', 'query-extension'] satisfies NonNullable<TenantEnforcementOptions['hook']>[]

type QueryFn = (args: unknown) => Promise<unknown>
interface HookParams {
  model?: string
  operation: string
  args: unknown
  query: QueryFn
  /**
   * Prisma's internals: the call site it captured when the model method was called (log lines
   * only), and the transaction the query runs in (reference lookups and rls run in the same one).
   */
  __internalParams?: { callsite?: { _error?: Error } } & RlsQueryParams['__internalParams']
}

/**
 * The Prisma Client extension: `new PrismaClient({ adapter }).$extends(tenantEnforcement({ config }))`.
 * The returned function also carries the handle (registry, metrics, logger, currentFlags).
 */
export function tenantEnforcement(options: TenantEnforcementOptions) {
  const config = ensureConfig(options.config)
  if (options.hook !== undefined && !HOOKS.includes(options.hook)) {
    throw new TypeError(`tenantEnforcement: hook is ${JSON.stringify(String(options.hook)).slice(0, 60)}; valid: ${HOOKS.map((h) => `'${h}'`).join(', ')} (or leave it out for 'request')`)
  }
  const metrics = enforcementMetrics(options.registry)
  // Two levels: each model's `level` label is known once a client's schema is (its via chains): until
  // then its violation and policy series wait (the extension's first client creates them).
  const twoLevel = isTwoLevel(config)
  let levelOfModel: (model: string) => string | undefined = twoLevel ? () => undefined : () => SINGLE_LEVEL
  preCreateSeries(metrics, config, twoLevel ? () => [] : undefined)
  const logger = options.logger ?? defaultLogger(config.app.job)
  const models = protectedModels(config).map((m) => m.name)
  const severities = new Map(protectedModels(config).map((m) => [m.name, m.severity]))
  const hardened = options.hardened === true
  const reporter: Reporter = createReporter({ config, metrics, logger })

  const publish = (state: FlagState) => {
    try {
      publishPolicy(metrics, hardened ? 'hardened' : state.mode, hardened ? new Map(models.map((m) => [m, 'block' as const])) : state.actions, severities, levelOfModel)
    } catch {
      metrics.telemetryErrors.inc({ sink: 'metrics' })
    }
  }
  const hooks = {
    onChange: publish,
    onError: (err: Error & { flag?: string }) => {
      // The label (and the log field) is a known flag name or `file`, never a key someone wrote in a file.
      const flag = flagLabel(err.flag)
      metrics.flagErrors.inc({ flag })
      metrics.flagReloads.set({ outcome: 'refused' }, Date.now() / 1000)
      try {
        logger.error(safeLine({ err: { message: err.message }, flag }), 'TENANT_FLAG_INVALID: keeping the last good flags')
      } catch {
        metrics.telemetryErrors.inc({ sink: 'log' })
      }
    },
  }
  // Start-up: a bad flag throws here, so the app refuses to start with the flag's message.
  // A factory (OpenFeature's, say) gets the models and the hooks, so its refusals are counted too.
  const given = options.flags && 'source' in options.flags ? options.flags.source : undefined
  const source: FlagSource =
    typeof given === 'function' ? given({ models, hooks }) : given ?? (options.flags && 'file' in options.flags ? fileFlagSource(options.flags.file, models, hooks, options.flags) : envFlagSource(models, hooks))
  publish(source.current('all'))

  let lastPath: HookPath | undefined
  const handle: TenantEnforcementHandle = { config, registry: metrics.registry, metrics, logger, currentFlags: () => source.current('all'), close: () => source.close(), hookPath: () => lastPath }

  const extension = Prisma.defineExtension((client) => {
    const datamodel = options.datamodel ?? dataModelOfClient(client)
    if (!datamodel) throw new Error('tenantfence: this Prisma client exposes no data model; pass `datamodel` to tenantEnforcement()')
    // Two levels: branch once here, never per query (a one-level config takes the path it always took).
    const levels = isTwoLevel(config) ? compileLevels(config, datamodel, { references: options.references }) : undefined
    const policy = levels === undefined ? compilePolicy(config, datamodel, { references: options.references }) : levels.policies.get(levels.levels[0].name)!
    if (levels !== undefined) {
      const [upper, lower] = levels.levels
      levelOfModel = (m) => levels.modelLevel.get(m)
      // The lower level's model is judged by both levels; raw SQL is reported once, by the upper level's run.
      preCreateSeries(metrics, config, (m) => (m === levels.lowerModel ? [upper.name, lower.name] : m === RAW_MODEL ? [upper.name] : [levels.modelLevel.get(m) ?? lower.name]))
      publish(source.current('all'))
    }
    reporter.learn(datamodel)
    if (options.audit !== false) {
      const findings = auditModels(config, datamodel)
      if (findings.length) logger.warn(safeLine({ models: findings }), safeText(`TENANT_AUDIT: ${auditSummary(findings)}`))
    }
    let carry: RlsCarrier | undefined
    if (options.rls) {
      assertRlsProvider((client as unknown as { _activeProvider?: string })._activeProvider)
      const rls = config.rls ?? RLS_DEFAULTS
      const settings = levels === undefined ? [rls.setting] : [...levels.levels.map((l) => l.rlsSetting), scopeSetting(rls)]
      carry = createRlsCarrier(client as unknown as RlsClient, { settings, bypassSetting: rls.bypassSetting })
    }
    const hook = createHook({ policy, levels, source, hardened, reporter, metrics, bypass: bypassPolicy(config), owner: handle, inspector: options.inspector ?? inspect, client, carry })
    // The `client` part watches for query extensions added after this one (they would run after the check).
    const guard = extensionOrderGuard(client as never, { logger, hardened })
    // An error a query raises is noted with its model, operation and sanitized arguments, so the
    // app's error handler can log those instead of the message (tenantErrorHandler, errorFields).
    const noted = (params: HookParams) => hook(params).catch((err: unknown) => {
      noteQueryError(err, () => ({ model: params.model, operation: params.operation, args: reporter.sanitize(params.args) }))
      throw err
    })
    const path = options.hook === 'query-extension' ? undefined : requestPath(client, noted, guard, { lazy: carry !== undefined })
    if (path?.kind === 'request') {
      lastPath = 'request'
      return path.client as typeof client
    }
    if (path !== undefined && !path.expected) {
      try {
        logger.warn({ reason: path.reason }, `TENANT_HOOK_FALLBACK: tenantfence checks queries through a Prisma query extension instead of the client's request path: ${path.reason}. Every query is still checked; each costs a few per cent more (docs/performance.md).`)
      } catch {
        metrics.telemetryErrors.inc({ sink: 'log' })
      }
    }
    lastPath = 'query extension'
    return client.$extends({ name: 'tenantfence', query: { $allOperations: noted as never }, client: guard as {} })
  })
  return Object.assign(extension, handle)
}

interface HookDeps {
  policy: Policy
  /** two levels of tenancy: the policies of the composition (levels-inspect.ts); undefined for one level */
  levels: CompiledLevels | undefined
  source: FlagSource
  hardened: boolean
  reporter: Reporter
  metrics: EnforcementMetrics
  bypass: BypassPolicy
  owner: object
  inspector: typeof inspect
  /** the client without this extension: reference lookups go through it */
  client: unknown
  /** rls: runs a query with the tenant set for its transaction */
  carry: RlsCarrier | undefined
}

type ItxClient = { _createItxClient?(tx: unknown): unknown }

function createHook({ policy, levels, source, hardened, reporter, metrics, bypass, owner, inspector, client, carry }: HookDeps) {
  const checkDuration = metrics.checkDuration
  // What each finding's model gets under the flags in force. Raw SQL and unknown operations
  // (the `$raw` pseudo-model) are blocked where everything is blocked, logged otherwise.
  const actionOf = (state: FlagState | undefined) => (model: string): ModelAction => {
    if (state === undefined) return 'block'
    if (model === RAW_MODEL) return state.mode === 'enforce' ? 'block' : 'log'
    return state.actions.get(model) ?? 'off'
  }
  // Every query the hook lets through runs here. With rls, it carries the tenant and, when the
  // flags grant the bypass in force (counted once per bypass, as for the check), its reason.
  const pass = (params: HookParams, store: TenantStore | undefined): Promise<unknown> => {
    if (carry === undefined) return params.query(params.args)
    const granted = store?.bypass?.active === true && grantBypass(store, hardened ? undefined : source.current('bypass'), hardened, bypass, reporter, owner, params.model ?? RAW_MODEL, params.operation)
    return carry(params, { tenants: rlsTenants(store?.context), bypassReason: granted ? store!.bypass!.reason : '' })
  }
  // One value per rls setting: one level, its tenant; two levels, each level's id then the scope ('' for none).
  const rlsTenants = (ctx: TenantContext | undefined): string[] => {
    if (levels === undefined) {
      const t = tenantOf(ctx)
      return [t === undefined || t === NO_TENANT ? '' : String(t)]
    }
    const ids = ctx?.tenantIds
    return [...levels.levels.map((l) => (ids?.[l.name] === undefined ? '' : String(ids[l.name]))), ctx?.scope ?? '']
  }
  // Log or block. Outside the per-query function so that a query that is let through
  // allocates no closure for it.
  const apply = (d: QueryDecision, params: HookParams, store: TenantStore | undefined, state: FlagState | undefined): Promise<unknown> => {
    // LOG_SAMPLE_RATE is read only here, where a line may be written.
    const sampleRate = state === undefined ? 1 : source.current('log').flags.logSampleRate
    const mode = hardened ? 'hardened' : state!.mode
    const callSite = params.__internalParams?.callsite?._error
    const f = d.primary!
    reporter.violation(f, d.decision === 'block' ? 'block' : 'log', params.operation, params.args, store, mode, sampleRate, callSite, d.related)
    if (d.decision === 'block') return Promise.reject(new TenantContextRequiredError(f.model, params.operation, f.violation, f.path, f.detail))
    return pass(params, store)
  }
  // Unique keys created by the proven queries of a batch transaction, for the later queries of the
  // same batch that reference them (their lookups run before the batch, so they cannot see the rows).
  const batchCreates = new WeakMap<object, PendingKey[]>()
  const batchOf = (params: HookParams): object | undefined => {
    const tx = params.__internalParams?.transaction as { kind?: string; lock?: unknown } | undefined
    return tx?.kind === 'batch' && typeof tx.lock === 'object' && tx.lock !== null ? tx.lock : undefined
  }
  // The interactive transaction a query runs in (rows created in it may be claimed in it).
  const itxOf = (params: HookParams): string | undefined => {
    const tx = params.__internalParams?.transaction as { kind?: string; id?: unknown } | undefined
    return tx?.kind === 'itx' && typeof tx.id === 'string' ? tx.id : undefined
  }
  // A create of rows that belong to no tenant yet (claims.ts): remember what it returned, for this request or transaction.
  const remembering = (found: Inspection, result: Promise<unknown>, params: HookParams, store: TenantStore | undefined, pol: Policy = policy): Promise<unknown> => {
    if (found.unownedCreate === undefined || params.model === undefined) return result
    const memory = createdRowsOf(store, itxOf(params), true)
    const p = pol.models.get(params.model)!
    return memory === undefined ? result : result.then((value) => (rememberCreated(memory, p, value), value))
  }
  // The lookups of `references: 'verify'` with one policy and its tenant (a lookup that fails proves nothing).
  const lookupFindings = async (pol: Policy, refs: readonly ReferenceCheck[], tenant: unknown, params: HookParams, store: TenantStore | undefined): Promise<Finding[]> => {
    try {
      const tx = params.__internalParams?.transaction
      const lookup = tx?.kind === 'itx' && typeof (client as ItxClient)._createItxClient === 'function' ? (client as ItxClient)._createItxClient!(tx) : client
      const batch = batchOf(params)
      const memory = createdRowsOf(store, itxOf(params), false)
      const claimable = memory === undefined ? undefined : (model: string, row: Record<string, unknown>) => {
        const key = rowKey(pol.models.get(model)!, row)
        return key !== undefined && memory.has(key)
      }
      return await verifyReferences(lookup, pol, refs, tenant, batch ? batchCreates.get(batch) : undefined, claimable)
    } catch {
      // Closed where the model is blocked, open where it is logged.
      countInspectionError(metrics, refs[0]!.model)
      return refs.slice(0, 1).map((r) => ({ model: r.model, severity: pol.models.get(r.model)!.severity, violation: 'inspection_error' as const, path: r.path }))
    }
  }
  // The lookups, then one decision over everything found.
  const verifyThenApply = async (found: Inspection, refs: readonly ReferenceCheck[], params: HookParams, store: TenantStore | undefined, state: FlagState | undefined, actions: (m: string) => ModelAction): Promise<unknown> => {
    const extra = await lookupFindings(policy, refs, found.tenant, params, store)
    const all = extra.length === 0 ? found.findings : [...found.findings, ...extra]
    const d = decideQuery(all, actions)
    return d.decision === 'allow' ? pass(params, store) : apply(d, params, store, state)
  }
  // Lookups only for models the flags watch: a model left alone is not worth a query.
  const watchedRefs = (refs: readonly ReferenceCheck[], actions: (m: string) => ModelAction): ReferenceCheck[] => {
    const watched = (m: string | undefined) => m !== undefined && actions(m) !== 'off'
    return refs.filter((r) => watched(r.model) || watched(r.linked) || watched(r.blame))
  }
  const noteBatchCreates = (refs: readonly ReferenceCheck[], params: HookParams): void => {
    // Noted before any await: the batch's later queries are inspected after this one.
    const batch = batchOf(params)
    if (batch) for (const r of refs) if (r.collision === 'create' && r.key) (batchCreates.get(batch) ?? batchCreates.set(batch, []).get(batch)!).push({ model: r.model, fields: r.key.fields, values: r.key.values })
  }
  if (levels !== undefined) return levelsHook(levels)

  /**
   * Two levels of tenancy (docs/levels.md): each level's one-level check (levels-inspect.ts), each
   * level's references looked up with its own policy and tenant, one decision over the merged
   * findings. A context naming a team and its organisation is proven once per request and client
   * (one lookup of the team in the organisation); a context this config cannot read is a finding.
   */
  function levelsHook(lv: CompiledLevels) {
    const [upper, lower] = lv.levels
    const all = [...lv.policies.values(), lv.wide]
    // Models no policy guards or reaches: a query on them is never checked (as in one level).
    const unchecked = new Set([...lv.wide.models.keys()].filter((m) => all.every((p) => { const q = p.models.get(m); return q === undefined || (!q.guarded && !q.reachesTenantData) })))
    const membership = new WeakMap<TenantContext, boolean | Promise<boolean>>()
    const contextProblems = new WeakMap<TenantContext, Finding | null>()
    const delegate = (client as Record<string, { findFirst(args: unknown): RlsQueryParams extends { query(a: unknown): infer R } ? R : never } | undefined>)[delegateName(lv.lowerModel)]
    /** Is the context's team a team of its organisation? undefined: it does not name both. */
    const isMember = (ctx: TenantContext): boolean | Promise<boolean> | undefined => {
      const org = ctx.tenantIds?.[upper.name]
      const team = ctx.tenantIds?.[lower.name]
      if (org === undefined || team === undefined) return undefined
      const known = membership.get(ctx)
      if (known !== undefined) return known
      if (delegate === undefined) return Promise.reject(new Error(`tenantfence: the client has no delegate for ${lv.lowerModel}`))
      // Through the client without the extension (never re-entering the check), once per context object.
      // With rls, under the context's settings: the lower model's policy shows a team to its organisation.
      const args = membershipQuery(lv, org, team)
      const row = carry === undefined ? Promise.resolve(delegate.findFirst(args)) : carry({ operation: 'findFirst', args, query: (a) => delegate.findFirst(a) }, { tenants: rlsTenants(ctx), bypassReason: '' })
      const p = row.then((r) => r !== null && r !== undefined)
      membership.set(ctx, p)
      // Settled: remembered as a boolean (later queries decide without waiting); a failed lookup is tried again.
      p.then((v) => membership.set(ctx, v), () => membership.delete(ctx))
      return p
    }
    const tagged = (r: LevelRun, fs: readonly Finding[]): Finding[] => fs.map((f) => (f.level !== undefined ? f : { ...f, level: r.wide ? (lv.modelLevel.get(f.model) ?? upper.name) : r.level }))
    const decideLevels = async (runs: LevelRun[], fixed: Finding[], member: boolean | Promise<boolean> | undefined, params: HookParams, store: TenantStore | undefined, state: FlagState | undefined): Promise<unknown> => {
      const actions = actionOf(state)
      const ctx = store?.context
      const found = [...fixed]
      if (member !== undefined) {
        try {
          if (!(await member)) found.push(membershipFinding(lv))
        } catch {
          found.push({ ...membershipFinding(lv), violation: 'inspection_error' })
          countInspectionError(metrics, lv.lowerModel)
        }
      }
      const merged = mergeLevels(lv, allLevels(lv, runs, ctx))
      let d = decideQuery(found.length === 0 ? merged : [...found, ...merged], actions)
      if (found.length === 0 && merged.length === 0) for (const r of runs) noteBatchCreates(r.inspection.references, params)
      if (d.decision !== 'block') {
        const extra = new Map<LevelRun, Finding[]>()
        for (const r of runs) {
          const refs = watchedRefs(r.inspection.references, actions)
          if (refs.length > 0) extra.set(r, tagged(r, await lookupFindings(r.policy, refs, r.inspection.tenant, params, store)))
        }
        if (extra.size > 0) {
          const after = mergeLevels(lv, allLevels(lv, runs, ctx, (r) => [...r.inspection.findings, ...(extra.get(r) ?? [])]))
          d = decideQuery([...found, ...after], actions)
        }
      }
      const result = d.decision === 'allow' ? pass(params, store) : apply(d, params, store, state)
      // A create of rows no tenant owns yet (claims.ts), in the level whose policy saw it.
      const run = runs.find((r) => r.inspection.unownedCreate !== undefined)
      return run === undefined ? result : remembering(run.inspection, result, params, store, run.policy)
    }
    return function tenantfenceLevelsCheck(params: HookParams): Promise<unknown> {
      const { model, operation, args } = params
      if (model !== undefined) {
        if (unchecked.has(model) && !MODEL_RAW_OPERATIONS.has(operation)) return pass(params, tenantStorage.getStore())
      } else if (RAW_OPERATIONS.has(operation) && policy.rawPolicy === 'allow') {
        return pass(params, tenantStorage.getStore())
      }
      const state = hardened ? undefined : source.current()
      if (state !== undefined && state.mode === 'disabled') return carry === undefined ? params.query(args) : pass(params, tenantStorage.getStore())
      const store = tenantStorage.getStore()
      if (store?.bypass?.active && grantBypass(store, hardened ? undefined : source.current('bypass'), hardened, bypass, reporter, owner, model ?? RAW_MODEL, operation)) return pass(params, store)

      const start = performance.now()
      const ctx = store?.context
      let runs: LevelRun[]
      const fixed: Finding[] = []
      try {
        runs = inspectLevels(lv, model, operation, args, ctx, inspector)
      } catch {
        const p = model === undefined ? undefined : lv.wide.models.get(model)
        runs = []
        fixed.push({ model: p?.guarded ? model! : RAW_MODEL, severity: p?.severity ?? policy.rawSeverity, violation: 'inspection_error', path: '', level: model === undefined ? upper.name : (lv.modelLevel.get(model) ?? upper.name) })
        countInspectionError(metrics, model ?? RAW_MODEL)
      }
      let member: boolean | Promise<boolean> | undefined
      if (ctx !== undefined) {
        let problem = contextProblems.get(ctx)
        if (problem === undefined) contextProblems.set(ctx, (problem = contextFinding(lv, ctx) ?? null))
        if (problem !== null) fixed.push(problem)
        else member = isMember(ctx)
      }
      checkDuration.observe((performance.now() - start) / 1000)
      if (runs.length === 0 && fixed.length === 0 && (member === undefined || member === true)) return pass(params, store)
      return decideLevels(runs, fixed, member, params, store, state)
    }
  }

  return function tenantfenceCheck(params: HookParams): Promise<unknown> {
    const { model, operation, args } = params
    // Queries no flag can make checked go through before the flags are read (an env read is a call into C++).
    if (model !== undefined) {
      const p = policy.models.get(model)
      // Nothing tenant-owned is reachable from this model: nothing to check (raw model operations aside).
      if (p === undefined || (!p.guarded && !p.reachesTenantData && !MODEL_RAW_OPERATIONS.has(operation))) return pass(params, tenantStorage.getStore())
    } else if (RAW_OPERATIONS.has(operation) && policy.rawPolicy === 'allow') {
      return pass(params, tenantStorage.getStore())
    }
    const state = hardened ? undefined : source.current()
    if (state !== undefined && state.mode === 'disabled') return carry === undefined ? params.query(args) : pass(params, tenantStorage.getStore())
    const store = tenantStorage.getStore()
    // A bypass scope whose callback has settled (work it scheduled that outlived it) gets the normal check.
    if (store?.bypass?.active && grantBypass(store, hardened ? undefined : source.current('bypass'), hardened, bypass, reporter, owner, model ?? RAW_MODEL, operation)) return pass(params, store)

    const start = performance.now()
    let found: Inspection | null
    try {
      found = inspector(policy, model, operation, args, tenantOf(store?.context))
    } catch {
      // Fail open where nothing is blocked, closed where this model is blocked.
      const p = model === undefined ? undefined : policy.models.get(model)
      found = { findings: [{ model: p?.guarded ? model! : RAW_MODEL, severity: p?.severity ?? policy.rawSeverity, violation: 'inspection_error', path: '' }], references: [], tenant: undefined }
      countInspectionError(metrics, model ?? RAW_MODEL)
    }
    if (found === null) {
      checkDuration.observe((performance.now() - start) / 1000)
      return pass(params, store)
    }
    const actions = actionOf(state)
    const d = decideQuery(found.findings, actions)
    checkDuration.observe((performance.now() - start) / 1000)
    if (found.findings.length === 0) noteBatchCreates(found.references, params)
    if (d.decision !== 'block' && found.references.length > 0) {
      const refs = watchedRefs(found.references, actions)
      if (refs.length > 0) return remembering(found, verifyThenApply(found, refs, params, store, state, actions), params, store)
    }
    if (d.decision === 'allow') return remembering(found, pass(params, store), params, store)
    return apply(d, params, store, state)
  }
}

function countInspectionError(metrics: EnforcementMetrics, model: string): void {
  try {
    metrics.inspectionErrors.inc({ model })
  } catch {}
}

/**
 * Is this bypass granted: by the flags in force (or, hardened, by the config's reasons) and by the
 * config's authorized actors? Counted and logged once per bypass call.
 */
function grantBypass(store: TenantStore, state: FlagState | undefined, hardened: boolean, bypass: BypassPolicy, reporter: Reporter, owner: object, model: string, operation: string): boolean {
  const b = store.bypass!
  const reason = b.reason
  let refusal: string | undefined
  if (hardened) {
    if (!bypass.reasons.includes(reason)) refusal = `hardened mode allows only the documented reasons (${bypass.reasons.join(', ')})`
  } else if (!state!.flags.allowBypass) {
    refusal = 'TENANT_ENFORCEMENT_ALLOW_BYPASS is false'
  } else if (state!.flags.bypassRequiresReason && reason === '') {
    refusal = 'TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON is true and no reason was given'
  }
  refusal ??= bypass.refusal(b, store.context)
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

/**
 * The tenant a one-level config checks a request with: its tenantId, or tenantIds.tenant. A context
 * that names neither proves nothing (NO_TENANT), never "outside a request" (undefined), which would
 * let a query that names any one tenant through.
 */
function tenantOf(ctx: TenantContext | undefined): unknown {
  if (ctx === undefined) return undefined
  return ctx.tenantId ?? ctx.tenantIds?.[SINGLE_LEVEL] ?? NO_TENANT
}

/**
 * The rls setting that carries the context's scope (two levels). RECONCILE (lead): `rls.scopeSetting`
 * is added to rlsSchema on the i22-rls branch (default 'tenantfence.scope'); until that merge the
 * config type lacks it, and this reads it when present.
 */
function scopeSetting(rls: RlsConfig): string {
  return (rls as RlsConfig & { scopeSetting?: string }).scopeSetting ?? 'tenantfence.scope'
}
