// Every operation and every query shape of DESIGN.md "What counts as scoped", both ways, on a
// real database: a scoped query passes and returns only its tenant's rows; an unscoped or
// cross-tenant one is blocked in enforce (and changes nothing) and logged + counted in log_only.
// Each on SQLite and on PostgreSQL.
import { shapesSuite } from './helpers/shapes-suite.ts'

// SQLite here; PostgreSQL in enforcement-shapes-pg.test.ts (the two halves run on separate workers).
shapesSuite(['sqlite'])
