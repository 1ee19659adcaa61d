// The link audit: rows linked across tenants (by log_only, selective, or before tenantfence) are
// what full enforcement would trust through a relation of a proven row. findCrossTenantLinks finds
// them on the real database.
import { afterEach, describe, expect, it } from 'vitest'
import { findCrossTenantLinks, runWithTenant } from '../src/index.ts'
import { config, fencedDatabase } from './helpers/fence.ts'

let db: Awaited<ReturnType<typeof fencedDatabase>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

describe('findCrossTenantLinks', () => {
  it('finds nothing in a database whose links stay in their tenant', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    await db.base.securityAlert.update({ where: { id: 1 }, data: { userId: 1 } })
    expect(await findCrossTenantLinks(db.base, { config })).toEqual([])
  })

  it('finds the link log_only let through, by model, relation and primary key, and reads every page', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only' })
    // the foreign-key IDOR, logged but not blocked in phase 1
    await runWithTenant({ tenantId: 1, userId: 1 }, () => db!.prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: 3 } }))
    // and a join-table row of tenant 1's user pointing at tenant 2's role, written by another client
    await db.base.userRole.create({ data: { id: 9, userId: 2, roleId: 2 } })
    const links = await findCrossTenantLinks(db.base, { config, pageSize: 1 })
    expect([...links].sort((a, b) => a.model.localeCompare(b.model))).toEqual([
      { model: 'SecurityAlert', relation: 'user', target: 'User', rows: 1, examples: [{ id: 1 }] },
      { model: 'UserRole', relation: 'role', target: 'Role', rows: 1, examples: [{ id: 9 }] },
    ])
  })
})
