// What the claim memory of rows created with no owner (src/enforcement/claims.ts) reads on Prisma 6:
// a query in an interactive transaction carries the transaction as { kind: 'itx', id: <string> }
// in the hook's __internalParams, the same id for every query of that transaction.
import { Prisma } from '@prisma/client/extension'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/demo/db.ts'

describe('interactive transactions on Prisma 6', () => {
  it('hand every query of one transaction the same itx id', async () => {
    const db = await openDatabase()
    try {
      const seen: unknown[] = []
      const spy = Prisma.defineExtension((client) =>
        client.$extends({
          query: {
            $allOperations({ args, query, ...params }) {
              seen.push((params as { __internalParams?: { transaction?: unknown } }).__internalParams?.transaction)
              return query(args)
            },
          },
        }),
      )
      const p = db.prisma.$extends(spy)
      await p.$transaction(async (tx) => [await tx.tenant.count(), await tx.tenant.count()])
      await p.tenant.count()
      const [a, b, lone] = seen as Array<{ kind?: string; id?: unknown } | undefined>
      expect(a).toMatchObject({ kind: 'itx', id: expect.any(String) })
      expect(b?.id).toBe(a?.id)
      expect(lone).toBeUndefined()
    } finally {
      await db.close()
    }
  })
})
