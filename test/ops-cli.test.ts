// phase env / rollback output, and bad input: a clear message and a non-zero exit, never a stack.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './fixtures/ops/run-cli.ts'
import { freePort } from './helpers/prometheus.ts'
import { runTsx, testTimeoutFor } from './helpers/spawn.ts'

describe('phase env and rollback', () => {
  it('prints phase 2 flags as KEY=value lines', async () => {
    const res = await runCli(['phase', 'env', '2'])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatchSnapshot()
  })

  it('prints one kubectl set env command that also unsets flags the phase does not name', async () => {
    const res = await runCli(['phase', 'env', '3', '--kubectl', 'deployment/api'])
    expect(res.code).toBe(0)
    expect(res.stdout.split('\n')[1]).toBe(
      'kubectl set env deployment/api TENANT_ENFORCEMENT_ENABLED=true TENANT_ENFORCEMENT_MODE=enforce TENANT_ENFORCEMENT_LOG_SAMPLE_RATE=1 TENANT_ENFORCEMENT_ALLOW_BYPASS=true TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON=true TENANT_ENFORCEMENT_MODELS- TENANT_ENFORCEMENT_ENFORCE_MODELS- TENANT_ENFORCEMENT_LOG_MODELS-',
    )
  })

  it('notes that phase 4 (hardened) is a code option whose flags are ignored', async () => {
    const res = await runCli(['phase', 'env', '4'])
    expect(res.stdout).toContain('tenantEnforcement({ config, hardened: true })')
    expect(res.stdout).toContain('ignores every TENANT_ENFORCEMENT_* flag')
  })

  it('prints the instant rollback from the config', async () => {
    const res = await runCli(['phase', 'rollback', '--kubectl', 'deployment/api'])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatchSnapshot()
  })
})

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tf-cli-'))
  await writeFile(join(dir, 'only-garbage.log'), 'not json\nalso not json\n')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('bad input gets a message and a non-zero exit, never a stack trace', () => {
  const cases: [string, () => string[], number, RegExp][] = [
    ['missing log file', () => ['report', '--logs', join(dir, 'nope.log')], 1, /--logs .*nope\.log: cannot read the file \(ENOENT\)/],
    ['a directory as log file', () => ['report', '--logs', dir], 1, /is a directory/],
    ['bad --date', () => ['report', '--logs', 'x', '--date', '2025-02-30'], 2, /--date 2025-02-30: expected a day as YYYY-MM-DD/],
    ['no source', () => ['report'], 2, /give exactly one of --logs FILE or --loki URL/],
    ['bad --format', () => ['report', '--logs', 'x', '--format', 'html'], 2, /--format html: expected one of text, markdown, json/],
    ['bad phase', () => ['phase', 'env', '7'], 2, /phase "7" does not exist; phases are 0 \(Deploy disabled\), 1 \(Log only\), 2 \(Selective enforcement\), 3 \(Full enforcement\), 4 \(Hardened\)/],
    ['phase not a number', () => ['phase', 'check', 'two', '--prometheus', 'http://localhost:9090'], 2, /phase "two" does not exist/],
    ['unknown phase verb', () => ['phase', 'enable', '2'], 2, /unknown phase command "enable"/],
    ['bad kubectl target', () => ['phase', 'env', '1', '--kubectl', 'api'], 2, /--kubectl api: expected a workload such as deployment\/my-app/],
    ['check without prometheus', () => ['phase', 'check', '1'], 2, /phase check needs --prometheus URL/],
    ['bad --at', () => ['phase', 'check', '1', '--prometheus', 'http://localhost:9090', '--at', 'yesterday'], 2, /--at yesterday: expected RFC 3339/],
    ['not a URL', () => ['status', '--prometheus', 'localhost:9090'], 2, /--prometheus localhost:9090: not an http\(s\) URL/],
    ['status without source', () => ['status'], 2, /give exactly one of --prometheus URL or --metrics URL/],
    ['unknown option', () => ['report', '--log', 'x'], 2, /unknown option --log/],
    ['missing config', () => ['phase', 'env', '1', '--config', join(dir, 'none.config.ts')], 1, /config file not found/],
  ]
  it.each(cases)('%s', async (_name, argv, code, message) => {
    const res = await runCli(argv())
    expect(res.thrown).toBeUndefined()
    expect(res.stderr).toMatch(message)
    expect(res.code).toBe(code)
    expect(res.stderr).not.toMatch(/\n\s+at /)
  })

  it('unreachable Prometheus for check and status', async () => {
    const port = await freePort()
    for (const argv of [['phase', 'check', '1', '--prometheus', `http://127.0.0.1:${port}`], ['status', '--prometheus', `http://127.0.0.1:${port}`]]) {
      const res = await runCli(argv)
      expect(res.code).toBe(1)
      expect(res.stderr).toContain(`cannot reach Prometheus at http://127.0.0.1:${port}: ECONNREFUSED`)
    }
  })

  it('a file of only malformed lines is no report: one line, exit 1', async () => {
    const res = await runCli(['report', '--logs', join(dir, 'only-garbage.log')])
    expect(res.code).toBe(1)
    expect(res.stdout).toBe('')
    expect(res.stderr).toContain('no readable log line in 2 lines')
  })

  it('the real binary prints the message, not a stack (spawned through tsx)', { timeout: testTimeoutFor() }, async () => {
    const res = await runTsx('src/cli.ts', ['report', '--logs', join(dir, 'nope.log')])
    expect(res.code).toBe(1)
    expect(res.stderr.trim()).toBe(`tenantfence report: --logs ${join(dir, 'nope.log')}: cannot read the file (ENOENT)`)
  })
})
