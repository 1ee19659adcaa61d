// Where flags come from at run time, and when they are re-parsed. The hot path calls
// `current()` on every query: it reads the raw values, compares them with the last ones seen
// and re-parses only on change. A bad value at run time keeps the last good flags.
import { resolve } from 'node:path'
import { FLAG_FILE_MAX_BYTES, FlagFileReader, readFlagFileSync, type ReadFailure, type ReaderCommand, type ReadResult } from './flag-file-reader.ts'
import { parseFlagFile } from './flag-file.ts'
import { actionTable, effectiveMode, flagLabel, parseFlags, TenantFlagError, type FlagName, type Flags, type ModelAction, type RawFlags } from './flags.ts'
import type { Mode } from './schema.ts'

export interface FlagState {
  readonly flags: Flags
  readonly mode: Mode
  /** model -> action, computed once per change */
  readonly actions: ReadonlyMap<string, ModelAction>
}

export interface FlagSourceHooks {
  /** a runtime value was refused; the last good flags stay in force */
  onError?(error: TenantFlagError): void
  /** new flags took effect */
  onChange?(state: FlagState): void
}

/**
 * What the caller needs fresh, so a source can limit what it re-reads. No aspect: the flags that
 * decide a query (ENABLED, MODE, the mode's model list). 'log' and 'bypass' are asked in the same
 * query right after, for LOG_SAMPLE_RATE and the bypass flags only. 'all': every flag.
 */
export type FlagAspect = 'log' | 'bypass' | 'all'

/**
 * Where the flags in force come from: the public contract every source keeps (env, file,
 * OpenFeature, or one of your own). tenantfence calls `current()` on every query, so it must
 * return at once, from memory: a source never does I/O, awaits or throws there. It fetches
 * elsewhere (a timer, a change event, a child process), validates what it fetched with
 * `parseFlags`, and on a bad value, an error or no answer keeps the last good state and calls
 * `hooks.onError` with a TenantFlagError (counted in tenant_flag_errors_total under its `flag`,
 * logged as TENANT_FLAG_INVALID); on new good flags it swaps the state and calls
 * `hooks.onChange`. At creation (start-up), bad or missing flags throw: the app refuses to start.
 */
export interface FlagSource {
  /** the flags in force now; `aspect` says what the caller needs fresh (a hint for sources that re-read) */
  current(aspect?: FlagAspect): FlagState
  /** stop watching: timers, readers and event handlers are released */
  close(): void
}

/** What tenantEnforcement() hands a FlagSourceFactory: the models the config protects and its hooks. */
export interface FlagSourceContext {
  readonly models: readonly string[]
  readonly hooks: FlagSourceHooks
}

/**
 * Builds a FlagSource once tenantEnforcement() knows the models and has its hooks, so that the
 * source's refusals are counted in tenant_flag_errors_total and logged. Pass it as
 * `flags: { source: factory }`; `openFeatureFlags()` (tenantfence/openfeature) returns one.
 */
export type FlagSourceFactory = (context: FlagSourceContext) => FlagSource

/** The flags as a FlagState, for sources of your own: throws TenantFlagError on a bad value. */
export function flagState(raw: RawFlags, models: readonly string[]): FlagState {
  return toState(parseFlags(raw, models), models)
}

function toState(flags: Flags, models: readonly string[]): FlagState {
  return Object.freeze({ flags, mode: effectiveMode(flags), actions: actionTable(flags, models) })
}


/**
 * Flags from process.env, read at query time. Refuses bad values at creation (start-up) with
 * a TenantFlagError; later bad values are reported through onError once per distinct value.
 *
 * Reading a process.env key costs a call into C++ (0.2–0.4 µs), so a query reads only the keys
 * that can change its outcome: ENABLED and MODE always, the model list of the mode in force,
 * LOG_SAMPLE_RATE when a line is about to be logged, the bypass flags when a bypass is asked
 * for. When any key read differs from the last value seen, all eight are read and parsed again.
 * A change to a key that cannot matter yet (ENFORCE_MODELS while in log_only) is picked up, and
 * validated, the first time it can.
 */
