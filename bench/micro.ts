// Nanosecond-level measurements without a database: the pure core (inspect + decide) over the
// corpus, tenantfence's whole query hook in each mode, and the parts of the hook one by one.
// Each figure is a per-call time measured over batches of calls; p99 is the 99th percentile of
// the per-call times of the batches (a single call is below the timer's resolution).
import { Histogram, Registry } from 'prom-client'
import { envFlagSource } from '../src/config/flag-source.ts'
import { FLAG_NAMES } from '../src/config/flags.ts'
import { tenantStorage, type TenantStore } from '../src/enforcement/context.ts'
import type { DataModel } from '../src/enforcement/datamodel.ts'
import { decideQuery } from '../src/enforcement/decide.ts'
import { inspect } from '../src/enforcement/inspect.ts'
import { compilePolicy } from '../src/enforcement/policy.ts'
import { CHECK_DURATION_BUCKETS } from '../src/telemetry/metric-names.ts'
import { CORPUS, TENANT, type Shape } from './corpus.ts'
import { config, extractHook, FLAGS, nullLogger, setEnvFlags, type FlagSet, type QueryHook } from './setup.ts'
import { percentile, Samples } from './stats.ts'

export interface NsResult {
  name: string
  /** mean ns per call over all batches */
  mean: number
  /** per-call ns of the batches the OS did not interrupt (no involuntary context switch during the batch) */
  p50: number
  p99: number
  max: number
  /** p99 over every batch, interrupted or not: on a loaded machine this measures the scheduler */
  p99All: number
  calls: number
  /** batches left out of p50/p99/max because the process was preempted while they ran */
  preemptedBatches: number
  batches: number
}

export interface MicroOptions {
  batch: number
  batches: number
}

// Results flow into this sink so that the JIT cannot drop the work being measured.
let sink = 0
export const sinkValue = () => sink

const preemptions = () => process.resourceUsage().involuntaryContextSwitches

/**
 * Time fn over `batches` batches of `batch` calls; fn gets the call index. A batch during which
 * the kernel preempted the process (another process took the core) measures the scheduler, not
 * the code: it counts in the mean and in p99All but not in p50/p99/max. Garbage collection
 * happens on this thread and stays in every figure.
 */
export function measure(name: string, fn: (i: number) => unknown, { batch, batches }: MicroOptions): NsResult {
  const warm = Math.max(2000, batch * 10)
  for (let i = 0; i < warm; i++) if (fn(i) === sink) sink++
  const clean = new Samples(batches)
  const all = new Samples(batches)
  let total = 0
  let k = 0
  let preempted = 0
  for (let b = 0; b < batches; b++) {
    const cs = preemptions()
    const t0 = performance.now()
    for (let i = 0; i < batch; i++) if (fn(k++) === sink) sink++
    const dt = performance.now() - t0
    total += dt
    const ns = (dt * 1e6) / batch
    all.push(ns)
    if (preemptions() === cs) clean.push(ns)
    else preempted++
  }
  const s = clean.length > 0 ? clean.sorted() : all.sorted()
  return {
    name,
    mean: (total * 1e6) / (batch * batches),
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s[s.length - 1]!,
    p99All: percentile(all.sorted(), 99),
    calls: batch * batches,
    preemptedBatches: preempted,
    batches,
  }
}

export interface CoreResult {
  shapes: (NsResult & { typical: boolean; outcome: string })[]
  /** every typical shape in turn, as an app mixes them */
  mixedTypical: NsResult
  /** the empty measuring loop (a call through a closure), already included in every figure */
  loopOverhead: NsResult
}

const blockAll = () => 'block' as const
/** The pure core of one query: inspect, then one decision over its findings (every model blocked, as in enforce). */
function check(policy: ReturnType<typeof compilePolicy>, s: Shape) {
  const found = inspect(policy, s.model, s.operation, s.args, TENANT)
  return found === null ? 'allow' : decideQuery(found.findings, blockAll).decision
}

