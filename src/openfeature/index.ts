// tenantfence/openfeature: the TENANT_ENFORCEMENT_* flags from a feature-flag service (flagd,
// LaunchDarkly, Unleash, Flagsmith...) through OpenFeature, the CNCF standard client. The query
// path never waits for the service: evaluations run on change events (and a slow refresh), off
// the query path, and a query reads the last good flags from memory. A provider error, a bad
// value or an evaluation that never answers keeps the last good flags and is counted in
// tenant_flag_errors_total. @openfeature/server-sdk is an optional peer: only this entry needs it.
import { ProviderEvents, type Client, type EvaluationContext, type EvaluationDetails, type FlagValue } from '@openfeature/server-sdk'
import { assertCompleteFlags } from '../config/flag-file.ts'
import { flagState, type FlagSource, type FlagSourceContext, type FlagSourceFactory, type FlagState } from '../config/flag-source.ts'
import { FLAG_NAMES, FLAG_SERVICE, TenantFlagError, type FlagName, type RawFlags } from '../config/flags.ts'
import { describeInvalid } from '../config/suggest.ts'

export interface OpenFeatureFlagsOptions {
  /** an OpenFeature client whose provider is set (`await OpenFeature.setProviderAndWait(p)`, then `OpenFeature.getClient()`) */
  client: Client
  /** the provider's key for each flag (default: the flag's own name, e.g. TENANT_ENFORCEMENT_MODE) */
  keys?: Partial<Record<FlagName, string>>
  /** evaluation context: what the service targets on (the app, the region). Never a tenant: the flags are per process */
  context?: EvaluationContext
  /** an evaluation round unanswered this long is given up and reported; the last good flags stay (default 2000 ms) */
  timeoutMs?: number
  /** re-evaluate this often even without a change event, for providers that emit none (default 30 s; 0: events only) */
  refreshMs?: number
}

/** How each flag is asked for: booleans and the sample rate as the types a flag service stores them in. */
const FLAG_TYPES: Record<FlagName, 'string' | 'boolean' | 'number'> = {
  TENANT_ENFORCEMENT_ENABLED: 'boolean',
  TENANT_ENFORCEMENT_MODE: 'string',
  TENANT_ENFORCEMENT_MODELS: 'string',
  TENANT_ENFORCEMENT_ENFORCE_MODELS: 'string',
  TENANT_ENFORCEMENT_LOG_MODELS: 'string',
  TENANT_ENFORCEMENT_ALLOW_BYPASS: 'boolean',
  TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON: 'boolean',
  TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: 'number',
}

const WHY_COMPLETE = 'a flag deleted or renamed in the flag service must not switch enforcement off'

/** One evaluation round: every flag, or the first flag that failed and why. */
type Round = { ok: true; raw: RawFlags } | { ok: false; error: TenantFlagError }

/**
 * Reads the flags once (start-up) and returns the FlagSourceFactory for
 * `tenantEnforcement({ config, flags: { source: await openFeatureFlags({ client }) } })`.
 * A first round that fails, has a bad value or does not answer in timeoutMs rejects with a
 * TenantFlagError: the app refuses to start, as with a bad env or file flag.
 */