export function envFlagSource(models: readonly string[], hooks: FlagSourceHooks = {}, env: NodeJS.ProcessEnv = process.env): FlagSource {
  // Last values seen, by literal name: literal property reads on process.env are ~20 % cheaper than env[name].
  let enabled = env.TENANT_ENFORCEMENT_ENABLED
  let mode = env.TENANT_ENFORCEMENT_MODE
  let watched = env.TENANT_ENFORCEMENT_MODELS
  let enforceModels = env.TENANT_ENFORCEMENT_ENFORCE_MODELS
  let logModels = env.TENANT_ENFORCEMENT_LOG_MODELS
  let allowBypass = env.TENANT_ENFORCEMENT_ALLOW_BYPASS
  let requiresReason = env.TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON
  let sampleRate = env.TENANT_ENFORCEMENT_LOG_SAMPLE_RATE
  const snapshot = (): RawFlags => {
    const raw: RawFlags = {}
    const put = (k: keyof RawFlags, v: string | undefined) => {
      if (v !== undefined) raw[k] = v
    }
    put('TENANT_ENFORCEMENT_ENABLED', enabled)
    put('TENANT_ENFORCEMENT_MODE', mode)
    put('TENANT_ENFORCEMENT_MODELS', watched)
    put('TENANT_ENFORCEMENT_ENFORCE_MODELS', enforceModels)
    put('TENANT_ENFORCEMENT_LOG_MODELS', logModels)
    put('TENANT_ENFORCEMENT_ALLOW_BYPASS', allowBypass)
    put('TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON', requiresReason)
    put('TENANT_ENFORCEMENT_LOG_SAMPLE_RATE', sampleRate)
    return raw
  }
  let state = toState(parseFlags(snapshot(), models), models) // throws at start-up: refuse to start
  let refused: string | undefined

  const reparse = () => {
    enabled = env.TENANT_ENFORCEMENT_ENABLED
    mode = env.TENANT_ENFORCEMENT_MODE
    watched = env.TENANT_ENFORCEMENT_MODELS
    enforceModels = env.TENANT_ENFORCEMENT_ENFORCE_MODELS
    logModels = env.TENANT_ENFORCEMENT_LOG_MODELS
    allowBypass = env.TENANT_ENFORCEMENT_ALLOW_BYPASS
    requiresReason = env.TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON
    sampleRate = env.TENANT_ENFORCEMENT_LOG_SAMPLE_RATE
    const raw = snapshot()
    try {
      state = toState(parseFlags(raw, models), models)
      refused = undefined
      hooks.onChange?.(state)
    } catch (err) {
      if (!(err instanceof TenantFlagError)) throw err
      const key = JSON.stringify(raw)
      if (refused !== key) {
        refused = key
        hooks.onError?.(err)
      }
    }
  }

  return {
    current(aspect) {
      let dirty: boolean
      if (aspect === 'log') {
        // Asked right after current() in the same query: only the extra key.
        dirty = env.TENANT_ENFORCEMENT_LOG_SAMPLE_RATE !== sampleRate
      } else if (aspect === 'bypass') {
        dirty = env.TENANT_ENFORCEMENT_ALLOW_BYPASS !== allowBypass || env.TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON !== requiresReason
      } else {
        dirty = env.TENANT_ENFORCEMENT_ENABLED !== enabled || env.TENANT_ENFORCEMENT_MODE !== mode
        if (!dirty) {
          const m = state.mode
          if (aspect === 'all') dirty = env.TENANT_ENFORCEMENT_MODELS !== watched || env.TENANT_ENFORCEMENT_ENFORCE_MODELS !== enforceModels || env.TENANT_ENFORCEMENT_LOG_MODELS !== logModels || env.TENANT_ENFORCEMENT_ALLOW_BYPASS !== allowBypass || env.TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON !== requiresReason || env.TENANT_ENFORCEMENT_LOG_SAMPLE_RATE !== sampleRate
          else if (m === 'log_only') dirty = env.TENANT_ENFORCEMENT_MODELS !== watched
          else if (m === 'selective') dirty = env.TENANT_ENFORCEMENT_ENFORCE_MODELS !== enforceModels || env.TENANT_ENFORCEMENT_LOG_MODELS !== logModels
        }
      }
      if (dirty) reparse()
      return state
    },
    close() {},
  }
}

export { parseFlagFile } from './flag-file.ts'

