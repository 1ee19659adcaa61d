// Foreign keys and connects in write data are proven by a lookup of the referenced rows'
// tenants (references: 'verify', the default) or reported without one ('violation'). This is
// the one place the extension sends SQL of its own: these tests count the statements too.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { migrate } from '../src/demo/db.ts'
import { PrismaClient } from '../src/demo/generated/prisma/client.ts'
import type { Inspection } from '../src/enforcement/inspect.ts'
import { runWithTenant, tenantEnforcement, type TenantEnforcementOptions } from '../src/index.ts'
import { captureLogger, config, seed, setFlags } from './helpers/fence.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
type P = any

/** A seeded database whose plain client emits its SQL as events, with tenantfence on top. */
async function fenced(flags: Record<string, string>, options: Partial<TenantEnforcementOptions>) {
  setFlags(flags)
  const dir = mkdtempSync(join(tmpdir(), 'tf-refs-'))
  const file = join(dir, 'db.sqlite')
  migrate(file)
  const base: P = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }), log: [{ emit: 'event', level: 'query' }] })
  await seed(base)
  const { logger, lines } = captureLogger()
  const registry = new Registry()
  const fence = tenantEnforcement({ config, logger, registry, ...options })
  const prisma: P = base.$extends(fence)
  let sql: string[] | undefined
  base.$on('query', (e: { query: string }) => sql?.push(e.query))
  return {
    base,
    prisma,
    violations: () => lines.filter((l) => l.msg === 'TENANT_VIOLATION'),
    async counter(name: string, labels: Record<string, string> = {}) {
      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
      return (metric?.values ?? []).filter((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val)).reduce((n, v) => n + Number(v.value), 0)
    },
    /** SQL statements sent while fn runs (the lookups go through the same client) */
    async statements(fn: () => Promise<unknown>): Promise<string[]> {
      sql = []
      try {
        await fn()
        return sql
      } finally {
        sql = undefined
      }
    },
    async close() {
      fence.close()
      await base.$disconnect()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

let db: Awaited<ReturnType<typeof fenced>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
  setFlags({})
})

const asTenant1 = <T>(fn: () => Promise<T>) => runWithTenant({ tenantId: 1, userId: 1 }, fn)
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Record<string, unknown>)

/** SELECTs from this table (SQLite quotes with backticks, PostgreSQL with double quotes) */
const lookups = (sql: string[], table: string) => sql.filter((q) => /^\s*SELECT/i.test(q) && new RegExp(`FROM [\`"]?(main[\`"]?\\.)?[\`"]?${table}[\`"]? `).test(q))

async function open(mode = 'enforce', options: Partial<TenantEnforcementOptions> = {}, flags: Record<string, string> = {}) {
  db = await fenced({ TENANT_ENFORCEMENT_MODE: mode, ...flags }, options)
  return db
}

