// Where flags come from at run time, and when they are re-parsed. The hot path calls
// `current()` on every query: it reads the raw values, compares them with the last ones seen
// and re-parses only on change. A bad value at run time keeps the last good flags.
import { readFileSync, statSync } from 'node:fs'
import { actionTable, effectiveMode, FLAG_NAMES, parseFlags, TenantFlagError, type FlagName, type Flags, type ModelAction, type RawFlags } from './flags.ts'
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

export interface FlagSource {
  current(aspect?: FlagAspect): FlagState
  close(): void
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

/** Parse a flag file: KEY=VALUE lines (a ConfigMap rendered as env) or a JSON object. */
export function parseFlagFile(text: string): RawFlags {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    const obj = JSON.parse(trimmed) as Record<string, unknown>
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, String(v)])) as RawFlags
  }
  const raw: Record<string, string> = {}
  for (const line of trimmed.split(/\r?\n/)) {
    const l = line.trim()
    if (!l || l.startsWith('#')) continue
    const eq = l.indexOf('=')
    if (eq < 1) throw new TenantFlagError(l, `flag file line "${l}" is not KEY=VALUE`)
    raw[l.slice(0, eq).trim().replace(/^export\s+/, '')] = l.slice(eq + 1).trim().replace(/^(['"])(.*)\1$/, '$2')
  }
  return raw as RawFlags
}

/**
 * Flags from a file (a mounted ConfigMap, say), re-read when it changes: a rollback with no
 * restart at all. Polled with statSync on an unref'd timer (ConfigMap updates swap symlinks,
 * which fs.watch misses, and fs.watchFile stalls when the libuv thread pool is busy). Same
 * validation and keep-the-last-good rule as the env source.
 */
export function fileFlagSource(path: string, models: readonly string[], hooks: FlagSourceHooks = {}, intervalMs = 1000): FlagSource {
  const load = () => toState(parseFlags(parseFlagFile(readFileSync(path, 'utf8')), models), models)
  const stamp = () => {
    try {
      const st = statSync(path)
      return `${st.ino}:${st.size}:${st.mtimeMs}`
    } catch (err) {
      return `missing:${(err as NodeJS.ErrnoException).code}`
    }
  }
  let seen = stamp()
  let state = load() // start-up: a missing or bad file refuses to start
  const timer = setInterval(() => {
    const now = stamp()
    if (now === seen) return
    seen = now
    try {
      state = load()
      hooks.onChange?.(state)
    } catch (err) {
      hooks.onError?.(err instanceof TenantFlagError ? err : new TenantFlagError(path, `flag file ${path}: ${(err as Error).message}`))
    }
  }, intervalMs)
  timer.unref()
  return {
    current: () => state,
    close: () => clearInterval(timer),
  }
}

/** Fixed flags (tests, or hardened mode where flags are ignored). */
export function staticFlagSource(raw: RawFlags, models: readonly string[]): FlagSource {
  const state = toState(parseFlags(raw, models), models)
  return { current: () => state, close() {} }
}
