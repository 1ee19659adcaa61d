// Flags at run time: a change governs the next query with no restart; bad values refuse to
// start, or at run time keep the last good flags; sampling thins log lines, never counters.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runWithTenant, tenantEnforcement } from '../src/index.ts'
import { openDatabase } from '../src/demo/db.ts'
import { captureLogger, config, fencedDatabase, PROVIDERS, setFlags } from './helpers/fence.ts'

let db: Awaited<ReturnType<typeof fencedDatabase>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
  setFlags({})
})

const unscoped = () => runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany())

describe.each(PROVIDERS)('%s: flags change between two queries', (provider) => {
  it('log_only -> enforce -> log_only (the rollback) governs the very next query', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only' }, {}, provider)
    await expect(unscoped()).resolves.toHaveLength(3)
    process.env.TENANT_ENFORCEMENT_MODE = 'enforce'
    await expect(unscoped()).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    process.env.TENANT_ENFORCEMENT_MODE = 'log_only'
    await expect(unscoped()).resolves.toHaveLength(3)
    expect(db.violations().map((v) => v.decision)).toEqual(['logged', 'blocked', 'logged'])
    const mode = (await db.registry.getSingleMetric('tenant_enforcement_mode')!.get()).values.find((v) => v.value === 1)
    expect(mode?.labels.mode).toBe('log_only')
  })

  it('ENFORCE_MODELS edited at run time moves a model from allowed to blocked', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'selective', TENANT_ENFORCEMENT_ENFORCE_MODELS: 'Role' }, {}, provider)
    await expect(unscoped()).resolves.toHaveLength(3)
    process.env.TENANT_ENFORCEMENT_ENFORCE_MODELS = 'Role,User'
    await expect(unscoped()).rejects.toMatchObject({ model: 'User' })
    const policy = (await db.registry.getSingleMetric('tenant_enforcement_model_policy')!.get()).values.filter((v) => v.value === 1 && v.labels.policy === 'block').map((v) => v.labels.model)
    expect(policy.sort()).toEqual(['Role', 'User'])
  })

  it('LOG_SAMPLE_RATE changed at run time governs the next violation line', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only' }, {}, provider)
    await unscoped()
    process.env.TENANT_ENFORCEMENT_LOG_SAMPLE_RATE = '0'
    await unscoped()
    await unscoped()
    expect(db.violations()).toHaveLength(1)
    expect(await db.counter('tenant_violations_total')).toBe(3)
  })

  it('a list edited while its mode is not in force takes effect when the mode switches to it', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' }, {}, provider)
    await expect(unscoped()).rejects.toMatchObject({ model: 'User' })
    process.env.TENANT_ENFORCEMENT_ENFORCE_MODELS = 'Role' // not read in enforce: lists are ignored there
    await expect(unscoped()).rejects.toMatchObject({ model: 'User' })
    process.env.TENANT_ENFORCEMENT_MODE = 'selective'
    await expect(unscoped()).resolves.toHaveLength(3) // User is neither enforced nor logged now
    await expect(runWithTenant({ tenantId: 1 }, () => db!.prisma.role.findMany())).rejects.toMatchObject({ model: 'Role' })
  })

  it('a bad value at run time keeps the last good flags, is logged once and counted', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' }, {}, provider)
    process.env.TENANT_ENFORCEMENT_MODE = 'enforced'
    await expect(unscoped()).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    await expect(unscoped()).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    const errors = db.lines.filter((l) => String(l.msg).startsWith('TENANT_FLAG_INVALID'))
    expect(errors).toHaveLength(1)
    expect(JSON.stringify(errors[0])).toContain('did you mean \\"enforce\\"')
    expect(await db.counter('tenant_flag_errors_total', { flag: 'TENANT_ENFORCEMENT_MODE' })).toBe(1)
    // TenantFlagReloadFailed compares these: the last refused change newer than the last applied one
    const reload = (outcome: string) => db!.counter('tenant_flag_reload_timestamp_seconds', { outcome })
    expect(await reload('applied')).toBeGreaterThan(0) // start-up
    expect(await reload('refused')).toBeGreaterThanOrEqual(await reload('applied'))
    process.env.TENANT_ENFORCEMENT_MODE = 'log_only' // a good value again takes effect
    await expect(unscoped()).resolves.toHaveLength(3)
    expect(await reload('applied')).toBeGreaterThanOrEqual(await reload('refused'))
  })

  it('a model typo at run time names the model it probably meant', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'selective', TENANT_ENFORCEMENT_ENFORCE_MODELS: 'User' }, {}, provider)
    process.env.TENANT_ENFORCEMENT_ENFORCE_MODELS = 'Usr'
    await expect(unscoped()).rejects.toMatchObject({ model: 'User' })
    expect(JSON.stringify(db.lines)).toContain('did you mean \\"User\\"')
  })
})

