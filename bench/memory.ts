// Memory over many checks: the heap after a full collection, before and after N calls of
// tenantfence's hook, and how many collections the calls caused (a proxy for what the hot
// path allocates).
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { getHeapSpaceStatistics } from 'node:v8'
import { tenantStorage } from '../src/enforcement/context.ts'
import type { DataModel } from '../src/enforcement/datamodel.ts'
import { CORPUS } from './corpus.ts'
import { paramsOf, requestStore } from './micro.ts'
import { extractHook, FLAGS, nullLogger, setEnvFlags, type FlagSet } from './setup.ts'

export interface MemoryResult {
  id: string
  label: string
  checks: number
  heapBeforeMiB: number
  heapAfterMiB: number
  /** heap growth after a full collection, bytes per 1 000 checks */
  retainedBytesPer1k: number
  minorGcs: number
  majorGcs: number
  logLines: number
  /** bytes allocated per check (young-generation growth over a run of checks no collection interrupted) */
  allocatedBytesPerCheck: number
}

const newSpaceUsed = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? Number.NaN

/** Young-generation growth per call over short runs; runs a scavenge interrupted (growth < 0) are dropped. */
function allocationPerCall(loop: (count: number) => void, count = 2000, attempts = 15): number {
  const perCall: number[] = []
  for (let a = 0; a < attempts; a++) {
    const before = newSpaceUsed()
    loop(count)
    const grown = newSpaceUsed() - before
    if (grown >= 0) perCall.push(grown / count)
  }
  perCall.sort((x, y) => x - y)
  return perCall.length ? perCall[Math.floor(perCall.length / 2)]! : Number.NaN
}

/** A full collection once pending jobs (promise reactions, weak refs kept for the job) are done. */
async function fullGc(gc: () => void) {
  await sleep(10)
  gc()
  await sleep(10)
  gc()
}

const MiB = 1024 * 1024

async function gcCounts<T>(fn: () => T): Promise<{ value: T; minor: number; major: number }> {
  let minor = 0
  let major = 0
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++
    }
  })
  obs.observe({ entryTypes: ['gc'] })
  const value = fn()
  await new Promise((r) => setTimeout(r, 50))
  obs.disconnect()
  return { value, minor, major }
}

export async function benchMemory(datamodel: DataModel, checks: number, gc: () => void): Promise<MemoryResult[]> {
  const runs: { id: string; label: string; flags: FlagSet; typical: boolean }[] = [
    { id: 'enforce', label: 'enforce, typical scoped mix', flags: FLAGS.enforce, typical: true },
    { id: 'log_violations_0.01', label: 'log_only, violations, sample 0.01', flags: FLAGS.log_only_sampled, typical: false },
  ]
  const out: MemoryResult[] = []
  for (const run of runs) {
    const log = nullLogger()
    const { hook } = extractHook(datamodel, { logger: log.logger })
    setEnvFlags(run.flags)
    const params = CORPUS.filter((s) => s.typical === run.typical).map((s) => paramsOf(s, false))
    const n = params.length
    const store = requestStore()
    const loop = (count: number) => tenantStorage.run(store, () => {
      for (let i = 0; i < count; i++) hook(params[i % n]!)
    })
    loop(10_000) // warm: JIT, label series, flag parse
    const allocated = allocationPerCall(loop)
    await fullGc(gc)
    const before = process.memoryUsage().heapUsed
    const { minor, major } = await gcCounts(() => loop(checks))
    await fullGc(gc)
    const after = process.memoryUsage().heapUsed
    out.push({
      id: run.id,
      label: run.label,
      checks,
      heapBeforeMiB: before / MiB,
      heapAfterMiB: after / MiB,
      retainedBytesPer1k: ((after - before) / checks) * 1000,
      minorGcs: minor,
      majorGcs: major,
      logLines: log.lines(),
      allocatedBytesPerCheck: allocated,
    })
  }
  return out
}
