// The report streams its input: a file far larger than the heap limit goes through in bounded
// memory (the aggregator keeps counters keyed by bounded tuples, never the lines).
// In `npm run test:slow`: writing and reading 200 MB twice keeps a core busy for 30 s or more.
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { dailyReport } from '../src/ops/report-cli.ts'
import { runTsx, testTimeoutFor } from './helpers/spawn.ts'
import { tempDir } from './helpers/tmp.ts'

const LINES = 600_000
const MODELS = [['User', 'CRITICAL'], ['RefreshToken', 'CRITICAL'], ['Role', 'HIGH'], ['SecurityAlert', 'HIGH'], ['RolePermission', 'MEDIUM']] as const
let file: string

function lineFor(i: number): string {
  const day = i % 3 === 0 ? '2025-06-01' : '2025-06-02'
  const [model, severity] = MODELS[i % MODELS.length]!
  const sec = String(i % 60).padStart(2, '0')
  return `{"level":40,"time":0,"pid":7,"hostname":"api-7d9f","msg":"TENANT_VIOLATION","timestamp":"${day}T12:00:${sec}.000Z","severity":"${severity}","model":"${model}","action":"findMany","violation":"missing_tenant_id","decision":"logged","mode":"log_only","endpoint":"/api/items/${i % 50}/:id","method":"GET","userId":"u_${i % 997}","tenantId":"t_${i % 13}","stackTrace":"at handler (src/api/items.ts:${i % 400}:9)\\nat route (src/http/router.ts:88:3)","queryArgs":{"where":{"id":"[redacted]","status":"active"},"take":50}}`
}

beforeAll(async () => {
  file = join(tempDir('tf-report-'), 'big.jsonl')
  const out = createWriteStream(file)
  for (let i = 0; i < LINES; i += 10_000) {
    const chunk: string[] = []
    for (let j = i; j < i + 10_000; j++) chunk.push(j % 100_000 === 99_999 ? 'garbage line' : lineFor(j))
    if (!out.write(chunk.join('\n') + '\n')) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}, 300_000)

// Day 2025-06-02 gets lines with i % 3 != 0; 6 garbage lines (i % 100000 == 99999) are malformed.
const garbage = Array.from({ length: LINES / 100_000 }, (_, k) => k * 100_000 + 99_999)
const expectedToday = Array.from({ length: LINES }, (_, i) => i).filter((i) => i % 3 !== 0 && !garbage.includes(i)).length
const expectedBefore = Array.from({ length: LINES }, (_, i) => i).filter((i) => i % 3 === 0 && !garbage.includes(i)).length

describe('report over a large file', () => {
  it('streams 600 k lines (over 200 MB) with bounded heap growth and exact totals', async () => {
    const size = (await stat(file)).size
    expect(size).toBeGreaterThan(200 * 1024 * 1024)
    global.gc?.()
    const before = process.memoryUsage().heapUsed
    let peak = before
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20)
    const r = await dailyReport({ logs: file })
    clearInterval(timer)
    peak = Math.max(peak, process.memoryUsage().heapUsed)
    expect(r.date).toBe('2025-06-02')
    expect(r.total).toBe(expectedToday)
    expect(r.previousTotal).toBe(expectedBefore)
    expect(r.input.malformed).toBe(garbage.length)
    expect(r.topEndpoints).toHaveLength(10)
    // Holding the lines would take hundreds of MB; counters take well under a few MB. The
    // margin covers garbage the collector has not reclaimed yet.
    expect(peak - before).toBeLessThan(96 * 1024 * 1024)
  }, 300_000)

  it('finishes under a 64 MB old-space limit in a separate process', { timeout: testTimeoutFor(300_000) }, async () => {
    // Holding the lines would run out of heap: V8 kills the child (a signal or exit 134), reported as such.
    const { code, stdout, stderr } = await runTsx('src/cli.ts', ['report', '--logs', file, '--format', 'json'], { nodeArgs: ['--max-old-space-size=64'], deadlineMs: 300_000 })
    expect(stderr).toContain('malformed line(s) skipped')
    expect(code, stderr.slice(-2000)).toBe(0)
    const r = JSON.parse(stdout)
    expect([r.total, r.previousTotal]).toEqual([expectedToday, expectedBefore])
  })
})
