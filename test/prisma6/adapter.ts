// Prisma 6's better-sqlite3 adapter under Prisma 7's class name, so the enforcement tests
// (which import `PrismaBetterSqlite3`) run unchanged on the Prisma 6 client. Imported by path:
// the bare name is aliased to this very file in vitest.config.ts.
export { PrismaBetterSQLite3 as PrismaBetterSqlite3 } from './node_modules/@prisma/adapter-better-sqlite3/dist/index.mjs'