/** inspect + decide per shape, and over the typical shapes mixed. */
export function benchCore(datamodel: DataModel, opts: MicroOptions): CoreResult {
  const policy = compilePolicy(config, datamodel)
  // Warm the whole corpus first: the walk's functions are shared by every shape, and V8 optimizes
  // (and re-optimizes, as shapes vary) them during the first tens of thousands of calls. Without
  // this the first shape measured pays for that tiering in its p99. Cold cost: docs/performance.md.
  for (let i = 0; i < 20_000; i++) for (const s of CORPUS) check(policy, s)
  const loopOverhead = measure('empty loop', (i) => i, opts)
  const shapes = CORPUS.map((s) => {
    const found = inspect(policy, s.model, s.operation, s.args, TENANT)
    const r = measure(s.name, () => check(policy, s), opts)
    const outcome = found === null ? 'scoped' : (found.findings[0]?.violation ?? `verified by lookup (${found.references.length})`)
    return { ...r, typical: s.typical, outcome }
  })
  const typical = CORPUS.filter((s) => s.typical)
  const n = typical.length
  const mixedTypical = measure('typical shapes, mixed', (i) => {
    const s = typical[i % n]!
    return check(policy, s)
  }, opts)
  return { shapes, mixedTypical, loopOverhead }
}

const resolved = Promise.resolve(null)
const query = () => resolved
const noop = () => {}

export interface HookScenario {
  id: string
  label: string
  flags: FlagSet
  shapes: readonly Shape[]
}

export const HOOK_SCENARIOS: readonly HookScenario[] = [
  { id: 'disabled', label: 'disabled', flags: FLAGS.disabled, shapes: CORPUS.filter((s) => s.typical) },
  { id: 'log_only', label: 'log_only, scoped (typical mix)', flags: FLAGS.log_only, shapes: CORPUS.filter((s) => s.typical) },
  { id: 'enforce', label: 'enforce, scoped (typical mix)', flags: FLAGS.enforce, shapes: CORPUS.filter((s) => s.typical) },
  { id: 'enforce_findMany', label: 'enforce, scoped findMany', flags: FLAGS.enforce, shapes: CORPUS.filter((s) => s.name === 'findMany scoped') },
  { id: 'log_violations_1', label: 'log_only, violations, sample 1.0', flags: FLAGS.log_only, shapes: CORPUS.filter((s) => !s.typical) },
  { id: 'log_violations_0.01', label: 'log_only, violations, sample 0.01', flags: FLAGS.log_only_sampled, shapes: CORPUS.filter((s) => !s.typical) },
  { id: 'enforce_blocked', label: 'enforce, violations (blocked)', flags: FLAGS.enforce, shapes: CORPUS.filter((s) => !s.typical) },
]

export function requestStore(tenantId: number = TENANT): TenantStore {
  return { context: { tenantId, userId: 7, endpoint: '/api/users/:id', method: 'GET' }, bypass: undefined }
}

/** Prisma hands the hook a fresh params object per query, with the call site it captured. */
function paramsOf(s: Shape, withCallsite: boolean) {
  return { model: s.model, operation: s.operation, args: s.args, query, ...(withCallsite ? { __internalParams: { callsite: { _error: new Error('callsite') } } } : {}) }
}

/** tenantfence's whole hook (flags, context, inspect, decide, histogram, report) per call, no Prisma. */
export function benchHook(datamodel: DataModel, opts: MicroOptions): { results: (NsResult & { id: string; linesLogged: number })[] } {
  const log = nullLogger()
  const { hook } = extractHook(datamodel, { logger: log.logger })
  const results: (NsResult & { id: string; linesLogged: number })[] = []
  for (const sc of HOOK_SCENARIOS) {
    setEnvFlags(sc.flags)
    const params = sc.shapes.map((s) => paramsOf(s, false))
    const n = params.length
    const before = log.lines()
    const r = tenantStorage.run(requestStore(), () =>
      measure(sc.label, (i) => {
        const p = hook(params[i % n]!)
        if (sc.id === 'enforce_blocked') p.catch(noop)
        return p
      }, sc.id === 'log_violations_1' || sc.id === 'enforce_blocked' ? { batch: Math.max(10, opts.batch / 10), batches: opts.batches } : opts),
    )
    results.push({ ...r, id: sc.id, linesLogged: log.lines() - before })
  }
  return { results }
}

