// A fleet on this machine: three demo API processes reading one flag file (a mounted ConfigMap's
// stand-in) and one real Prometheus scraping all three. One rollback (enforce -> log_only, the
// file rewritten and renamed into place) must reach every instance and Prometheus must see the
// whole job move. The time from the rename to the last instance serving the new mode is printed
// (docs/fleet.md quotes it); nothing here asserts a duration.
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { freePort, startPrometheus, type PrometheusServer } from './helpers/prometheus.ts'
import { start, testTimeoutFor, type Started } from './helpers/spawn.ts'
import { tempDir } from './helpers/tmp.ts'

const INSTANCES = 3
const JOB = config.app.job
let instances: Started[] = []
let prometheus: PrometheusServer | undefined
afterAll(async () => {
  await Promise.all(instances.map((i) => i.stop().catch(() => {})))
  await prometheus?.stop()
})

/** The mode an instance reports on /metrics (the gauge moves in the same step as its flags), or undefined while it is not up. */
async function modeOf(port: number): Promise<string | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    return /^tenant_enforcement_mode\{[^}]*mode="([a-z_]+)"[^}]*\} 1$/m.exec(text)?.[1]
  } catch {
    return undefined
  }
}

async function query(base: string, promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`)
  return ((await r.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result
}

/** Instances of the job Prometheus last scraped in `mode`. */
async function inMode(mode: string): Promise<number> {
  const r = await query(prometheus!.url, `count(tenant_enforcement_mode{job="${JOB}", mode="${mode}"} == 1)`).catch(() => [])
  return Number(r[0]?.value[1] ?? 0)
}

const WAIT = { timeout: 90_000, interval: 200 }

describe('a fleet of three instances and one Prometheus', () => {
  it('one rollback through the flag file reaches every instance, and Prometheus sees the whole job move', { timeout: testTimeoutFor() }, async () => {
    const dir = tempDir('tf-fleet-')
    const flagFile = join(dir, 'flags.env')
    writeFileSync(flagFile, 'TENANT_ENFORCEMENT_MODE=enforce\n')
    const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()))
    instances = ports.map((port, i) =>
      start(process.execPath, ['--import', 'tsx', 'src/demo/serve.ts'], {
        label: `demo instance ${i + 1}`,
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', NIGHTLY_CLEANUP_SECONDS: '0', TENANT_ENFORCEMENT_FLAG_FILE: flagFile, LOKI_URL: '', DATABASE_URL: '' },
      }),
    )
    const targets = ports.map((p) => `'127.0.0.1:${p}'`).join(', ')
    prometheus = await startPrometheus({
      configYaml: `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: ${JOB}\n    static_configs:\n      - targets: [${targets}]\n`,
    })
    for (const [i, port] of ports.entries()) await expect.poll(() => modeOf(port), { ...WAIT, message: instances[i]!.output() }).toBe('enforce')
    await expect.poll(() => inMode('enforce'), WAIT).toBe(INSTANCES)

    // The rollback: what `tenantfence phase rollback` prints for a file source, written beside the file and renamed over it.
    writeFileSync(`${flagFile}.tmp`, 'TENANT_ENFORCEMENT_MODE=log_only\n')
    const changed = performance.now()
    renameSync(`${flagFile}.tmp`, flagFile)
    const switched = new Map<number, number>()
    while (switched.size < INSTANCES && performance.now() - changed < 60_000) {
      await Promise.all(ports.filter((p) => !switched.has(p)).map(async (p) => ((await modeOf(p)) === 'log_only' ? switched.set(p, performance.now() - changed) : undefined)))
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(switched.size).toBe(INSTANCES)
    const lastInstance = Math.max(...switched.values())
    await expect.poll(() => inMode('log_only'), WAIT).toBe(INSTANCES)
    const inPrometheus = performance.now() - changed
    expect(await inMode('enforce')).toBe(0)
    console.log(JSON.stringify({ instances: INSTANCES, pollMs: 1000, scrapeSeconds: 1, perInstanceMs: [...switched.values()].map(Math.round), lastInstanceMs: Math.round(lastInstance), prometheusSeesAllMs: Math.round(inPrometheus) }))
  })
})
