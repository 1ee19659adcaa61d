import { defineConfig } from 'prisma/config'

// Prisma 7 reads the datasource url from here. The demo and the tests open their
// databases through the better-sqlite3 driver adapter (src/demo/db.ts), not this url.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'file:./prisma/dev.db' },
})
