// `tenantfence phase check 4 --database URL`: the gate says, table by table, whether row-level
// security is enabled, forced and has its policies, on a real PostgreSQL, before and after the
// generated SQL, and after each piece of it is taken away again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './fixtures/ops/run-cli.ts'
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts'
import { POLICIES, ROLLBACK, runSql } from './helpers/rls.ts'
import config from '../tenantfence.config.ts'

const TABLES = [...Object.keys(config.models), 'Tenant']

describe('phase check --database', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => {
    await db?.drop()
  })
  const check = () => runCli(['phase', 'check', '4', '--database', db.url('owner')])
  const line = (stdout: string, model: string) => stdout.split('\n').find((l) => new RegExp(`^  (PASS|FAIL) +${model} `).test(l))

  it('a database without the policies fails, naming every table and what it lacks', async () => {
    const res = await check()
    expect(res.code).toBe(1)
    for (const model of TABLES) expect(line(res.stdout, model), model).toMatch(/FAIL .*: not enabled, not forced, no policy tenantfence_tenant, no policy tenantfence_bypass$/)
    expect(res.stdout).toContain(`${TABLES.length} of ${TABLES.length} tables are not protected: apply prisma/rls/migration.sql`)
    expect(res.stdout).not.toMatch(/ Permission /) // global: not the gate's business
  })

  it('with prisma/rls/migration.sql applied, every table passes', async () => {
    await runSql(db.url('owner'), POLICIES)
    const res = await check()
    expect(res.code).toBe(0)
    for (const model of TABLES) expect(line(res.stdout, model), model).toMatch(/PASS .*: enabled, forced, policies in place$/)
    expect(res.stdout).toContain(`All ${TABLES.length} tenant-owned tables are protected.`)
    expect(res.stdout).not.toContain('note:')
  })

  it('a table no longer forced, or missing a policy, fails by name', async () => {
    await runSql(db.url('owner'), 'ALTER TABLE "RefreshToken" NO FORCE ROW LEVEL SECURITY; DROP POLICY tenantfence_bypass ON "Role"')
    const res = await check()
    expect(res.code).toBe(1)
    expect(line(res.stdout, 'RefreshToken')).toMatch(/FAIL .*"RefreshToken": not forced$/)
    expect(line(res.stdout, 'Role')).toMatch(/FAIL .*"Role": no policy tenantfence_bypass$/)
    expect(line(res.stdout, 'User')).toMatch(/PASS/)
    expect(res.stdout).toContain(`2 of ${TABLES.length} tables are not protected`)
  })

  it('after the rollback SQL, nothing is protected again', async () => {
    await runSql(db.url('owner'), ROLLBACK)
    expect((await check()).code).toBe(1)
  })

  it('notes a role the policies never apply to (a superuser)', async () => {
    const res = await runCli(['phase', 'check', '4', '--database', db.url('admin')])
    expect(res.stdout).toMatch(/note: the role postgres is a superuser or has BYPASSRLS/)
  })

  it('bad input: a clear message, no stack', async () => {
    const notPg = await runCli(['phase', 'check', '4', '--database', 'mysql://h/db'])
    expect([notPg.code, notPg.stderr]).toEqual([2, expect.stringContaining('--database must be a postgres:// or postgresql:// url')])
    const down = await runCli(['phase', 'check', '4', '--database', 'postgres://nobody@127.0.0.1:1/none'])
    expect([down.code, down.stderr]).toEqual([1, expect.stringContaining('cannot connect to the --database')])
    const schema = await runCli(['phase', 'check', '4', '--database', db.url('owner'), '--schema', 'nope.prisma'])
    expect([schema.code, schema.stderr]).toEqual([2, expect.stringContaining('cannot read the Prisma schema at nope.prisma')])
    expect(`${notPg.stderr}${down.stderr}${schema.stderr}`).not.toMatch(/\n\s+at /)
  })
})
