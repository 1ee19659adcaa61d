// A fleet on this machine: three demo API processes and one real Prometheus scraping all three.
// One rollback (enforce -> log_only) must reach every instance and Prometheus must see the whole
// job move: through one flag file (a mounted ConfigMap's stand-in) rewritten and renamed into
// place, and through a flag service the instances follow with OpenFeature. The time from the
// change to the last instance serving the new mode is printed (docs/fleet.md quotes it); nothing
// here asserts a duration.
import { renameSync, writeFileSync } from 'node:fs'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
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
afterAll(() => stopFleet())

/** The mode an instance reports on its metrics listener (the gauge moves in the same step as its flags), or undefined while it is not up. */
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

/**
 * Start the instances (each `script` with `env(port)` and a metrics listener of its own on
 * METRICS_PORT) and a Prometheus scraping them every second; resolve once every instance and
 * Prometheus report `enforce`. Returns the metrics ports.
 */
async function startFleet(script: string, env: (port: number) => NodeJS.ProcessEnv): Promise<number[]> {
  const apiPorts = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()))
  const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()))
  instances = apiPorts.map((port, i) =>
    start(process.execPath, ['--import', 'tsx', script], { label: `demo instance ${i + 1}`, env: { ...process.env, ...env(port), METRICS_PORT: String(ports[i]), METRICS_HOST: '127.0.0.1' } }),
  )
  const targets = ports.map((p) => `'127.0.0.1:${p}'`).join(', ')
  prometheus = await startPrometheus({
    configYaml: `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: ${JOB}\n    static_configs:\n      - targets: [${targets}]\n`,
  })
  for (const [i, port] of ports.entries()) await expect.poll(() => modeOf(port), { ...WAIT, message: instances[i]!.output() }).toBe('enforce')
  await expect.poll(() => inMode('enforce'), WAIT).toBe(INSTANCES)
  return ports
}

/** Make the change, then poll every instance until each serves log_only; the times from the change, in ms. */
async function rollBack(ports: number[], change: () => void): Promise<{ perInstanceMs: number[]; lastInstanceMs: number; prometheusSeesAllMs: number }> {
  const changed = performance.now()
  change()
  const switched = new Map<number, number>()
  while (switched.size < INSTANCES && performance.now() - changed < 60_000) {
    await Promise.all(ports.filter((p) => !switched.has(p)).map(async (p) => ((await modeOf(p)) === 'log_only' ? switched.set(p, performance.now() - changed) : undefined)))
    await new Promise((r) => setTimeout(r, 10))
  }
  expect(switched.size).toBe(INSTANCES)
  const lastInstanceMs = Math.max(...switched.values())
  await expect.poll(() => inMode('log_only'), WAIT).toBe(INSTANCES)
  const prometheusSeesAllMs = performance.now() - changed
  expect(await inMode('enforce')).toBe(0)
  return { perInstanceMs: [...switched.values()].map(Math.round), lastInstanceMs: Math.round(lastInstanceMs), prometheusSeesAllMs: Math.round(prometheusSeesAllMs) }
}

async function stopFleet() {
  await Promise.all(instances.map((i) => i.stop().catch(() => {})))
  instances = []
  await prometheus?.stop()
  prometheus = undefined
}

describe('a fleet of three instances and one Prometheus', () => {
  it('one rollback through the flag file reaches every instance, and Prometheus sees the whole job move', { timeout: testTimeoutFor() }, async () => {
    const dir = tempDir('tf-fleet-')
    const flagFile = join(dir, 'flags.env')
    writeFileSync(flagFile, 'TENANT_ENFORCEMENT_MODE=enforce\n')
    const ports = await startFleet('src/demo/serve.ts', (port) => ({ PORT: String(port), HOST: '127.0.0.1', NIGHTLY_CLEANUP_SECONDS: '0', TENANT_ENFORCEMENT_FLAG_FILE: flagFile, LOKI_URL: '', DATABASE_URL: '' }))
    // The rollback: what `tenantfence phase rollback` prints for a file source, written beside the file and renamed over it.
    writeFileSync(`${flagFile}.tmp`, 'TENANT_ENFORCEMENT_MODE=log_only\n')
    const measured = await rollBack(ports, () => renameSync(`${flagFile}.tmp`, flagFile))
    console.log(JSON.stringify({ source: 'file', instances: INSTANCES, pollMs: 1000, scrapeSeconds: 1, ...measured }))
    await stopFleet()
  })

  it('one rollback in a flag service (OpenFeature, a streaming provider) reaches every instance through its change event', { timeout: testTimeoutFor() }, async () => {
    // The flag service: each client holds /stream open and gets the whole set of flags, one JSON line per change.
    let flags = { TENANT_ENFORCEMENT_MODE: 'enforce' }
    const streams = new Set<ServerResponse>()
    const service = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      res.write(`${JSON.stringify(flags)}\n`)
      streams.add(res)
      req.on('close', () => streams.delete(res))
    })
    await new Promise<void>((ok) => service.listen(0, '127.0.0.1', ok))
    try {
      const url = `http://127.0.0.1:${(service.address() as AddressInfo).port}/stream`
      const ports = await startFleet('test/helpers/fleet-openfeature-instance.ts', (port) => ({ PORT: String(port), FLAG_SERVICE_URL: url }))
      const measured = await rollBack(ports, () => {
        flags = { TENANT_ENFORCEMENT_MODE: 'log_only' }
        for (const s of streams) s.write(`${JSON.stringify(flags)}\n`)
      })
      console.log(JSON.stringify({ source: 'openfeature', instances: INSTANCES, scrapeSeconds: 1, ...measured }))
      await stopFleet()
    } finally {
      for (const s of streams) s.end()
      service.closeAllConnections()
      await new Promise((ok) => service.close(ok))
    }
  })
})
