// src/demo/serve.ts, the compose stack's demo container: the command of the Dockerfile starts,
// answers /healthz (the compose healthcheck) and /metrics, and stops on SIGTERM; the settings it
// reads from the environment are checked at start-up; a watched flag file changes the mode with
// no restart.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { parseFixes, startDemoServer } from '../src/demo/serve.ts'
import { ALL_FIXES } from '../src/demo/fixes.ts'
import { signDemoToken } from '../src/demo/tokens.ts'
import { DEMO_USERS } from '../src/demo/fixture.ts'
import { METRIC } from '../src/telemetry/metric-names.ts'
import { freePort } from './helpers/prometheus.ts'
import { SPAWN_DEADLINE_MS, start, testTimeoutFor } from './helpers/spawn.ts'
import { tempDir } from './helpers/tmp.ts'

const silent = pino({ level: 'silent' })

const modeOf = (metrics: string) => new RegExp(`^${METRIC.mode}\\{mode="([a-z_]+)"\\} 1$`, 'm').exec(metrics)?.[1]

describe('stack: the demo server (src/demo/serve.ts)', () => {
  it('runs as the Dockerfile runs it: healthz, metrics under the config\'s mode, clean exit on SIGTERM', async () => {
    const port = await freePort()
    const metricsPort = await freePort()
    const env = { ...process.env, PORT: String(port), METRICS_PORT: String(metricsPort), HOST: '127.0.0.1', LOKI_URL: '', NIGHTLY_CLEANUP_SECONDS: '0', TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_FLAG_FILE: '' }
    // the Dockerfile's CMD: node --import tsx src/demo/serve.ts
    const server = start(process.execPath, ['--import', 'tsx', 'src/demo/serve.ts'], { env, label: 'node --import tsx src/demo/serve.ts' })
    try {
      // Start-up is a tsx compile and a migration: seconds idle, far more on a busy machine.
      const health = async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status
      await expect.poll(health, { timeout: SPAWN_DEADLINE_MS, interval: 200, message: `no /healthz answer; output:\n${server.output()}` }).toBe(200)
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
      expect(modeOf(metrics)).toBe('log_only')
      // never on the API's port
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401)
      expect(server.output()).toContain('demo API listening')
    } finally {
      // a clean exit on SIGTERM: code 0; stop() fails naming a signal or a child that ignored SIGTERM
      expect(await server.stop('SIGTERM'), server.output()).toBe(0)
    }
  }, testTimeoutFor())

  it('refuses to start on an unknown fix or a bad number, naming the valid values', async () => {
    expect(() => parseFixes('admin-users-tenant,nope')).toThrow(`DEMO_FIXES names "nope": valid fixes are ${ALL_FIXES.join(', ')}, or all`)
    expect(parseFixes('all')).toEqual(ALL_FIXES)
    expect(parseFixes(' sessions-relation-filter , admin-users-tenant ')).toEqual(['sessions-relation-filter', 'admin-users-tenant'])
    expect(parseFixes(undefined)).toEqual([])
    await expect(startDemoServer({ port: 0, metricsPort: 0, env: { NIGHTLY_CLEANUP_SECONDS: 'soon' }, logger: silent })).rejects.toThrow('NIGHTLY_CLEANUP_SECONDS=soon: expected a whole number')
  })

  it('deploys the fixes it is given: a fixed path is scoped, so it logs no violation', async () => {
    const s = await startDemoServer({ port: 0, metricsPort: 0, env: { DEMO_FIXES: 'admin-users-tenant', NIGHTLY_CLEANUP_SECONDS: '0' }, logger: silent })
    const saved = process.env.TENANT_ENFORCEMENT_MODE
    process.env.TENANT_ENFORCEMENT_MODE = 'enforce'
    try {
      const token = await signDemoToken(DEMO_USERS[0]!)
      const get = (path: string) => fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
      expect((await get('/api/admin/users')).status).toBe(200) // fixed: scoped to the tenant
      expect((await get('/api/admin/roles')).status).toBe(403) // not fixed: blocked in enforce
    } finally {
      if (saved === undefined) delete process.env.TENANT_ENFORCEMENT_MODE
      else process.env.TENANT_ENFORCEMENT_MODE = saved
      await s.close()
    }
  })

  it('reads the flags from TENANT_ENFORCEMENT_FLAG_FILE and follows edits with no restart', async () => {
    const file = join(tempDir('tf-serve-'), 'flags.env')
    await writeFile(file, 'TENANT_ENFORCEMENT_MODE=enforce\n')
    const s = await startDemoServer({ port: 0, metricsPort: 0, env: { TENANT_ENFORCEMENT_FLAG_FILE: file, NIGHTLY_CLEANUP_SECONDS: '0' }, logger: silent })
    try {
      const mode = async () => modeOf(await (await fetch(s.metricsUrl)).text())
      expect(await mode()).toBe('enforce')
      await writeFile(file, 'TENANT_ENFORCEMENT_MODE=log_only\n')
      await expect.poll(mode, { timeout: 60_000, interval: 200 }).toBe('log_only') // a file watch: generous on a busy machine
    } finally {
      await s.close()
    }
  })
})
