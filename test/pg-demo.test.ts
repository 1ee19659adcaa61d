// The demo API on PostgreSQL (DATABASE_URL=postgres://…, as the compose stack runs it): migrated
// and seeded at start (sequences moved past the seeded ids), scoped endpoints answer, unscoped ones
// are blocked in enforce, writes land, the nightly job's bypass runs, and a restart on the same
// database reuses it.
import { pino } from 'pino'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_USERS } from '../src/demo/fixture.ts'
import { nightlyCleanup } from '../src/demo/jobs.ts'
import { startDemoServer } from '../src/demo/serve.ts'
import { signDemoToken } from '../src/demo/tokens.ts'
import { setFlags } from './helpers/fence.ts'
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts'

const silent = pino({ level: 'silent' })

describe('the demo API on PostgreSQL', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
    setFlags({ TENANT_ENFORCEMENT_MODE: 'enforce', TENANT_ENFORCEMENT_ALLOW_BYPASS: 'true' })
  })
  afterAll(async () => {
    setFlags({})
    await db?.drop()
  })

  it('serves the rollout endpoints from a PostgreSQL database named by DATABASE_URL', async () => {
    const s = await startDemoServer({ port: 0, metricsPort: 0, env: { DATABASE_URL: db.url(), NIGHTLY_CLEANUP_SECONDS: '0' }, logger: silent })
    try {
      expect(s.demo.db.provider).toBe('postgresql')
      const user = DEMO_USERS[0]!
      const token = await signDemoToken(user)
      const call = (path: string, init: RequestInit = {}) => fetch(`${s.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
      const roles = (await (await call('/api/roles')).json()) as { roles: { id: number }[] }
      expect(roles.roles.map((r) => r.id)).toEqual([1, 2])
      expect((await call('/api/admin/users')).status).toBe(403) // unscoped: blocked in enforce
      const created = await call('/api/audit-log', { method: 'POST', body: JSON.stringify({ action: 'pg_check' }) })
      expect(created.status).toBe(201) // a new id from a sequence past the seeded rows
      const { rows } = await pg_query(db.url(), `SELECT "tenantId", action FROM "AuditLog" WHERE action = 'pg_check'`)
      expect(rows).toEqual([{ tenantId: user.tenantId, action: 'pg_check' }])
      expect(await nightlyCleanup(s.demo.prisma())).toMatchObject({ refreshTokens: DEMO_USERS.length })
    } finally {
      await s.close()
    }
  })

  it('starts again on the same database: migrations and seed are not applied twice', async () => {
    const s = await startDemoServer({ port: 0, metricsPort: 0, env: { DATABASE_URL: db.url(), NIGHTLY_CLEANUP_SECONDS: '0' }, logger: silent })
    try {
      expect(await s.demo.db.prisma.tenant.count()).toBe(3)
      expect(await s.demo.db.prisma.auditLog.count({ where: { action: 'pg_check' } })).toBe(1)
    } finally {
      await s.close()
    }
  })
})

async function pg_query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await client.query(sql)
  } finally {
    await client.end()
  }
}
