// Rows linked across tenants. The check trusts a relation read from a proven row because every
// write that links rows is checked — in enforce. During log_only and selective a cross-tenant link
// is only logged, and rows written before tenantfence (or by another client) were never checked:
// find them before full enforcement (phase 3) starts trusting every link.
import type { TenantFenceConfig } from '../config/schema.ts'
import { dataModelOfClient, type DataModel } from './datamodel.ts'
import { sameTenant } from './inspect.ts'
import { compilePolicy } from './policy.ts'
import { delegateName, tenantOfRow, tenantSelect } from './references.ts'

type Row = Record<string, unknown>
interface Delegate {
  findMany(args: { select: Row; take: number; skip: number; orderBy: Row }): PromiseLike<Row[]>
}

export interface CrossTenantLink {
  /** the model holding the foreign key, and its relation */
  readonly model: string
  readonly relation: string
  /** the linked model */
  readonly target: string
  /** rows of `model` whose `relation` points at another tenant's row */
  readonly rows: number
  /** a few of them, by primary key, for the runbook (no other value) */
  readonly examples: ReadonlyArray<Readonly<Record<string, unknown>>>
}

export interface LinkAuditOptions {
  config: TenantFenceConfig
  /** rows read per query (default 1000) */
  pageSize?: number
  /** examples kept per relation (default 5) */
  examples?: number
  datamodel?: DataModel
}

/**
 * Every relation between two tenant-owned models (or to the tenant model) whose foreign key one
 * side holds, read through `client` — a client WITHOUT tenantfence (or inside a bypass): the audit
 * reads every tenant. Returns the relations with rows linked to another tenant's row.
 */
export async function findCrossTenantLinks(client: unknown, options: LinkAuditOptions): Promise<CrossTenantLink[]> {
  const datamodel = options.datamodel ?? dataModelOfClient(client)
  if (!datamodel) throw new Error('tenantfence: this Prisma client exposes no data model; pass `datamodel`')
  const policy = compilePolicy(options.config, datamodel)
  const pageSize = options.pageSize ?? 1000
  const keep = options.examples ?? 5
  const found: CrossTenantLink[] = []
  for (const p of policy.models.values()) {
    if (!p.guarded) continue
    const id = datamodel.models[p.name]?.primaryKey
    if (!id?.length) continue
    for (const r of p.references) {
      // The row's own tenant source cannot point elsewhere: its tenant is that row's.
      if (r.name === p.via) continue
      const target = policy.models.get(r.target)!
      // A composite key that includes the tenant field: the database already keeps both ends in one tenant.
      if (r.tenantBound) continue
      const delegate = (client as Record<string, Delegate | undefined>)[delegateName(p.name)]
      if (!delegate) throw new Error(`tenantfence: the client has no delegate for ${p.name}`)
      const select: Row = { ...Object.fromEntries(id.map((f) => [f, true])), ...tenantSelect(p), [r.name]: { select: tenantSelect(target) } }
      const orderBy = Object.fromEntries(id.map((f) => [f, 'asc']))
      let rows = 0
      const examples: Record<string, unknown>[] = []
      for (let skip = 0; ; skip += pageSize) {
        // Rows with no link (a null foreign key) come back with the relation null and are skipped.
        const page = await delegate.findMany({ select, orderBy, take: pageSize, skip })
        for (const row of page) {
          const own = tenantOfRow(row, p)
          const theirs = tenantOfRow(row[r.name] as Row | null, target)
          if (theirs === undefined || theirs === null || (own !== undefined && own !== null && sameTenant(own, theirs))) continue
          rows++
          if (examples.length < keep) examples.push(Object.fromEntries(id.map((f) => [f, row[f]])))
        }
        if (page.length < pageSize) break
      }
      if (rows > 0) found.push({ model: p.name, relation: r.name, target: r.target, rows, examples })
    }
  }
  return found
}
