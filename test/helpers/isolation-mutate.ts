// Near misses for the fuzz test: scoped queries of the request's tenant (the schema's templates: nested
// writes at depth, foreign keys, relation filters from a global parent, cursors, _count) with one or two
// random twists: an id or a tenant changed, a key dropped or set to undefined, a quantifier swapped, a
// filter widened by an OR. Random generation alone seldom reaches a cross-tenant key three levels down;
// a twist of a scoped shape does, and the database says whether the twist leaks.
import { DEMO } from './isolation-demo.ts'
import type { GenQuery, Rng } from './isolation-gen.ts'
import type { IsolationSchema } from './isolation-schema.ts'

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number; value: unknown }
const SWAPS: Record<string, readonly string[]> = {
  some: ['every', 'none'],
  none: ['every', 'some'],
  every: ['some'],
  is: ['isNot'],
  isNot: ['is'],
}

function slots(root: unknown): Slot[] {
  const out: Slot[] = []
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (out.push({ parent: v, key: i, value: x }), walk(x)))
    else if (v && typeof v === 'object' && !(v instanceof Date))
      for (const [k, x] of Object.entries(v))
        (out.push({ parent: v as Record<string, unknown>, key: k, value: x }), walk(x))
  }
  walk(root)
  return out
}

/** A copy of a template with one or two twists (none, now and then: the scoped shape itself must pass). */
export function mutate(g: Rng, template: GenQuery, schema: IsolationSchema = DEMO): GenQuery {
  const args = structuredClone(template.args)
  const r = g.next()
  const twists = r < 0.1 ? 0 : r < 0.7 ? 1 : 2
  for (let i = 0; i < twists; i++) twist(g, args, schema)
  return { ...template, args }
}

function twist(g: Rng, root: Record<string, unknown>, schema: IsolationSchema): void {
  const all = slots(root)
  const { twistable } = schema.gen
  // ids and tenants are where leaks hide: they are twisted more often than the shape around them
  const ids = all.filter((s) => twistable(s.key, s.value))
  const slot = ids.length && g.chance(0.55) ? g.pick(ids) : g.pick(all)
  if (!slot) return
  const { parent, key, value } = slot
  const set = (v: unknown) => ((parent as Record<string | number, unknown>)[key] = v)
  if (twistable(key, value)) return void set(schema.gen.twist(key, value, g))
  const swaps = typeof key === 'string' ? SWAPS[key] : undefined
  if (swaps && !Array.isArray(parent) && g.chance(0.6)) {
    delete parent[key as string]
    parent[g.pick(swaps)] = value
    return
  }
  const r = g.next()
  if (r < 0.4 && !Array.isArray(parent)) delete parent[key as string]
  else if (r < 0.6) set(undefined)
  else if (r < 0.85 && value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date))
    set({ OR: [value, { id: g.pick(schema.gen.widenIds) }] })
  else set({})
}