/** The parts of the hook, one at a time: where do the nanoseconds go? */
export function benchParts(datamodel: DataModel, opts: MicroOptions): NsResult[] {
  setEnvFlags(FLAGS.enforce)
  const policy = compilePolicy(config, datamodel)
  const models = Object.keys(config.models)
  const source = envFlagSource(models)
  const env = process.env
  const histogram = new Histogram({ name: 'bench_check_seconds', help: 'bench', buckets: CHECK_DURATION_BUCKETS, registers: [new Registry()] })
  const observe = histogram.labels().observe
  const scoped = CORPUS.find((s) => s.name === 'findMany scoped')!
  const n = FLAG_NAMES.length
  return tenantStorage.run(requestStore(), () => [
    measure('process.env: the 8 flag keys, env[name] in a loop', () => {
      let len = 0
      for (let k = 0; k < n; k++) len += env[FLAG_NAMES[k]!]?.length ?? 0
      return len
    }, opts),
    measure('envFlagSource.current(), flags unchanged', () => source.current(), opts),
    measure('AsyncLocalStorage.getStore()', () => tenantStorage.getStore(), opts),
    measure('performance.now() twice', () => performance.now() - performance.now(), opts),
    measure('histogram.observe(v) (prom-client, no labels)', (i) => histogram.observe(i * 1e-9), opts),
    measure('histogram observer bound once (as the hook does)', (i) => observe(i * 1e-9), opts),
    measure('inspect + decide, findMany scoped', () => check(policy, scoped), opts),
  ])
}

export interface Verifications {
  /** re-parses seen over `calls` current() calls with no change, then after one change and its undo */
  flagReparse: { calls: number; reparsesUnchanged: number; reparsesAfterTwoChanges: number; ok: boolean }
  /** stacks formatted vs lines logged, over `violations` violations at sample rate 0.01 */
  stackCapture: { violations: number; linesLogged: number; stacksFormatted: number; ok: boolean }
}

/** Check two claims of the hot path rather than trusting them. */
export function verify(datamodel: DataModel, calls: number): Verifications {
  setEnvFlags(FLAGS.enforce)
  let reparses = 0
  const source = envFlagSource(Object.keys(config.models), { onChange: () => reparses++ })
  for (let i = 0; i < calls; i++) source.current()
  const reparsesUnchanged = reparses
  // LOG_SAMPLE_RATE is re-read where a line may be written (current('log')), not on every query.
  process.env.TENANT_ENFORCEMENT_LOG_SAMPLE_RATE = '0.5'
  source.current('log')
  source.current('log')
  setEnvFlags(FLAGS.enforce)
  source.current('log')
  const flagReparse = { calls, reparsesUnchanged, reparsesAfterTwoChanges: reparses, ok: reparsesUnchanged === 0 && reparses === 2 }

  // Prisma captures an Error per query as the call site; formatting its stack is the expensive
  // part and must happen only for lines that are written. V8 calls Error.prepareStackTrace when
  // a stack is first formatted, so count those calls.
  setEnvFlags(FLAGS.log_only_sampled)
  const log = nullLogger()
  const { hook } = extractHook(datamodel, { logger: log.logger })
  const violation = CORPUS.find((s) => s.name === 'unscoped findMany')!
  const violations = Math.max(2000, Math.floor(calls / 10))
  const prepared: Error[] = []
  for (let i = 0; i < violations; i++) prepared.push(new Error('callsite'))
  const previous = Error.prepareStackTrace
  let formatted = 0
  Error.prepareStackTrace = (err, frames) => {
    formatted++
    return `${String(err)}\n${frames.map((f) => `    at ${String(f)}`).join('\n')}`
  }
  try {
    tenantStorage.run(requestStore(), () => {
      for (let i = 0; i < violations; i++) hook({ model: violation.model, operation: violation.operation, args: violation.args, query, __internalParams: { callsite: { _error: prepared[i]! } } })
    })
  } finally {
    Error.prepareStackTrace = previous
  }
  const linesLogged = log.lines()
  return { flagReparse, stackCapture: { violations, linesLogged, stacksFormatted: formatted, ok: formatted <= linesLogged && linesLogged < violations / 10 } }
}

export { paramsOf }