export async function openFeatureFlags(options: OpenFeatureFlagsOptions): Promise<FlagSourceFactory> {
  const timeoutMs = options.timeoutMs ?? 2000
  const refreshMs = options.refreshMs ?? 30_000
  const refuse = (message: string) => new TenantFlagError('openfeature', `openFeatureFlags: ${message}`)
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw refuse(`timeoutMs=${timeoutMs}: must be a number of milliseconds above 0`)
  if (!Number.isFinite(refreshMs) || refreshMs < 0) throw refuse(`refreshMs=${refreshMs}: must be 0 (events only) or milliseconds`)
  for (const name of Object.keys(options.keys ?? {})) {
    if (!(FLAG_NAMES as readonly string[]).includes(name)) throw refuse(describeInvalid('keys', name, FLAG_NAMES))
  }
  // Evaluations a hung provider never answered stay pending for good (a promise cannot be
  // cancelled): bounded, so a provider hung for days cannot grow the heap without end.
  const pending = { count: 0 }
  const evaluate = (): Promise<Round> => {
    if (pending.count >= MAX_UNANSWERED) {
      return Promise.resolve(fail(FLAG_SERVICE, `flag service: ${pending.count} evaluations were never answered; no new round until they are (the last good flags stay; restart the app once the flag service is fixed)`))
    }
    return evaluateRound(options.client, options.keys ?? {}, options.context, timeoutMs, pending)
  }
  const first = await evaluate()
  if (!first.ok) throw first.error

  return ({ models, hooks }: FlagSourceContext): FlagSource => {
    let state: FlagState = flagState(first.raw, models) // start-up: a bad value refuses to start
    let applied = JSON.stringify(first.raw)
    let refused: string | undefined
    let closed = false
    let running = false
    let again = false

    const settle = (round: Round) => {
      if (closed) return
      try {
        if (!round.ok) throw round.error
        const key = JSON.stringify(round.raw)
        if (key === applied) {
          refused = undefined
          return
        }
        state = flagState(round.raw, models)
        applied = key
        refused = undefined
        hooks.onChange?.(state)
      } catch (err) {
        const error = err instanceof TenantFlagError ? err : new TenantFlagError('openfeature', 'flag service: the flags could not be read')
        // Once per distinct refusal, as the file source: a provider down for an hour is one error, not 120.
        const key = `${error.flag}:${error.message}`
        if (refused === key) return
        refused = key
        hooks.onError?.(error)
      }
    }
    // One round at a time; events during a round ask for one more after it. A round that hangs
    // ends at timeoutMs (evaluateRound), so a hung provider never stops later rounds.
    const refresh = () => {
      if (closed) return
      if (running) {
        again = true
        return
      }
      running = true
      void evaluate()
        .then(settle)
        .catch(() => {}) // a hook that throws never becomes an unhandled rejection
        .finally(() => {
          running = false
          if (again && !closed) {
            again = false
            refresh()
          }
        })
    }
    const handler = () => refresh()
    options.client.addHandler(ProviderEvents.ConfigurationChanged, handler)
    // A provider that comes back (Ready after Error/Stale) may have changed while away. The SDK
    // also runs a Ready handler at once when the provider is ready: a round now catches up with a
    // change made between the first read and this factory's call.
    options.client.addHandler(ProviderEvents.Ready, handler)
    const timer = refreshMs > 0 ? setInterval(refresh, refreshMs) : undefined
    timer?.unref()
    return {
      current: () => state,
      close() {
        closed = true
        if (timer) clearInterval(timer)
        options.client.removeHandler(ProviderEvents.ConfigurationChanged, handler)
        options.client.removeHandler(ProviderEvents.Ready, handler)
      },
    }
  }
}

/** Evaluations left unanswered (across rounds) after which no new round starts: 100 rounds of every flag. */
export const MAX_UNANSWERED = 100 * FLAG_NAMES.length

/** Every flag at once; the first failure in FLAG_NAMES order decides the error (its `flag` is the label). */
async function evaluateRound(
  client: Client,
  keys: Partial<Record<FlagName, string>>,
  context: EvaluationContext | undefined,
  timeoutMs: number,
  pending: { count: number },
): Promise<Round> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), timeoutMs)
    timer.unref()
  })
  const answered = new Set<FlagName>()
  const asks = FLAG_NAMES.map(async (name) => {
    pending.count++
    try {
      const details = await evaluateOne(client, name, keys[name] ?? name, context)
      answered.add(name)
      return [name, details] as const
    } finally {
      pending.count--
    }
  })
  const all = await Promise.race([Promise.all(asks), hung]).catch((err: unknown) => err)
  clearTimeout(timer)
  if (all === 'hung') {
    const late = FLAG_NAMES.find((n) => !answered.has(n)) ?? 'TENANT_ENFORCEMENT_MODE'
    return fail(late, `flag service: no answer for ${late} (key ${keys[late] ?? late}) within ${timeoutMs} ms; keeping the last good flags`)
  }
  if (!Array.isArray(all)) return fail(FLAG_SERVICE, 'flag service: the evaluation threw; keeping the last good flags')
  const raw: RawFlags = {}
  for (const [name, details] of all as (readonly [FlagName, EvaluationDetails<FlagValue>])[]) {
    if (details.errorCode === 'FLAG_NOT_FOUND') continue // unset: the flag's default, unless the set is incomplete (below)
    if (details.errorCode !== undefined) {
      // The code only: a provider's message may quote a URL or a token.
      return fail(name, `flag service: ${name} (key ${keys[name] ?? name}) failed with ${details.errorCode}; keeping the last good flags`)
    }
    raw[name] = String(details.value)
  }
  try {
    assertCompleteFlags(raw, 'service', WHY_COMPLETE)
  } catch (err) {
    if (err instanceof TenantFlagError) return { ok: false, error: err }
    throw err
  }
  return { ok: true, raw }
}

function evaluateOne(client: Client, name: FlagName, key: string, context?: EvaluationContext): Promise<EvaluationDetails<FlagValue>> {
  switch (FLAG_TYPES[name]) {
    case 'boolean':
      return client.getBooleanDetails(key, false, context)
    case 'number':
      return client.getNumberDetails(key, 1, context)
    case 'string':
      return client.getStringDetails(key, '', context)
  }
}

function fail(flag: string, message: string): Round {
  return { ok: false, error: new TenantFlagError(flag, message) }
}
