// prisma migrate cannot run here, so the migrations are applied as SQL: guard against drift
// between prisma/schema.prisma and prisma/migrations (every model and scalar field exists).
import { readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../src/demo/db.ts'
import { parseSchema } from '../src/enforcement/datamodel.ts'

describe('the migrated database matches the schema', () => {
  it('has every model as a table and every scalar field as a column, and nothing else', async () => {
    const schema = parseSchema(readFileSync('prisma/schema.prisma', 'utf8'))
    const db = await openDatabase()
    const sqlite = new Database(db.file, { readonly: true })
    try {
      const tables = (sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '_prisma_migrations'`).all() as { name: string }[]).map((t) => t.name)
      expect(tables.sort()).toEqual(Object.keys(schema.models).sort())
      for (const [model, { fields }] of Object.entries(schema.models)) {
        const columns = (sqlite.prepare(`PRAGMA table_info("${model}")`).all() as { name: string }[]).map((c) => c.name)
        const scalars = fields.filter((f) => f.kind !== 'object').map((f) => f.name)
        expect(columns.sort(), model).toEqual(scalars.sort())
      }
    } finally {
      sqlite.close()
      await db.close()
    }
  })

  it('the plain client reads and writes every model (no missing column or constraint)', async () => {
    const { prisma, close } = await openDatabase()
    try {
      await prisma.tenant.create({ data: { id: 7, name: 't' } })
      const user = await prisma.user.create({ data: { tenantId: 7, email: 'u@t' } })
      const role = await prisma.role.create({ data: { tenantId: 7, name: 'r' } })
      const perm = await prisma.permission.create({ data: { key: 'k' } })
      const exp = new Date()
      await prisma.refreshToken.create({ data: { userId: user.id, tokenHash: 'h', expiresAt: exp } })
      await prisma.passwordResetToken.create({ data: { userId: user.id, tokenHash: 'h', expiresAt: exp } })
      await prisma.mfaBackupCode.create({ data: { userId: user.id, codeHash: 'c' } })
      await prisma.userRole.create({ data: { userId: user.id, roleId: role.id } })
      await prisma.rolePermission.create({ data: { roleId: role.id, permissionId: perm.id } })
      await prisma.auditLog.create({ data: { tenantId: 7, userId: user.id, action: 'a' } })
      await prisma.securityAlert.create({ data: { tenantId: 7, kind: 'k' } })
      const full = await prisma.user.findUniqueOrThrow({ where: { id: user.id }, include: { tenant: true, refreshTokens: true, passwordResetTokens: true, mfaBackupCodes: true, userRoles: { include: { role: { include: { rolePermissions: { include: { permission: true } } } } } } } })
      expect(full.userRoles[0]!.role.rolePermissions[0]!.permission.key).toBe('k')
      expect(full.isActive).toBe(true)
      await expect(prisma.user.create({ data: { tenantId: 7, email: 'u@t' } })).rejects.toThrow() // @@unique([tenantId, email])
    } finally {
      await close()
    }
  })

  it('openDatabase with no url gives each caller its own database', async () => {
    const a = await openDatabase()
    const b = await openDatabase()
    try {
      expect(a.file).not.toBe(b.file)
      await a.prisma.tenant.create({ data: { id: 1, name: 'a' } })
      expect(await b.prisma.tenant.count()).toBe(0)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
