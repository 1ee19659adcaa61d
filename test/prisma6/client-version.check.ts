// Proof that this run is on Prisma 6: the client the demo database helper opens, and the
// @prisma/client tenantfence's extension is built with, are the Prisma 6 installs of test/prisma6.
import { Prisma as ExtensionPrisma } from '@prisma/client/extension'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/demo/db.ts'

describe('the Prisma 6 run', () => {
  it('opens the demo database with a Prisma 6 client and runs a query', async () => {
    const db = await openDatabase()
    try {
      expect((db.prisma as unknown as { _clientVersion: string })._clientVersion).toMatch(/^6\./)
      expect((ExtensionPrisma as unknown as { prismaVersion: { client: string } }).prismaVersion.client).toMatch(/^6\./)
      expect(await db.prisma.tenant.count()).toBe(0)
    } finally {
      await db.close()
    }
  })
})
