// The test-time guard with the real runners: the guard-app's own suite
// (test/fixtures/scan/guard-app) runs under vitest and under Jest with tenantfence's setup file;
// each test that ran an unscoped query (or raw SQL) fails, naming the query and its call site;
// the others pass; violations outside any test fail the file.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const FIXTURE = 'test/fixtures/scan/guard-app'
const dir = mkdtempSync(join(tmpdir(), 'tenantfence-guard-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const appLines = readFileSync(`${FIXTURE}/app.ts`, 'utf8').split('\n')
const brokenLine = appLines.findIndex((l) => l.includes('where: { isActive: true }')) + 1
const brokenSite = `${FIXTURE}/app.ts:${brokenLine}:`

interface FileResult {
  name: string
  status: string
  message: string
  assertionResults: { title: string; status: string; failureMessages: string[] }[]
}

function runSuite(runner: 'vitest' | 'jest'): FileResult[] {
  const out = join(dir, `${runner}.json`)
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' }
  for (const k of Object.keys(env)) if (k.startsWith('TENANT_ENFORCEMENT_') || k.startsWith('VITEST')) delete env[k]
  const args =
    runner === 'vitest'
      ? ['node_modules/vitest/vitest.mjs', 'run', '--config', `${FIXTURE}/vitest.config.ts`, '--reporter=json', `--outputFile=${out}`]
      : ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '-c', `${FIXTURE}/jest.config.cjs`, '--json', `--outputFile=${out}`, `--cacheDirectory=${join(dir, 'jest-cache')}`]
  const res = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 110_000 })
  // The suite is meant to fail: its broken tests are the point.
  expect(res.status, `${runner} exited ${res.status}: ${res.stderr.slice(-2000)}`).toBe(1)
  return (JSON.parse(readFileSync(out, 'utf8')) as { testResults: FileResult[] }).testResults
}

const byTitle = (files: FileResult[]) => {
  const users = files.find((f) => f.name.endsWith('users.spec.ts'))!
  return Object.fromEntries(users.assertionResults.map((a) => [a.title, { status: a.status, message: a.failureMessages.join('\n') }]))
}

describe.each(['vitest', 'jest'] as const)('the guard under %s', (runner) => {
  let files: FileResult[]
  it('fails exactly the tests that ran a violating query, naming it and its call site', () => {
    files = runSuite(runner)
    const t = byTitle(files)
    expect(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.status]))).toEqual({
      'a scoped query passes': 'passed',
      'an unscoped query fails the test that ran it': 'failed',
      'raw SQL fails the test that ran it': 'failed',
      'a test that means to produce a violation allows it': 'passed',
      'an allowance is for its own test only': 'failed',
    })
    const unscoped = t['an unscoped query fails the test that ran it']!.message
    expect(unscoped).toContain('TenantViolationError: tenantfence: the test "an unscoped query fails the test that ran it" ran 1 query that breaks tenant isolation:')
    expect(unscoped).toContain(`- User.findMany: missing_tenant_id (CRITICAL, logged) at ${brokenSite}`)
    expect(t['raw SQL fails the test that ran it']!.message).toContain('- raw SQL.$queryRaw: raw_query (HIGH, logged)')
    expect(t['an allowance is for its own test only']!.message).toContain(`at ${brokenSite}`)
  }, 120_000)

  it('fails a file whose hooks ran a violating query outside any test', () => {
    const hooks = files.find((f) => f.name.endsWith('hooks.spec.ts'))!
    expect(hooks.status).toBe('failed')
    expect(hooks.assertionResults.map((a) => a.status)).toEqual(['passed'])
    expect(hooks.message).toContain('tenantfence: code outside any test (a beforeAll/afterAll hook, or a query a test did not await) ran 1 query that breaks tenant isolation')
    expect(hooks.message).toContain(`at ${brokenSite}`)
  })
})
