// The PostgreSQL twin: prisma/postgres/schema.prisma is derived from prisma/schema.prisma (one
// source), and prisma/postgres/migrations, applied as `prisma migrate deploy` would, build exactly
// the tables, columns, keys and foreign keys of the schema.
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain JavaScript module without types
import { derivePostgresSchema } from '../scripts/prisma-generate.mjs'
import { migratePostgres, openDatabase, providerOf } from '../src/demo/db.ts'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts'

const source = readFileSync('prisma/schema.prisma', 'utf8')

describe('the PostgreSQL schema is derived from prisma/schema.prisma', () => {
  it('same models, provider postgresql, its own client output', () => {
    const derived: string = derivePostgresSchema(source)
    expect(derived).toContain('provider = "postgresql"')
    expect(derived).toContain('output       = "../../src/demo/generated/prisma-pg"')
    expect(derived).toMatch(/^\/\/ DO NOT EDIT/)
    expect(parseSchema(derived)).toEqual({ ...parseSchema(source), provider: 'postgresql' })
  })

  it('the derived file on disk is the current derivation (npm run prisma:generate rewrites it)', () => {
    expect(readFileSync('prisma/postgres/schema.prisma', 'utf8')).toBe(derivePostgresSchema(source))
  })

  it('refuses a schema it cannot derive from', () => {
    expect(() => derivePostgresSchema(source.replace('"sqlite"', '"mysql"'))).toThrow(/provider = "sqlite"/)
  })

  it('DATABASE_URL names the provider; anything else is refused with the accepted forms, without the password', () => {
    expect(providerOf('postgres://u@h/db')).toBe('postgresql')
    expect(providerOf('postgresql://u@h/db')).toBe('postgresql')
    expect(providerOf('file:./dev.db')).toBe('sqlite')
    expect(() => providerOf('mysql://u:secret@h/db')).toThrow(/"mysql:\/\/\*\*\*@h\/db" is neither file:<path> \(SQLite\) nor postgres:\/\//)
  })
})

describe('the migrated PostgreSQL database matches the schema', () => {
  let db: TestDatabase
  let client: pg.Client
  beforeAll(async () => {
    db = await createTestDatabase()
    client = new pg.Client({ connectionString: db.url() })
    await client.connect()
  })
  afterAll(async () => {
    await client?.end()
    await db?.drop()
  })

  const schema = parseSchema(source)

  it('has every model as a table and every scalar field as a column, and nothing else', async () => {
    const tables = (await client.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`)).rows.map((r) => r.table_name)
    expect(tables.sort()).toEqual(Object.keys(schema.models).sort())
    for (const [model, { fields }] of Object.entries(schema.models)) {
      const columns = (await client.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`, [model])).rows.map((r) => r.column_name)
      expect(columns.sort(), model).toEqual(fields.filter((f) => f.kind !== 'object').map((f) => f.name).sort())
    }
  })

  it('has every relation of the schema as a foreign key, with its referential action', async () => {
    const fks = (
      await client.query<{ name: string; del: string }>(`SELECT conname AS name, confdeltype AS del FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`)
    ).rows.map((r) => `${r.name}:${r.del}`)
    // Prisma's names (<Model>_<field>_fkey) and actions (c cascade, r restrict, n set null) from the schema's @relation lines.
    const expected = [...source.matchAll(/^model (\w+) \{([^}]*)\}/gm)].flatMap(([, model, body]) =>
      [...body!.matchAll(/@relation\(fields: \[(\w+)\][^)]*?(onDelete: (\w+))?\)/g)].map(([, field, , onDelete]) => {
        const optional = new RegExp(`^\\s*${field}\\s+\\w+\\?`, 'm').test(body!)
        const action = onDelete === 'Cascade' ? 'c' : onDelete === 'SetNull' || (!onDelete && optional) ? 'n' : 'r'
        return `${model}_${field}_fkey:${action}`
      }),
    )
    expect(expected.length).toBeGreaterThan(5)
    expect(fks.sort()).toEqual(expected.sort())
  })

  it('records the migrations as prisma migrate deploy does (name, sha256 checksum, finished)', async () => {
    const rows = (await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>('SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name')).rows
    expect(rows.map((r) => r.migration_name)).toEqual(['20261126000000_init', '20261127000000_security_alert_user'])
    for (const r of rows) {
      expect(r.checksum).toMatch(/^[0-9a-f]{64}$/)
      expect(r.finished_at).toBeInstanceOf(Date)
    }
    await migratePostgres(db.url()) // again: nothing left to apply, nothing applied twice
    expect((await client.query('SELECT count(*)::int AS n FROM "_prisma_migrations"')).rows[0].n).toBe(2)
  })

  it('the generated PostgreSQL client reads and writes every model (no missing column or constraint)', async () => {
    const { prisma, provider, close, syncSequences } = await openDatabase(db.url())
    try {
      expect(provider).toBe('postgresql')
      await prisma.tenant.create({ data: { id: 7, name: 't' } })
      await prisma.user.create({ data: { id: 40, tenantId: 7, email: 'seeded@t' } })
      await syncSequences() // an explicit id does not move the sequence: this does
      const user = await prisma.user.create({ data: { tenantId: 7, email: 'u@t' } })
      expect(user.id).toBe(41)
      const role = await prisma.role.create({ data: { tenantId: 7, name: 'r' } })
      const perm = await prisma.permission.create({ data: { key: 'k' } })
      const exp = new Date()
      await prisma.refreshToken.create({ data: { userId: user.id, tokenHash: 'h', expiresAt: exp } })
      await prisma.passwordResetToken.create({ data: { userId: user.id, tokenHash: 'h', expiresAt: exp } })
      await prisma.mfaBackupCode.create({ data: { userId: user.id, codeHash: 'c' } })
      await prisma.userRole.create({ data: { userId: user.id, roleId: role.id } })
      await prisma.rolePermission.create({ data: { roleId: role.id, permissionId: perm.id } })
      await prisma.auditLog.create({ data: { tenantId: 7, userId: user.id, action: 'a' } })
      await prisma.securityAlert.create({ data: { tenantId: 7, kind: 'k', userId: user.id } })
      const full = await prisma.user.findUniqueOrThrow({ where: { id: user.id }, include: { tenant: true, refreshTokens: true, passwordResetTokens: true, mfaBackupCodes: true, securityAlerts: true, userRoles: { include: { role: { include: { rolePermissions: { include: { permission: true } } } } } } } })
      expect(full.userRoles[0]!.role.rolePermissions[0]!.permission.key).toBe('k')
      expect(full.isActive).toBe(true)
      await expect(prisma.user.create({ data: { tenantId: 7, email: 'u@t' } })).rejects.toThrow() // @@unique([tenantId, email])
      await prisma.user.delete({ where: { id: user.id } }) // cascades to tokens, codes, roles; sets the alert's user to null
      expect(await prisma.refreshToken.count()).toBe(0)
      expect((await prisma.securityAlert.findFirstOrThrow()).userId).toBeNull()
    } finally {
      await close()
    }
  })
})
