// `tenantfence scan` as users run it: through the CLI's main (exit codes, files written, messages
// for bad input) and once as a real process.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkTypeScript, type TypeScript } from '../src/scan/typescript.ts'
import { runCli } from './fixtures/ops/run-cli.ts'

const SMALL = 'test/fixtures/scan/app/small.ts'
const lines = readFileSync(SMALL, 'utf8').split('\n')
const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1
const dir = mkdtempSync(join(tmpdir(), 'tenantfence-scan-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('tenantfence scan (CLI)', () => {
  it('refuses a bad format, naming the valid ones, before scanning', async () => {
    const res = await runCli(['scan', SMALL, '--format', 'yaml'])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain('--format: "yaml" is not a format; use one of text, json, sarif')
  })

  it('refuses --update-baseline without a file, and a missing baseline, before scanning', async () => {
    expect((await runCli(['scan', SMALL, '--update-baseline'])).stderr).toContain('--update-baseline needs --baseline FILE')
    const res = await runCli(['scan', SMALL, '--baseline', join(dir, 'nope.json')])
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/baseline .*nope\.json not found: create it with --baseline .*nope\.json --update-baseline/)
  })

  it('refuses an unknown option and a path that does not exist', async () => {
    const unknown = await runCli(['scan', '--sarif'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/unknown option --sarif \(options: --help, --config/)
    const missing = await runCli(['scan', 'src/nope'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('cannot scan src/nope: no such file or folder')
  })

  it('refuses a TypeScript whose JavaScript compiler API it was not written against', () => {
    expect(() => checkTypeScript({ version: '7.0.2' } as TypeScript)).toThrow('tenantfence scan needs typescript 5.x or 6.x (its JavaScript compiler API); found 7.0.2: npm install --save-dev typescript@5')
    expect(checkTypeScript({ version: '5.9.3' } as TypeScript).version).toBe('5.9.3')
  })

  it('refuses to pass when no query could be typed (an unresolved or never generated client looks like an app without queries)', async () => {
    // one scan for both: a client typed any, and an import of a client `prisma generate` never wrote
    const res = await runCli(['scan', 'test/fixtures/scan/app/untyped.ts', 'test/fixtures/scan/app/no-client.ts'])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain('no Prisma query could be typed, but 2 call(s) look like one (first: test/fixtures/scan/app/')
    expect(res.stderr).toContain('does the tsconfig resolve the generated Prisma client? If it was never generated, run `npx prisma generate` first; else pass --project')
  }, 120_000)

  it('finds the schema as init and audit do: a missing one is bad setup, named', async () => {
    const res = await runCli(['scan', SMALL, '--schema', join(dir, 'nope.prisma')])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain(`the Prisma schema named by --schema does not exist: ${join(dir, 'nope.prisma')}`)
  })

  it('accepts today\'s findings with --update-baseline (from a multi-file schema), then passes with --baseline and writes SARIF', async () => {
    // The demo's schema split over a folder, as prisma/schema/*.prisma apps keep it.
    const folder = join(dir, 'schema')
    mkdirSync(folder)
    const text = readFileSync('prisma/schema.prisma', 'utf8')
    const cut = text.indexOf('model Role ')
    writeFileSync(join(folder, 'base.prisma'), text.slice(0, cut))
    writeFileSync(join(folder, 'more.prisma'), text.slice(cut))
    const baseline = join(dir, 'tenantfence-baseline.json')
    const update = await runCli(['scan', SMALL, '--baseline', baseline, '--update-baseline', '--schema', folder])
    expect(update.code).toBe(0)
    expect(update.stderr).toContain(`wrote 2 accepted findings to ${baseline}`)
    const accepted = JSON.parse(readFileSync(baseline, 'utf8'))
    expect(accepted.findings.map((f: { query: string; verdict: string }) => `${f.query} ${f.verdict}`)).toEqual(['AuditLog.findMany unverifiable', 'User.findFirst unscoped'])

    const sarif = join(dir, 'scan.sarif')
    const res = await runCli(['scan', SMALL, '--baseline', baseline, '--format', 'sarif', '--output', sarif])
    expect(res.code).toBe(0)
    expect(res.stderr).toContain('1 unscoped, 1 unverifiable, 0 new; report in')
    const log = JSON.parse(readFileSync(sarif, 'utf8'))
    expect(log.runs[0].results.map((r: { baselineState: string }) => r.baselineState)).toEqual(['unchanged', 'unchanged'])
  }, 120_000)

  it('as a process: prints each finding with file, line and reasons, and exits 1', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'scan', SMALL], { encoding: 'utf8' })
    expect(res.stderr).toBe('')
    expect(res.status).toBe(1)
    const unscoped = lineOf('where: { email } })')
    expect(res.stdout).toContain(`UNSCOPED  ${SMALL}:${unscoped}:9  User.findFirst [CRITICAL] missing_tenant_id`)
    expect(res.stdout).toContain(`UNVERIFIABLE  ${SMALL}:${lineOf('auditLog.findMany')}:10  AuditLog.findMany [CRITICAL]`)
    expect(res.stdout).toContain("- where.tenantId: `Number(email)`: `email` is a parameter of users; not traced to the request's tenant")
    expect(res.stdout).toContain("    fix: if every caller passes the request's tenant, mark `email` with @requestTenant")
    expect(res.stdout.trim().split('\n').at(-1)).toBe('2 findings (1 unscoped, 1 unverifiable), 1 scoped, 0 bypassed · no baseline: every finding counts')
    expect(existsSync(join(dir, 'scan.sarif'))).toBe(true)
  }, 120_000)
})