describe("references: 'verify' (default)", () => {
  it('a foreign key to a row of the tenant passes, after one lookup', async () => {
    const { prisma, base, statements } = await open()
    const sql = await statements(() => asTenant1(() => prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: 2 } })))
    expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBe(2)
    expect(lookups(sql, 'User')).toHaveLength(1)
  })

  it("a foreign key to another tenant's row is tenant_mismatch on the referenced model, and nothing changes (the FK IDOR)", async () => {
    const { prisma, base, counter } = await open()
    const err = await failure(asTenant1(() => prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: 3 } })))
    expect(err).toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED', model: 'User', violation: 'tenant_mismatch' })
    expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBeNull()
    expect(await counter('tenant_violations_total', { model: 'User', violation: 'tenant_mismatch', decision: 'blocked' })).toBe(1)
    expect(db!.violations()[0]).toMatchObject({ model: 'User', path: 'data.userId', queryTenantIds: ['2'] })
  })

  it('a foreign key to a row that does not exist is unverified_reference', async () => {
    const { prisma } = await open()
    const err = await failure(asTenant1(() => prisma.securityAlert.create({ data: { tenantId: 1, kind: 'x', userId: 999 } })))
    expect(err).toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED', model: 'User', violation: 'unverified_reference' })
  })

  it('null unlinks with no lookup', async () => {
    const { prisma, base, statements } = await open()
    await base.securityAlert.update({ where: { id: 1 }, data: { userId: 1 } })
    const sql = await statements(() => asTenant1(() => prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: null } })))
    expect(sql.length).toBeGreaterThan(0)
    expect(lookups(sql, 'User')).toEqual([])
    expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBeNull()
  })

  it("re-pointing a token at another tenant's user by its foreign key blames the token (its tenant source)", async () => {
    const { prisma, base } = await open()
    const err = await failure(asTenant1(() => prisma.refreshToken.update({ where: { id: 1, user: { tenantId: 1 } }, data: { userId: 3 } })))
    expect(err).toMatchObject({ model: 'RefreshToken', violation: 'tenant_mismatch' })
    expect((await base.refreshToken.findUnique({ where: { id: 1 } })).userId).toBe(1)
  })

  it('a join-table row checks every reference: a user of the tenant and a role of another', async () => {
    const { prisma, base } = await open()
    const err = await failure(asTenant1(() => prisma.userRole.create({ data: { userId: 2, roleId: 2 } })))
    expect(err).toMatchObject({ model: 'Role', violation: 'tenant_mismatch' })
    expect(await base.userRole.count()).toBe(2)
    await asTenant1(() => prisma.userRole.create({ data: { userId: 2, roleId: 1 } }))
    expect(await base.userRole.count()).toBe(3)
  })

  it('batches: one lookup per referenced model for every row of a createMany', async () => {
    const { prisma, base, statements } = await open()
    const sql = await statements(() => asTenant1(() => prisma.securityAlert.createMany({ data: [1, 2, 1].map((userId) => ({ tenantId: 1, kind: 'k', userId })) })))
    expect(lookups(sql, 'User')).toHaveLength(1)
    expect(await base.securityAlert.count({ where: { kind: 'k' } })).toBe(3)
    const err = await failure(asTenant1(() => prisma.securityAlert.createMany({ data: [1, 3].map((userId) => ({ tenantId: 1, kind: 'k2', userId })) })))
    expect(err).toMatchObject({ model: 'User', violation: 'tenant_mismatch' })
    expect(await base.securityAlert.count({ where: { kind: 'k2' } })).toBe(0)
  })

  it('a connect by id is looked up like a foreign key', async () => {
    const { prisma, base } = await open()
    const err = await failure(asTenant1(() => prisma.user.update({ where: { id: 1, tenantId: 1 }, data: { userRoles: { create: { role: { connect: { id: 2 } } } } } })))
    expect(err).toMatchObject({ model: 'Role', violation: 'tenant_mismatch' })
    expect(await base.userRole.count()).toBe(2)
    await asTenant1(() => prisma.user.update({ where: { id: 2, tenantId: 1 }, data: { userRoles: { create: { role: { connect: { id: 1 } } } } } }))
    expect(await base.userRole.count({ where: { userId: 2 } })).toBe(1)
  })

  it('inside an interactive transaction the lookup runs in it: a row created earlier in it is found', async () => {
    const { prisma, base } = await open()
    await asTenant1(() =>
      prisma.$transaction(async (tx: P) => {
        const u = await tx.user.create({ data: { tenantId: 1, email: 'new@acme.test' } })
        await tx.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: u.id } })
      }),
    )
    const alert = await base.securityAlert.findUnique({ where: { id: 1 }, include: { user: true } })
    expect(alert.user.email).toBe('new@acme.test')
    const err = await failure(asTenant1(() => prisma.$transaction(async (tx: P) => tx.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: 3 } }))))
    expect(err).toMatchObject({ model: 'User', violation: 'tenant_mismatch' })
  })

  it('in a batch transaction the lookup runs before the batch', async () => {
    const { prisma, base } = await open()
    await asTenant1(() => prisma.$transaction([prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: 2 } }), prisma.user.count({ where: { tenantId: 1 } })]))
    expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBe(2)
    const err = await failure(asTenant1(() => prisma.$transaction([prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: 3 } })])))
    expect(err).toMatchObject({ model: 'User', violation: 'tenant_mismatch' })
    expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBe(2)
  })

  it('outside a request the tenant the query names is the one references must match', async () => {
    const { prisma } = await open()
    const err = await failure(prisma.securityAlert.create({ data: { tenantId: 1, kind: 'job', userId: 3 } }))
    expect(err).toMatchObject({ model: 'User', violation: 'tenant_mismatch' })
    await prisma.securityAlert.create({ data: { tenantId: 2, kind: 'job', userId: 3 } })
  })

  it('log_only looks up, logs the mismatch and lets the write through', async () => {
    const { prisma, base, counter } = await open('log_only')
    await asTenant1(() => prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: 3 } }))
    expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBe(3)
    expect(await counter('tenant_violations_total', { model: 'User', violation: 'tenant_mismatch', decision: 'logged' })).toBe(1)
  })

  it('no lookup when the flags leave both ends of the link alone (selective, only AuditLog watched)', async () => {
    const { prisma, base, statements } = await open('selective', {}, { TENANT_ENFORCEMENT_ENFORCE_MODELS: 'AuditLog' })
    const sql = await statements(() => asTenant1(() => prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: 3 } })))
    expect(sql.length).toBeGreaterThan(0)
    expect(lookups(sql, 'User')).toEqual([])
    expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBe(3)
  })

  it('a link exposes both of its ends: an enforced holder blocks a link to a model the flags leave alone', async () => {
    const { prisma, base } = await open('selective', {}, { TENANT_ENFORCEMENT_ENFORCE_MODELS: 'SecurityAlert' })
    const err = await failure(asTenant1(() => prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: 3 } })))
    expect(err).toMatchObject({ model: 'User', violation: 'tenant_mismatch' })
    expect((await base.securityAlert.findUnique({ where: { id: 1 } })).userId).toBeNull()
  })

  it('a lookup that fails proves nothing: blocked in enforce (inspection_error)', async () => {
    const broken = (_policy: unknown, _model: unknown, _operation: unknown, _args: unknown, tenantId: unknown): Inspection | null => ({
      findings: [],
      references: [{ model: 'User', where: { nope: 1 }, path: 'data.userId' }],
      tenant: tenantId,
    })
    const { prisma, base, counter } = await open('enforce', { inspector: broken })
    const err = await failure(asTenant1(() => prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { kind: 'z' } })))
    expect(err).toMatchObject({ model: 'User', violation: 'inspection_error' })
    expect((await base.securityAlert.findUnique({ where: { id: 1 } })).kind).toBe('mfa')
    expect(await counter('tenant_inspection_errors_total', { model: 'User' })).toBe(1)
  })
})

describe("references: 'violation'", () => {
  it('reports unverified_reference without a lookup', async () => {
    const { prisma, statements } = await open('enforce', { references: 'violation' })
    let err: Record<string, unknown> | undefined
    const sql = await statements(async () => {
      err = await failure(asTenant1(() => prisma.securityAlert.update({ where: { id: 1, tenantId: 1 }, data: { userId: 2 } })))
    })
    expect(err).toMatchObject({ model: 'User', violation: 'unverified_reference' })
    expect(sql).toEqual([])
  })

  it('a reference the query pins itself needs no lookup', async () => {
    const { prisma, base } = await open('enforce', { references: 'violation' })
    await asTenant1(() => prisma.refreshToken.create({ data: { tokenHash: 'x', expiresAt: new Date(), user: { connect: { id: 2, tenantId: 1 } } } }))
    expect(await base.refreshToken.count({ where: { userId: 2 } })).toBe(1)
  })
})
