import { openBenchDatabase } from './db.ts'
import { benchHook, benchParts } from './micro.ts'
import { benchMemory } from './memory.ts'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const db = await openBenchDatabase('memory')
const dm = (db.prisma as any)._runtimeDataModel
const opts = { batch: 100, batches: 3000 }
for (const r of benchHook(dm, opts).results) console.log(r.name.padEnd(36), 'mean', r.mean.toFixed(0), 'p50', r.p50.toFixed(0), 'p99', r.p99.toFixed(0))
if (process.argv.includes('--parts')) for (const r of benchParts(dm, opts)) console.log(r.name.padEnd(46), 'p50', r.p50.toFixed(0))
for (const m of await benchMemory(dm, 200_000, gc)) console.log(m.label.padEnd(36), 'alloc B/check', m.allocatedBytesPerCheck.toFixed(0), 'minor', m.minorGcs, 'heap', m.heapBeforeMiB.toFixed(2), m.heapAfterMiB.toFixed(2))
await db.close()
