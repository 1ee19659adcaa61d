// `npm run stack:local` for real (slow: the demo API, traffic and a Prometheus for about 15 s): the
// local Prometheus scrapes the demo under its job, loads every generated rule file and sees the
// mode the demo reports; the demo's log lines land in the file `report --logs` reads.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { main } from '../src/demo/stack-local.ts'
import { freePort, requirePrometheus } from './helpers/prometheus.ts'
import { tempDir } from './helpers/tmp.ts'

async function query(base: string, promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`)
  return ((await r.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result
}

describe('npm run stack:local', () => {
  it('Prometheus scrapes the demo as config.app.job with every rule file; the log file feeds report', { timeout: 120_000 }, async () => {
    requirePrometheus()
    const dir = tempDir('tf-stack-local-')
    const [port, metricsPort, promPort] = [await freePort(), await freePort(), await freePort()]
    const base = `http://127.0.0.1:${promPort}`
    const run = main(['--port', String(port), '--metrics-port', String(metricsPort), '--prometheus-port', String(promPort), '--duration', '15', '--dir', dir, '--dotenv', join(dir, 'none.env'), '--rps', '10'])
    // polled states, never a time: the run itself ends after its duration
    let up: string | undefined
    let mode: string | undefined
    let groups = 0
    while (!(up === '1' && mode && groups) && !(await Promise.race([run.then(() => true), new Promise((r) => setTimeout(() => r(false), 500))]))) {
      up = (await query(base, `up{job="${config.app.job}"}`).catch(() => []))[0]?.value[1]
      mode = (await query(base, `tenant_enforcement_mode{job="${config.app.job}"} == 1`).catch(() => []))[0]?.metric.mode
      const rules = await fetch(`${base}/api/v1/rules`).then((r) => r.json() as Promise<{ data: { groups: unknown[] } }>, () => ({ data: { groups: [] } }))
      groups = rules.data.groups.length
    }
    expect(await run).toBe(0)
    expect(up).toBe('1')
    expect(mode).toBe('log_only')
    expect(groups).toBe(readdirSync('alerts').filter((f) => f.endsWith('.rules.yml')).length)
    expect(existsSync(join(dir, 'demo.log'))).toBe(true)
    expect(readFileSync(join(dir, 'demo.log'), 'utf8')).toContain('TENANT_VIOLATION')
  })
})
