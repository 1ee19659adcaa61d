// runWithTenant refuses a context without a valid tenant: a programming error, thrown at once,
// never read as "no request" (outside any context a query naming any one tenant is let through).
import { afterEach, describe, expect, it } from 'vitest'
import { getTenantContext, runWithTenant, TenantContextInvalidError, withoutTenantEnforcement } from '../src/index.ts'
import { fencedDatabase } from './helpers/fence.ts'

let db: Awaited<ReturnType<typeof fencedDatabase>> | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

/** Call runWithTenant with whatever a JavaScript caller (or a bad cast) might pass. */
const run = (context: unknown, fn: () => unknown = () => 'ran') => runWithTenant(context as never, fn)

describe('runWithTenant refuses a context without a valid tenant, synchronously', () => {
  it.each([
    ['missing', {}, 'undefined (missing)'],
    ['undefined', { tenantId: undefined }, 'undefined (missing)'],
    ['null', { tenantId: null }, 'null'],
    ['empty string', { tenantId: '' }, 'an empty string'],
    ['blank string', { tenantId: '   ' }, 'a blank string'],
    ['padded string', { tenantId: ' 7 ' }, 'a string with leading or trailing whitespace'],
    ['NaN', { tenantId: Number.NaN }, 'NaN'],
    ['Infinity', { tenantId: Infinity }, 'an infinite number'],
    ['fraction', { tenantId: 1.5 }, 'a non-integer number'],
    ['negative', { tenantId: -1 }, 'a negative number'],
    ['unsafe integer', { tenantId: 2 ** 53 }, 'an integer above Number.MAX_SAFE_INTEGER (pass a bigint or a string)'],
    ['negative bigint', { tenantId: -1n }, 'a negative bigint'],
    ['boolean', { tenantId: true }, 'a boolean'],
    ['object', { tenantId: { id: 1 } }, 'an object'],
    ['Date', { tenantId: new Date() }, 'an object (Date)'],
    ['array', { tenantId: [1] }, 'an array'],
    ['function', { tenantId: () => 1 }, 'a function'],
    ['symbol', { tenantId: Symbol('t') }, 'a symbol'],
  ])('tenantId %s', (_name, context, got) => {
    let called = false
    let thrown: unknown
    try {
      // Not awaited: the refusal is a synchronous throw, not a rejected promise.
      void run(context, () => (called = true))
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(TenantContextInvalidError)
    expect(thrown).toMatchObject({ code: 'TENANT_CONTEXT_INVALID', field: 'tenantId', got })
    expect((thrown as Error).message).toBe(`TENANT_CONTEXT_INVALID: tenantId must be a non-blank string, a non-negative safe integer or a non-negative bigint; got ${got}`)
    expect(called).toBe(false)
  })

  it.each([
    ['null', null],
    ['a number', 7],
    ['an array', [{ tenantId: 1 }]],
  ])('a context that is %s', (_name, context) => {
    expect(() => run(context)).toThrow(expect.objectContaining({ code: 'TENANT_CONTEXT_INVALID', field: 'context' }))
  })

  it('userId, when given, is validated like the tenant', () => {
    expect(() => run({ tenantId: 1, userId: null })).toThrow(/userId must be .*; got null/)
    expect(() => run({ tenantId: 1, userId: '' })).toThrow(expect.objectContaining({ field: 'userId', got: 'an empty string' }))
    expect(() => run({ tenantId: 1, userId: -3 })).toThrow(expect.objectContaining({ field: 'userId', got: 'a negative number' }))
    expect(() => run({ tenantId: 1, userId: { sub: 'x' } })).toThrow(expect.objectContaining({ field: 'userId', got: 'an object' }))
  })

  it('endpoint and method have the types the reporter expects', () => {
    expect(() => run({ tenantId: 1, endpoint: 42 })).toThrow(expect.objectContaining({ field: 'endpoint', got: 'a number' }))
    expect(() => run({ tenantId: 1, method: ['GET'] })).toThrow(expect.objectContaining({ field: 'method', got: 'an array' }))
  })

  it('the message names the type, never the value', () => {
    const secret = ' eyJhbGciOiJIUzI1NiJ9.sekrit-token '
    expect(() => run({ tenantId: secret })).toThrow(TenantContextInvalidError)
    try {
      void run({ tenantId: 1, userId: secret })
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('sekrit')
      expect(JSON.stringify(err)).not.toContain('sekrit')
    }
    expect.assertions(3)
  })
})

describe('valid contexts', () => {
  it.each([
    ['a positive integer', 1],
    ['zero', 0],
    ['a string', 'acme'],
    ['a uuid', '3f2c9a6e-2b1d-4c55-9a51-0c4b7f1f2a10'],
    ['a bigint', 9007199254740993n],
  ])('tenantId %s runs the callback in the context', async (_name, tenantId) => {
    await expect(run({ tenantId, userId: 'u-1' }, () => getTenantContext()?.tenantId)).resolves.toBe(tenantId)
  })

  it('runs on a frozen copy: the caller mutating its object later changes nothing', async () => {
    const ctx: { tenantId: unknown } = { tenantId: 1 }
    const seen = await run(ctx, async () => {
      ctx.tenantId = undefined
      await new Promise((r) => setTimeout(r, 1))
      return { id: getTenantContext()?.tenantId, frozen: Object.isFrozen(getTenantContext()) }
    })
    expect(seen).toEqual({ id: 1, frozen: true })
  })

  it('a refused context runs no query: in log_only the unscoped delete would have run, here nothing does', async () => {
    db = await fencedDatabase({ TENANT_ENFORCEMENT_MODE: 'log_only' })
    const before = await db.base.auditLog.count()
    expect(() => run({ tenantId: null }, () => db!.prisma.auditLog.deleteMany({}))).toThrow(TenantContextInvalidError)
    expect(await db.base.auditLog.count()).toBe(before)
    expect(await db.counter('tenant_violations_total')).toBe(0)
    // The same delete under a valid context does run in log_only (logged): the refusal above is what stopped it.
    await run({ tenantId: 1 }, () => db!.prisma.auditLog.deleteMany({}))
    expect(await db.base.auditLog.count()).toBe(0)
    expect(await db.counter('tenant_violations_total')).toBe(1)
  })
})

describe('two levels: tenantIds and scope', () => {
  it.each([
    ['an array', { tenantIds: ['o1', 't1'] }, 'tenantIds', 'an array'],
    ['an empty object', { tenantIds: {} }, 'tenantIds', 'an empty object'],
    ['a Map', { tenantIds: new Map([['organization', 'o1']]) }, 'tenantIds', 'an object (Map)'],
    ['a key that is not a level name', { tenantIds: { 'org id': 'o1' } }, 'tenantIds', 'a key that is not a level name'],
    ['a bad id', { tenantIds: { organization: 'o1', team: -1 } }, 'tenantIds.team', 'a negative number'],
    ['a blank id', { tenantIds: { organization: ' ' } }, 'tenantIds.organization', 'a blank string'],
    ['a bad tenantId next to tenantIds', { tenantId: null, tenantIds: { organization: 'o1' } }, 'tenantId', 'null'],
    ['a scope no id names', { tenantIds: { team: 't1' }, scope: 'organization' }, 'scope', '"organization", not a key of tenantIds'],
    ['a scope without tenantIds', { tenantId: 1, scope: 'organization' }, 'scope', '"organization", not a key of tenantIds'],
    ['a scope that is not a string', { tenantIds: { organization: 'o1' }, scope: 1 }, 'scope', 'a number'],
  ])('refuses %s', (_name, context, field, got) => {
    expect(() => run(context)).toThrow(expect.objectContaining({ code: 'TENANT_CONTEXT_INVALID', field, got }))
  })

  it('runs a context with one id per level (and a scope), frozen down to its ids', async () => {
    const ids = { organization: 'o1', team: 7 }
    const seen = await run({ tenantIds: ids, scope: 'organization', userId: 'u1' }, async () => {
      ids.team = 8
      const c = getTenantContext()!
      return { tenantIds: c.tenantIds, scope: c.scope, frozen: Object.isFrozen(c.tenantIds) }
    })
    expect(seen).toEqual({ tenantIds: { organization: 'o1', team: 7 }, scope: 'organization', frozen: true })
  })
})

describe('withoutTenantEnforcement checks its options', () => {
  it.each([
    ['options that are not an object', null, 'bypass options'],
    ['a reason that is not a string', { reason: 42 }, 'reason'],
    ['a blank actor', { reason: 'nightly_cleanup', actor: '  ' }, 'actor'],
    ['an actor that is not a string', { reason: 'nightly_cleanup', actor: 5 }, 'actor'],
  ])('refuses %s', (_name, options, field) => {
    expect(() => withoutTenantEnforcement(options as never, () => 1)).toThrow(expect.objectContaining({ code: 'TENANT_CONTEXT_INVALID', field }))
  })
})