export interface FileFlagSourceOptions {
  /** how often the file is read (default 1000 ms) */
  pollMs?: number
  /** a read unanswered this long is given up and its reader replaced (default 10 s, at least 3 polls) */
  stallMs?: number
  /** start-up: how long to wait for the first read before refusing to start (default 5000 ms) */
  startTimeoutMs?: number
  /** the reader process (default: /bin/sh, or Node where there is none); tests pass their own */
  reader?: ReaderCommand
}

const READ_FAILURE: Record<ReadFailure, string> = {
  missing: 'does not exist',
  not_regular: 'is not a regular file (a FIFO, a device or a directory): refused, a read of it could block forever',
  unreadable: 'cannot be read (permissions?)',
  too_large: `is larger than ${FLAG_FILE_MAX_BYTES / 1024} KiB: not a flag file`,
  stalled: 'did not answer (a hung mount?); its reader was stopped',
  reader_failed: 'could not be read: the reader process failed',
}

/**
 * Flags from a file (a mounted ConfigMap, say), re-read every pollMs: a rollback with no restart
 * at all. The same validation as the env source, and more: a file is a complete set of flags
 * (parseFlagFile), so an empty, half-written or unreadable file is refused, TENANT_FLAG_INVALID is
 * reported once per distinct refusal, and the last good flags stay. The file is read by a child
 * process (FlagFileReader), never on the event loop or libuv's thread pool. At start-up a missing
 * or bad file throws: the app refuses to start.
 */
export function fileFlagSource(
  path: string,
  models: readonly string[],
  hooks: FlagSourceHooks = {},
  options: number | FileFlagSourceOptions = {},
): FlagSource {
  const opts = typeof options === 'number' ? { pollMs: options } : options
  const pollMs = opts.pollMs ?? 1000
  const stallMs = opts.stallMs ?? Math.max(10_000, 3 * pollMs)
  if (typeof path !== 'string' || path.trim() === '' || /[\n\0]/.test(path)) {
    throw new TenantFlagError('file', 'flag file: the path must be a non-empty string without newlines')
  }
  const file = resolve(path)
  const refuse = (flag: string, message: string) => new TenantFlagError(flagLabel(flag), `flag file ${file}: ${message}`)
  const load = (r: ReadResult): FlagState => {
    if (!r.ok) throw refuse('file', `${READ_FAILURE[r.failure]}${r.detail ? ` (${r.detail})` : ''}`)
    try {
      return toState(parseFlags(parseFlagFile(r.text), models), models)
    } catch (err) {
      if (!(err instanceof TenantFlagError)) throw err
      throw refuse(err.flag, err.message)
    }
  }

  const first = readFlagFileSync(file, opts.startTimeoutMs ?? 5000, opts.reader)
  let state = load(first) // start-up: a missing or bad file refuses to start
  // What the last read saw (its text, or its failure): a refusal is reported once, not every poll.
  let seen = outcomeKey(first)
  const reader = new FlagFileReader(file, opts.reader)
  let closed = false

  const settle = (r: ReadResult) => {
    const key = outcomeKey(r)
    if (closed || key === seen) return
    seen = key
    try {
      state = load(r)
    } catch (err) {
      hooks.onError?.(err instanceof TenantFlagError ? err : refuse('file', 'could not be parsed'))
      return
    }
    hooks.onChange?.(state)
  }
  const timer = setInterval(() => {
    const waited = reader.waiting()
    if (waited !== undefined) {
      if (waited >= stallMs) reader.abandon(`no answer for ${Math.round(waited)} ms`)
      return
    }
    // A hook that throws must not become an unhandled rejection: flags never crash the app.
    reader.read()?.then(settle).catch(() => {})
  }, pollMs)
  timer.unref()
  return {
    current: () => state,
    close() {
      closed = true // the read in flight is answered `closed`: not a refusal to report
      clearInterval(timer)
      reader.close()
    },
  }
}

function outcomeKey(r: ReadResult): string {
  return r.ok ? `text:${r.text}` : `failed:${r.failure}`
}

/** Fixed flags (tests, or hardened mode where flags are ignored). */
export function staticFlagSource(raw: RawFlags, models: readonly string[]): FlagSource {
  const state = toState(parseFlags(raw, models), models)
  return { current: () => state, close() {} }
}
