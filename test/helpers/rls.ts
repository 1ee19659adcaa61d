// A fenced PostgreSQL database with the demo's row-level security installed (prisma/rls/migration.sql,
// as `npm run generate` wrote it) and the extension's rls option on. The fenced and base clients
// connect as the owner of the tables, whom FORCE ROW LEVEL SECURITY subjects to the policies; `admin`
// is a superuser client (never subject to them) for the ground truth.
import { readFileSync } from 'node:fs'
import { openDatabase } from '../../src/demo/db.ts'
import type { TenantEnforcementOptions } from '../../src/index.ts'
import { fencedDatabase } from './fence.ts'
import { runSql } from './postgres.ts'

export const POLICIES = readFileSync('prisma/rls/migration.sql', 'utf8')
export const ROLLBACK = readFileSync('prisma/rls/rollback.sql', 'utf8')

export { runSql }

export async function rlsDatabase(flags: Record<string, string>, options: Partial<TenantEnforcementOptions> = {}, { rls = true, policies = true, own = false } = {}) {
  // the worker's database with the policies installed once (`own`: a database of the test's own,
  // for a test that changes the policies themselves)
  const db = await fencedDatabase(flags, { rls, ...options }, 'postgresql', { own, setupSql: policies && !own ? POLICIES : '' })
  if (policies && own) await runSql(db.pg!.url('owner'), POLICIES)
  const admin = await openDatabase(db.pg!.url('admin'))
  return {
    ...db,
    pg: db.pg!,
    admin: admin.prisma,
    async close() {
      await admin.close()
      await db.close()
    },
  }
}
