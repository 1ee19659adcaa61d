// Bypass (ALLOW_BYPASS, BYPASS_REQUIRES_REASON, hardened reasons, authorized actors, its lifetime),
// hardened mode, lazy Prisma
// promises and the context, failure behaviour (telemetry, inspection errors), log hygiene.
import { afterEach, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { AsyncLocalStorage } from 'node:async_hooks'
import { EventEmitterAsyncResource } from 'node:events'
import { Writable } from 'node:stream'
import { Registry } from 'prom-client'
import { defineConfig, getTenantContext, runWithTenant, tenantEnforcement, tenantStorage, withoutTenantEnforcement, type BypassRequest, type TenantFenceConfigInput } from '../src/index.ts'
import { openDatabase } from '../src/demo/db.ts'
import { captureLogger, config, fencedDatabase, PROVIDERS, seed, setFlags } from './helpers/fence.ts'

let db: Awaited<ReturnType<typeof fencedDatabase>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
  setFlags({})
})

const enforce = { TENANT_ENFORCEMENT_MODE: 'enforce', TENANT_ENFORCEMENT_ALLOW_BYPASS: 'true', TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON: 'true' }

describe.each(PROVIDERS)('%s: bypass', (provider) => {
  it('granted: lets the nightly job read every tenant, counted once per bypass and logged with its stack', async () => {
    db = await fencedDatabase(enforce, {}, provider)
    async function nightlyCleanup() {
      return withoutTenantEnforcement({ reason: 'nightly_cleanup', actor: 'cron' }, async () => [await db!.prisma.user.count(), await db!.prisma.refreshToken.count()])
    }
    expect(await nightlyCleanup()).toEqual([3, 2])
    expect(await db.counter('tenant_bypass_usage_total', { reason: 'nightly_cleanup' })).toBe(1)
    const line = db.lines.find((l) => l.msg === 'TENANT_BYPASS')
    expect(line).toMatchObject({ outcome: 'granted', reason: 'nightly_cleanup', actor: 'cron' })
    expect(String(line!.stackTrace)).toContain('nightlyCleanup')
    expect(db.violations()).toHaveLength(0)
  })

  it('an undocumented reason is counted as "other" (bounded label), the reason itself only in the log', async () => {
    db = await fencedDatabase(enforce, {}, provider)
    await withoutTenantEnforcement({ reason: 'ticket_4711' }, () => db!.prisma.user.count())
    expect(await db.counter('tenant_bypass_usage_total', { reason: 'other' })).toBe(1)
    expect(db.lines.find((l) => l.msg === 'TENANT_BYPASS')).toMatchObject({ reason: 'ticket_4711' })
  })

  it('denied when ALLOW_BYPASS is false: the query gets the normal check (blocked in enforce)', async () => {
    db = await fencedDatabase({ ...enforce, TENANT_ENFORCEMENT_ALLOW_BYPASS: 'false' }, {}, provider)
    await expect(withoutTenantEnforcement({ reason: 'nightly_cleanup' }, () => db!.prisma.user.count())).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(await db.counter('tenant_bypass_denied_total', { reason: 'nightly_cleanup' })).toBe(1)
    expect(await db.counter('tenant_bypass_usage_total')).toBe(0)
    expect(db.lines.find((l) => l.msg === 'TENANT_BYPASS_DENIED')).toMatchObject({ refusal: expect.stringContaining('ALLOW_BYPASS is false') })
  })

  it('denied without a reason when BYPASS_REQUIRES_REASON is true, granted when it is false', async () => {
    db = await fencedDatabase(enforce, {}, provider)
    await expect(withoutTenantEnforcement({}, () => db!.prisma.user.count())).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    process.env.TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON = 'false'
    await expect(withoutTenantEnforcement({}, () => db!.prisma.user.count())).resolves.toBe(3)
    expect(await db.counter('tenant_bypass_usage_total', { reason: 'none' })).toBe(1)
  })

  it('denied bypass in log_only is logged and counted but breaks nothing', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only' }, {}, provider)
    await expect(withoutTenantEnforcement({ reason: 'nightly_cleanup' }, () => db!.prisma.user.count())).resolves.toBe(3)
    expect(await db.counter('tenant_bypass_denied_total')).toBe(1)
    expect(db.violations()).toHaveLength(1)
  })

  it('raw SQL under a granted bypass is the documented way to run reviewed raw queries', async () => {
    db = await fencedDatabase(enforce, {}, provider)
    const rows = await withoutTenantEnforcement({ reason: 'data_migration' }, () => db!.prisma.$queryRaw<{ n: number }[]>`SELECT count(*) AS n FROM "User"`)
    expect(Number(rows[0]!.n)).toBe(3)
  })
})

