// A read of a model that is not tenant-owned (but from which tenant-owned rows are reachable) can
// reach those rows only through a key of its arguments that names a relation: a relation filter in
// `where` or `cursor` (or one inside AND/OR/NOT), a relation in `orderBy`, `include` or `select`
// (`_count` included). When no key at those places does, inspect() finds nothing, whatever the
// request's tenant and the flags: the hook lets such a read through before it reads the flags or
// walks the arguments. Anything else (writes: a delete cascades to tenant-owned rows; keys this
// file does not know; a value skipped with Prisma.skip) gets the full check. Pure and shallow: one
// pass over the keys of a few top-level objects, no recursion.
import { READ_OPERATIONS } from './operations.ts'
import type { ModelPolicy } from './policy.ts'

type Obj = Record<string, unknown>
const isPlain = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

// Top-level arguments of a read that hold scalars, scalar field names or aggregates of scalars only.
const SCALAR_ARGS: ReadonlySet<string> = new Set(['take', 'skip', 'distinct', 'omit', 'relationLoadStrategy', 'by', 'having', '_count', '_avg', '_sum', '_min', '_max'])

/** No key of this object names a relation of `p` (or a logical operator, whose branches could). */
function namesNoRelation(o: unknown, p: ModelPolicy): boolean {
  if (o === undefined) return true
  if (!isPlain(o)) return false
  for (const key in o) {
    if (key === 'AND' || key === 'OR' || key === 'NOT' || key === '_count' || p.relations.has(key)) return false
  }
  return true
}

/**
 * True when this query is a read of `p` (a model that is not tenant-owned) whose arguments name no
 * relation where inspect() would follow one: nothing tenant-owned can be reached, so nothing to check.
 */
export function readReachesNoRelation(p: ModelPolicy, operation: string, args: unknown): boolean {
  if (p.guarded || !READ_OPERATIONS.has(operation)) return false
  if (args === undefined) return true
  if (!isPlain(args)) return false
  for (const key in args) {
    const v = args[key]
    if (key === 'where' || key === 'cursor' || key === 'include' || key === 'select') {
      if (!namesNoRelation(v, p)) return false
    } else if (key === 'orderBy') {
      if (Array.isArray(v)) {
        for (const o of v) if (!namesNoRelation(o, p)) return false
      } else if (!namesNoRelation(v, p)) return false
    } else if (!SCALAR_ARGS.has(key)) return false
  }
  return true
}
