// `npm run bench:rls -- --quick` still runs end to end: its own PostgreSQL, every scenario checked
// to return the tenant's 10 rows before it is timed (enforce + rls through the policies), the JSON
// report written. No timing assertion: the numbers are the benchmark's to print.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'tenantfence-bench-rls-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('npm run bench:rls -- --quick', () => {
  it('runs every scenario on a PostgreSQL of its own and writes the JSON report', { timeout: 120_000 }, () => {
    const file = join(dir, 'rls.json')
    const run = spawnSync('npx', ['tsx', 'bench/rls.ts', '--quick', '--json', file], { encoding: 'utf8', timeout: 115_000 })
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0)
    const r = JSON.parse(readFileSync(file, 'utf8')) as { quick: boolean; machine: { postgres: string }; results: { id: string; queries: number; p50Us: number; vsPlain: { median: number } }[] }
    expect(r.quick).toBe(true)
    expect(r.machine.postgres).toMatch(/^\d+\.\d+/)
    expect(r.results.map((s) => s.id)).toEqual(['plain', 'enforce', 'policies', 'enforce_rls', 'enforce_rls_prisma_itx', 'enforce_itx', 'enforce_rls_itx'])
    for (const s of r.results) {
      expect(s.queries, s.id).toBeGreaterThan(0)
      expect(s.p50Us, s.id).toBeGreaterThan(0)
      expect(Number.isFinite(s.vsPlain.median), s.id).toBe(true)
    }
    expect(run.stdout).toContain('enforce + rls (policies applied)')
  })
})
