// The enforcement tests, on Prisma 6: the same test files, with the demo's generated client, the
// driver adapter and @prisma/client swapped for the Prisma 6 ones installed in this folder by
// scripts/prisma6-install.mjs. Run: npm run test:prisma6
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const client = resolve(here, 'generated/client.ts')
if (!existsSync(client)) {
  throw new Error(`the Prisma 6 client is missing (${client}): run \`node scripts/prisma6-install.mjs\` first`)
}

export default defineConfig({
  root,
  resolve: {
    alias: [
      { find: /^(\.\.\/src\/demo|\.)\/generated\/prisma\/client\.ts$/, replacement: client },
      { find: /^@prisma\/adapter-better-sqlite3$/, replacement: resolve(here, 'adapter.ts') },
      { find: /^@prisma\/client\/extension$/, replacement: resolve(here, 'node_modules/@prisma/client/extension.js') },
      // Prisma.skip in a test must be the runtime of the client under test (its Skip class), as the generated client's own import
      { find: /^@prisma\/client\/runtime\/client$/, replacement: resolve(here, 'node_modules/@prisma/client/runtime/client.mjs') },
    ],
  },
  test: {
    include: ['test/enforcement-*.test.ts', 'test/prisma6/*.check.ts'],
    exclude: ['test/*-pg.test.ts'],
    // the Prisma 6 client here is generated for SQLite only (PostgreSQL runs on Prisma 7 in `npm test`)
    env: { TENANTFENCE_PROVIDERS: 'sqlite' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    maxWorkers: 2,
  },
})
