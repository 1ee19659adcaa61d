// Prisma.skip as the client under test passes it to a query extension, on Prisma 7 here and on Prisma 6
// through test/prisma6 (npm run test:prisma6, which maps @prisma/client/runtime/client to Prisma 6's
// runtime). Prisma 7 passes the Skip instance itself: tenantfence reads it as absent, like undefined,
// never a pin and never an over-block. Prisma 6.19 hands any query extension a copy of the arguments
// in which the Skip instance has become a plain `{}` (its own behaviour, with any extension: the query
// then fails its validation or reads `{}` as an empty filter); tenantfence reads `{}` as what it is, an
// empty object that pins nothing, so nothing is let through. On the client's request path (the default
// since issue 20) the check sees the arguments before that copy: the Skip instance, on both versions.
// The full both-ways cases are in
// isolation-keys-skip.test.ts.
import { skip } from '@prisma/client/runtime/client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { inspect, isSkip } from '../src/enforcement/inspect.ts'
import { runWithTenant } from '../src/index.ts'
import { isolationDatabase, stable, T1, type AnyClient, type IsolationDb } from './helpers/isolation-db.ts'
import { snapshot } from './helpers/isolation-truth.ts'

let db: IsolationDb
let seed: string
/** what a query extension receives for Prisma.skip on this Prisma version */
let received: unknown
/** what tenantfence's check receives: on the client's request path (issue 20) the arguments as the app wrote them */
let checked: unknown
beforeAll(async () => {
  db = await isolationDatabase({ TENANT_ENFORCEMENT_MODE: 'enforce' })
  seed = stable(await snapshot(db.base))
  const spy = db.base.$extends({
    query: {
      $allOperations({ args, query }: { args: { where: { tenantId: unknown } }; query: (a: unknown) => Promise<unknown> }) {
        received = args.where.tenantId
        return query(args)
      },
    },
  })
  await spy.user.findMany({ where: { tenantId: skip } })
  const watched = db.fenced({
    inspector: (policy, model, operation, args, tenantId) => {
      checked = (args as { where?: { tenantId?: unknown } }).where?.tenantId
      return inspect(policy, model, operation, args, tenantId)
    },
  })
  await runWithTenant(T1, () => watched.user.findMany({ where: { tenantId: skip } })).catch(() => undefined)
})
afterAll(async () => {
  await db?.close()
})
beforeEach(async () => {
  if (stable(await snapshot(db.base)) !== seed) await db.reset()
})

const asT1 = (run: (p: AnyClient) => Promise<unknown>) => runWithTenant(T1, () => run(db.prisma))
const blocked = (run: (p: AnyClient) => Promise<unknown>) =>
  asT1(run).then(
    () => expect.fail('let through'),
    (e: { code?: string; violation?: string }) => `${e.code} ${e.violation}`,
  )
const ids = (rows: unknown) => (rows as Array<{ id: number }>).map((r) => r.id).sort((a, b) => a - b)

describe('Prisma.skip, as this Prisma version passes it to a query extension', () => {
  it("is this client's own skip: the plain client drops the key (every tenant's users)", async () => {
    expect(ids(await db.base.user.findMany({ where: { tenantId: skip } }))).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  const user1 = { id: 1, tenantId: 1 }

  it('pins nothing: where tenantId: skip is blocked, and so is a move to tenant 2 with skip beside set', async () => {
    expect(await blocked((p) => p.user.findMany({ where: { tenantId: skip } }))).toBe(
      'TENANT_CONTEXT_REQUIRED missing_tenant_id',
    )
    const move = (p: AnyClient) => p.user.update({ where: user1, data: { tenantId: { set: 2, increment: skip } } })
    expect(await blocked(move)).toBe('TENANT_CONTEXT_REQUIRED tenant_mismatch')
  })

  it('reaches a query extension as the Skip instance (Prisma 7) or as a plain {} (Prisma 6.19)', () => {
    const plainObject = isSkip(received) === false && stable(received) === '{}'
    expect(received === skip || plainObject, `received ${stable(received)}`).toBe(true)
    expect(isSkip(received)).toBe(received === skip)
  })

  // Prisma 7 only: on Prisma 6.19 the same queries fail Prisma's own validation through any query extension
  // Prisma 7 hands the Skip instance to every hook; Prisma 6.19 only to the request path (issue 20), a
  // query extension gets `{}` there
  const passesOnThisVersion = () => checked === skip
  type Hook = { args: unknown; query: (a: unknown) => Promise<unknown> }

  it('is absent beside a pin: user: { is: skip, tenantId: 1 } and update data tenantId: skip pass (Prisma 7)', async () => {
    const isSkipBesidePin = { where: { user: { is: skip, tenantId: 1 } } }
    if (!passesOnThisVersion()) {
      // Prisma 6.19: `is: {}` beside tenantId is refused by Prisma itself (any query extension), before the database
      const anyExtension = db.base.$extends({ query: { $allOperations: ({ args, query }: Hook) => query(args) } })
      await expect(anyExtension.refreshToken.findMany(isSkipBesidePin)).rejects.toThrow(/Unknown argument/)
      return
    }
    expect(ids(await asT1((p) => p.refreshToken.findMany(isSkipBesidePin)))).toEqual([1, 3])
    const skipped = await asT1((p) => p.user.update({ where: user1, data: { tenantId: skip, isActive: false } }))
    expect(skipped).toMatchObject({ id: 1, tenantId: 1, isActive: false })
    const beside = await asT1((p) => p.user.update({ where: { id: 2, tenantId: 1 }, data: { tenantId: { set: 1, increment: skip } } }))
    expect(beside).toMatchObject({ id: 2, tenantId: 1 })
  })

  it("beside set on a key: the set value is looked up (user 3 is tenant 2's); arithmetic is refused", async () => {
    // Prisma 6.19: `{ set: 3, increment: {} }` is two operators, refused before Prisma would reject it
    const kind = passesOnThisVersion() ? 'tenant_mismatch' : 'unverified_reference'
    const beside = (p: AnyClient) => p.user.update({ where: user1, data: { id: { set: 3, increment: skip } } })
    expect(await blocked(beside)).toBe(`TENANT_CONTEXT_REQUIRED ${kind}`)
    const arithmetic = (p: AnyClient) => p.user.update({ where: user1, data: { id: { increment: 2 } } })
    expect(await blocked(arithmetic)).toBe('TENANT_CONTEXT_REQUIRED unverified_reference')
  })
})
