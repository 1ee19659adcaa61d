import { defineConfig } from 'prisma/config'

// The PostgreSQL twin of the demo schema. With network access (the schema engine downloads):
//   DATABASE_URL=postgres://… npx prisma migrate deploy --config prisma/postgres/prisma.config.ts
// Here, without it, src/demo/db.ts applies the same migration.sql files through the pg driver.
// schema.prisma beside this file is derived from ../schema.prisma by scripts/prisma-generate.mjs.
export default defineConfig({
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgres://localhost:5432/tenantfence' },
})