/** A promise the test resolves when it chooses: work scheduled inside a bypass waits on it. */
function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { opened, open }
}
const outcome = (p: Promise<unknown>) => p.then((value) => ({ value }), (err: { code?: string; violation?: string }) => ({ code: err.code }))

describe('a bypass lasts while its callback runs', () => {
  it('a timer scheduled inside that fires after the callback settled sees the scope but gets the normal check', async () => {
    db = await fencedDatabase(enforce)
    const g = gate()
    let late: Promise<unknown> | undefined
    let seenInTimer: { bypass: boolean; active: boolean } | undefined
    const inside = await withoutTenantEnforcement({ reason: 'nightly_cleanup' }, async () => {
      setTimeout(() => {
        late = g.opened.then(() => {
          const scope = tenantStorage.getStore()?.bypass
          seenInTimer = { bypass: scope !== undefined, active: scope?.active === true }
          return outcome(db!.prisma.user.count())
        })
      }, 0)
      return db!.prisma.user.count()
    })
    expect(inside).toBe(3)
    await expect.poll(() => late !== undefined).toBe(true)
    g.open()
    expect(await late).toEqual({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(seenInTimer).toEqual({ bypass: true, active: false })
    // Counted once, for the query inside; the late one is neither a bypass nor a refused one, but a violation.
    expect(await db.counter('tenant_bypass_usage_total')).toBe(1)
    expect(await db.counter('tenant_bypass_denied_total')).toBe(0)
    expect(await db.counter('tenant_violations_total', { decision: 'blocked' })).toBe(1)
  })

  it('a promise chain started inside and not awaited runs its queries with the normal check', async () => {
    db = await fencedDatabase(enforce)
    const g = gate()
    let orphan: Promise<unknown> | undefined
    await withoutTenantEnforcement({ reason: 'nightly_cleanup' }, () => {
      orphan = outcome(g.opened.then(() => db!.prisma.refreshToken.findMany()))
    })
    g.open()
    expect(await orphan).toEqual({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(await db.counter('tenant_bypass_usage_total')).toBe(0)
  })

  it('an event handler bound inside (EventEmitterAsyncResource) and fired later gets the normal check', async () => {
    db = await fencedDatabase(enforce)
    let events: EventEmitterAsyncResource | undefined
    const results: Promise<unknown>[] = []
    await withoutTenantEnforcement({ reason: 'nightly_cleanup' }, async () => {
      events = new EventEmitterAsyncResource({ name: 'cleanup-events' })
      events.on('done', () => results.push(outcome(db!.prisma.user.findMany())))
      events.emit('done') // fired while the callback runs: bypassed
      await results[0]
    })
    events!.emit('done') // fired after: checked
    expect(await results[0]).toEqual({ value: expect.any(Array) })
    expect(await results[1]).toEqual({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(await db.counter('tenant_bypass_usage_total')).toBe(1)
  })

  it('work the callback awaits, however late inside it, is still bypassed; a throwing callback ends the bypass too', async () => {
    db = await fencedDatabase(enforce)
    const n = await withoutTenantEnforcement({ reason: 'nightly_cleanup' }, async () => {
      await new Promise((r) => setTimeout(r, 5))
      return db!.prisma.user.count()
    })
    expect(n).toBe(3)
    let leaked: (() => Promise<unknown>) | undefined
    await expect(
      withoutTenantEnforcement({ reason: 'nightly_cleanup' }, () => {
        leaked = AsyncLocalStorage.bind(() => outcome(db!.prisma.user.count()))
        throw new Error('job failed')
      }),
    ).rejects.toThrow('job failed')
    expect(await leaked!()).toEqual({ code: 'TENANT_CONTEXT_REQUIRED' })
  })
})

/** The demo config with a `bypass` section of the test's choosing. */
function configWith(bypass: Partial<TenantFenceConfigInput['bypass']>) {
  return defineConfig({ ...(config as TenantFenceConfigInput), bypass: { reasons: config.bypass.reasons, ...bypass } })
}
const denied = () => db!.lines.filter((l) => l.msg === 'TENANT_BYPASS_DENIED')

describe('authorized actors (bypass.actors, bypass.authorize)', () => {
  it('bypass.actors: a listed actor is granted; anyone else is refused, counted, logged with the actor, and checked', async () => {
    db = await fencedDatabase(enforce, { config: configWith({ actors: ['cron:nightly-cleanup', '7'] }) })
    await expect(withoutTenantEnforcement({ reason: 'nightly_cleanup', actor: 'cron:nightly-cleanup' }, () => db!.prisma.user.count())).resolves.toBe(3)
    await expect(withoutTenantEnforcement({ reason: 'nightly_cleanup', actor: 'intern' }, () => db!.prisma.user.count())).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(await db.counter('tenant_bypass_usage_total', { reason: 'nightly_cleanup' })).toBe(1)
    expect(await db.counter('tenant_bypass_denied_total', { reason: 'nightly_cleanup' })).toBe(1)
    expect(denied()).toEqual([expect.objectContaining({ outcome: 'denied', actor: 'intern', reason: 'nightly_cleanup', refusal: 'actor is not in bypass.actors' })])
  })

  it('without options.actor the actor is the context\'s userId; with neither, the bypass is refused', async () => {
    db = await fencedDatabase(enforce, { config: configWith({ actors: ['7'] }) })
    const asUser = (userId: number) => runWithTenant({ tenantId: 1, userId }, () => withoutTenantEnforcement({ reason: 'support_investigation' }, () => db!.prisma.user.count()))
    await expect(asUser(7)).resolves.toBe(3)
    await expect(asUser(8)).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    await expect(withoutTenantEnforcement({ reason: 'support_investigation' }, () => db!.prisma.user.count())).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(denied().map((l) => [l.actor, String(l.refusal).slice(0, 8)])).toEqual([['8', 'actor is'], [null, 'no actor']])
    expect(db.lines.find((l) => l.msg === 'TENANT_BYPASS')).toMatchObject({ actor: '7', userId: '7' })
  })

  it('bypass.authorize decides from { actor, reason, context }; only `true` grants (false, a throw, a promise refuse)', async () => {
    const asked: BypassRequest[] = []
    const authorize = (req: BypassRequest) => {
      asked.push(req)
      if (req.actor === 'boom') throw new Error('lookup failed for sekrit-session-id')
      if (req.actor === 'async') return Promise.resolve(true) as unknown as boolean
      return req.actor === 'ops' && req.reason === 'security_incident'
    }
    db = await fencedDatabase(enforce, { config: configWith({ authorize }) })
    const bypass = (actor: string, reason = 'security_incident') =>
      outcome(runWithTenant({ tenantId: 2, userId: 3 }, () => withoutTenantEnforcement({ reason, actor }, () => db!.prisma.user.count())))
    expect(await bypass('ops')).toEqual({ value: 3 })
    expect(await bypass('ops', 'nightly_cleanup')).toEqual({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(await bypass('boom')).toEqual({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(await bypass('async')).toEqual({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(asked[0]).toEqual({ actor: 'ops', reason: 'security_incident', context: expect.objectContaining({ tenantId: 2, userId: 3 }) })
    expect(denied().map((l) => l.refusal)).toEqual([
      'bypass.authorize refused the actor',
      'bypass.authorize threw Error',
      'bypass.authorize returned a promise; it must answer synchronously',
    ])
    expect(JSON.stringify(db.lines)).not.toContain('sekrit')
  })

  it('with both, both must agree', async () => {
    db = await fencedDatabase(enforce, { config: configWith({ actors: ['ops', 'cron'], authorize: ({ actor }) => actor !== 'cron' }) })
    const bypass = (actor: string) => outcome(withoutTenantEnforcement({ reason: 'nightly_cleanup', actor }, () => db!.prisma.user.count()))
    expect(await bypass('ops')).toEqual({ value: 3 })
    expect(await bypass('cron')).toEqual({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(await bypass('root')).toEqual({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(denied().map((l) => l.refusal)).toEqual(['bypass.authorize refused the actor', 'actor is not in bypass.actors'])
  })

  it('hardened mode checks the actor after the documented reason', async () => {
    db = await fencedDatabase({}, { hardened: true, config: configWith({ actors: ['cron'] }) })
    await expect(withoutTenantEnforcement({ reason: 'nightly_cleanup', actor: 'cron' }, () => db!.prisma.user.count())).resolves.toBe(3)
    await expect(withoutTenantEnforcement({ reason: 'nightly_cleanup', actor: 'intern' }, () => db!.prisma.user.count())).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    await expect(withoutTenantEnforcement({ reason: 'because', actor: 'cron' }, () => db!.prisma.user.count())).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(denied().map((l) => String(l.refusal).slice(0, 22))).toEqual(['actor is not in bypass', 'hardened mode allows o'])
  })

  it('in log_only a refused actor breaks nothing: counted, logged, and the query logged as a violation', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_ALLOW_BYPASS: 'true' }, { config: configWith({ actors: ['cron'] }) })
    await expect(withoutTenantEnforcement({ reason: 'nightly_cleanup', actor: 'intern' }, () => db!.prisma.user.count())).resolves.toBe(3)
    expect(await db.counter('tenant_bypass_denied_total')).toBe(1)
    expect(db.violations()).toEqual([expect.objectContaining({ model: 'User', decision: 'logged' })])
  })

  it.each([
    [{ actors: [] }, /bypass\.actors: name at least one actor/],
    [{ actors: ['cron', ' '] }, /bypass\.actors\[1\]: must be a non-blank name/],
    [{ actors: ['cron', 'cron'] }, /bypass\.actors: lists an actor twice/],
    [{ authorize: 'admins' }, /bypass\.authorize: must be a function \(\{ actor, reason, context \}\) => boolean/],
    [{ actor: ['cron'] }, /bypass: unknown key\(s\) "actor"/],
  ])('the config refuses bypass %j', (bypass, message) => {
    expect(() => configWith(bypass as never)).toThrow(message)
  })
})

describe.each(PROVIDERS)('%s: hardened (phase 4)', (provider) => {
  it('ignores the flags: blocks even with MODE=disabled', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'disabled', TENANT_ENFORCEMENT_ENABLED: 'false' }, { hardened: true }, provider)
    await expect(runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany())).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    await expect(runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany({ where: { tenantId: 1 } }))).resolves.toHaveLength(2)
    const mode = (await db.registry.getSingleMetric('tenant_enforcement_mode')!.get()).values.find((v) => v.value === 1)
    expect(mode?.labels.mode).toBe('hardened')
    expect(db.violations()[0]).toMatchObject({ mode: 'hardened', decision: 'blocked' })
  })

  it('allows bypass only for the documented reasons, even with ALLOW_BYPASS=false', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_ALLOW_BYPASS: 'false' }, { hardened: true }, provider)
    await expect(withoutTenantEnforcement({ reason: 'security_incident' }, () => db!.prisma.user.count())).resolves.toBe(3)
    await expect(withoutTenantEnforcement({ reason: 'because' }, () => db!.prisma.user.count())).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED' })
    expect(db.lines.find((l) => l.msg === 'TENANT_BYPASS_DENIED')).toMatchObject({ refusal: expect.stringContaining('nightly_cleanup') })
  })
})

describe.each(PROVIDERS)('%s: context survives the way people write code', (provider) => {
  it('runWithTenant applies to the lazy query returned by the callback', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' }, {}, provider)
    // Not awaited inside: the PrismaPromise runs when runWithTenant awaits it, still as tenant 1.
    const users = await runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany({ where: { tenantId: 1 } }))
    expect(users).toHaveLength(2)
    await expect(runWithTenant({ tenantId: 2 }, () => db!.prisma.user.findMany({ where: { tenantId: 1 } }))).rejects.toMatchObject({ violation: 'tenant_mismatch' })
  })

  it('withoutTenantEnforcement applies to a lazy query too, and keeps the tenant context', async () => {
    db = await fencedDatabase(enforce, {}, provider)
    const seen = await runWithTenant({ tenantId: 2 }, () => withoutTenantEnforcement({ reason: 'support_investigation' }, () => getTenantContext()?.tenantId))
    expect(seen).toBe(2)
    await expect(withoutTenantEnforcement({ reason: 'nightly_cleanup' }, () => db!.prisma.user.findMany())).resolves.toHaveLength(3)
  })

  it('concurrent requests keep their own tenants', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' }, {}, provider)
    const results = await Promise.all(
      [1, 2, 1, 2].map((t) => runWithTenant({ tenantId: t }, async () => {
        await new Promise((r) => setTimeout(r, Math.random() * 10))
        return db!.prisma.user.findMany({ where: { tenantId: getTenantContext()!.tenantId as number } })
      })),
    )
    expect(results.map((r) => r.map((u) => u.tenantId))).toEqual([[1, 1], [2], [1, 1], [2]])
  })
})

describe.each(PROVIDERS)('%s: failure behaviour', (provider) => {
  it('a logger that throws never fails a query; the failure is counted', async () => {
    setFlags({ TENANT_ENFORCEMENT_MODE: 'log_only' })
    const base = await openDatabase()
    await seed(base.prisma)
    const broken = pino({}, new Writable({ write: (_c, _e, cb) => cb() }))
    broken.warn = () => {
      throw new Error('loki down')
    }
    const registry = new Registry()
    const prisma = base.prisma.$extends(tenantEnforcement({ config, logger: broken, registry }))
    try {
      await expect(runWithTenant({ tenantId: 1 }, () => prisma.user.findMany())).resolves.toHaveLength(3)
      const text = await registry.metrics()
      expect(text).toMatch(/tenant_telemetry_errors_total\{sink="log"\} 1/)
      expect(text).toMatch(/tenant_violations_total\{[^}]*decision="logged"[^}]*\} 1/)
    } finally {
      await base.close()
    }
  })

  it('an inspection error allows in log_only and blocks in enforce (fail closed), counted both times', async () => {
    const inspector = () => {
      throw new Error('inspector bug')
    }
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only' }, { inspector }, provider)
    await expect(runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany({ where: { tenantId: 1 } }))).resolves.toHaveLength(2)
    expect(await db.counter('tenant_inspection_errors_total', { model: 'User' })).toBe(1)
    expect(db.violations()[0]).toMatchObject({ violation: 'inspection_error', decision: 'logged' })
    process.env.TENANT_ENFORCEMENT_MODE = 'enforce'
    await expect(runWithTenant({ tenantId: 1 }, () => db!.prisma.user.findMany({ where: { tenantId: 1 } }))).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED', violation: 'inspection_error' })
    expect(await db.counter('tenant_inspection_errors_total', { model: 'User' })).toBe(2)
  })
})