describe('bad flags at start-up refuse to start', () => {
  it.each([
    [{ TENANT_ENFORCEMENT_MODE: 'enforced' }, /TENANT_ENFORCEMENT_MODE=enforced.*did you mean "enforce".*Valid: disabled, log_only, selective, enforce/],
    [{ TENANT_ENFORCEMENT_ENFORCE_MODELS: 'Usr' }, /ENFORCE_MODELS names "Usr": did you mean "User"/],
    [{ TENANT_ENFORCEMENT_ENABLED: 'ture' }, /TENANT_ENFORCEMENT_ENABLED=ture.*did you mean "true"/],
    [{ TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: '5' }, /LOG_SAMPLE_RATE=5: must be a number from 0 to 1/],
    [{ TENANT_ENFORCEMENT_LOG_MODELS: 'all,User' }, /"all" must stand alone/],
  ])('%j', (flags, message) => {
    setFlags(flags as Record<string, string>)
    expect(() => tenantEnforcement({ config, logger: captureLogger().logger })).toThrow(message)
  })
})

describe.each(PROVIDERS)('%s: LOG_SAMPLE_RATE samples log lines, never counters', (provider) => {
  it('rate 0 logs nothing and still counts every violation', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: '0' }, {}, provider)
    for (let i = 0; i < 20; i++) await unscoped()
    expect(db.violations()).toHaveLength(0)
    expect(await db.counter('tenant_violations_total')).toBe(20)
  })

  it('rate 0.5 logs some but not all of 400 violations, and counts all', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: '0.5' }, {}, provider)
    for (let i = 0; i < 400; i++) await unscoped()
    const logged = db.violations().length
    // Binomial(400, 0.5): 140..260 is more than 6 standard deviations wide.
    expect(logged).toBeGreaterThan(140)
    expect(logged).toBeLessThan(260)
    expect(await db.counter('tenant_violations_total')).toBe(400)
  })
})

describe('flags from a watched file (a mounted ConfigMap): rollback with no restart at all', () => {
  it('re-reads the file on change and keeps the last good flags on a bad edit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-flags-'))
    const file = join(dir, 'flags.env')
    writeFileSync(file, 'TENANT_ENFORCEMENT_MODE=enforce\n')
    const base = await openDatabase()
    await base.prisma.user.create({ data: { tenant: { create: { id: 1, name: 't' } }, email: 'a@a' } })
    const { logger, lines } = captureLogger()
    const fence = tenantEnforcement({ config, logger, flags: { file, pollMs: 50 } })
    const prisma = base.prisma.$extends(fence)
    const q = () => runWithTenant({ tenantId: 1 }, () => prisma.user.findMany())
    // Written beside it and renamed over it, as the README says: a poll never sees a half-written file.
    const replace = (path: string, text: string) => {
      writeFileSync(`${path}.tmp`, text)
      renameSync(`${path}.tmp`, path)
    }
    try {
      await expect(q()).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
      replace(file, '# rollback\nTENANT_ENFORCEMENT_MODE=log_only\n')
      await expect.poll(() => fence.currentFlags().mode, { timeout: 30_000, interval: 50 }).toBe('log_only')
      await expect(q()).resolves.toHaveLength(1)
      replace(file, 'TENANT_ENFORCEMENT_MODE=loggin\n')
      await expect.poll(() => lines.filter((l) => String(l.msg).startsWith('TENANT_FLAG_INVALID')).length, { timeout: 30_000, interval: 50 }).toBe(1)
      expect(fence.currentFlags().mode).toBe('log_only')
      await expect(q()).resolves.toHaveLength(1)
    } finally {
      fence.close()
      await base.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
