// "Reads never add a query": the same operations through the plain client and through
// tenantfence (log_only, so violations still run) send the same SQL statements. The one query
// it may add, the lookup of a foreign key in write data, is tested in enforcement-references.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { describe, expect, it } from 'vitest'
import { migrate } from '../src/demo/db.ts'
import { PrismaClient } from '../src/demo/generated/prisma/client.ts'
import { runWithTenant, tenantEnforcement } from '../src/index.ts'
import { captureLogger, config, seed, setFlags } from './helpers/fence.ts'

async function statements(extended: boolean): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-sql-'))
  const file = join(dir, 'db.sqlite')
  migrate(file)
  const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }), log: [{ emit: 'event', level: 'query' }] })
  try {
    await seed(base)
    const sql: string[] = []
    base.$on('query', (e) => sql.push(e.query))
    const prisma = extended ? base.$extends(tenantEnforcement({ config, logger: captureLogger().logger })) : base
    await runWithTenant({ tenantId: 1, userId: 1 }, async () => {
      await prisma.user.findMany({ where: { tenantId: 1 }, include: { refreshTokens: true } })
      await prisma.user.findMany() // a violation: logged, not blocked, no query added
      await prisma.refreshToken.findUnique({ where: { id: 2 } })
      await prisma.role.updateMany({ where: { tenantId: 1 }, data: { isActive: true } })
      await prisma.auditLog.create({ data: { tenantId: 1, action: 'x' } })
      await prisma.$transaction([prisma.user.count({ where: { tenantId: 1 } }), prisma.role.count()])
    })
    return sql
  } finally {
    await base.$disconnect()
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('the extension adds no query', () => {
  it('sends exactly the SQL the plain client sends', async () => {
    setFlags({ TENANT_ENFORCEMENT_MODE: 'log_only' })
    try {
      const plain = await statements(false)
      const fenced = await statements(true)
      expect(plain.length).toBeGreaterThan(6)
      expect(fenced).toEqual(plain)
    } finally {
      setFlags({})
    }
  })
})