describe.each(PROVIDERS)('%s: log hygiene', (provider) => {
  it('no secret or personal value reaches a violation line', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only' }, {}, provider)
    await runWithTenant({ tenantId: 1, userId: 1, endpoint: '/api/tokens', method: 'POST' }, () =>
      db!.prisma.refreshToken.findMany({ where: { tokenHash: 'sekrit-hash-value', user: { email: { contains: 'alice@acme.test' } }, expiresAt: { gt: new Date() } } }),
    )
    const line = JSON.stringify(db.violations())
    expect(line).not.toContain('sekrit')
    expect(line).not.toContain('alice@acme')
    expect(db.violations()[0]).toMatchObject({ endpoint: '/api/tokens', method: 'POST', userId: '1', tenantId: '1', queryArgs: { where: { tokenHash: '[redacted]', user: { email: { contains: '[redacted]' } }, expiresAt: { gt: '[date]' } } } })
  })

  it('a violation line carries the fields of the TenantViolation schema and the app call site', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only' }, {}, provider)
    async function listAdminUsers() {
      return db!.prisma.user.findMany({ where: { isActive: true } })
    }
    await runWithTenant({ tenantId: 1, userId: 1, endpoint: () => '/api/admin/users', method: 'GET' }, () => listAdminUsers())
    const v = db.violations()[0]!
    for (const field of ['severity', 'model', 'action', 'violation', 'endpoint', 'method', 'userId', 'tenantId', 'stackTrace', 'queryArgs', 'timestamp']) expect(v).toHaveProperty(field)
    expect(v.endpoint).toBe('/api/admin/users')
    expect(String(v.stackTrace)).toContain('listAdminUsers')
    expect(String(v.stackTrace)).not.toContain('node_modules')
  })
})
