// Foreign keys and connects the query cannot prove by itself (`roleId: 5`, `connect: { id: 5 }`),
// and unique keys it sets (`id: 'd_b1'`): look the rows' tenants up. This is the one place
// tenantfence adds a query of its own: one indexed findMany per model per write, through the client
// without the extension (never re-entering the check), inside the query's interactive transaction
// when it has one.
import type { Finding, ReferenceCheck } from './inspect.ts'
import { NEW_TENANT, sameTenant } from './inspect.ts'
import type { ModelPolicy, Policy } from './policy.ts'

type Row = Record<string, unknown>
interface Delegate {
  findMany(args: { where: unknown; select: unknown }): PromiseLike<Row[]>
}

/** A unique key an earlier query of the same batch transaction creates, proven the tenant's. */
export interface PendingKey {
  readonly model: string
  readonly fields: readonly string[]
  readonly values: readonly unknown[]
}

/** The Prisma client property of a model: its name with the first letter lower-cased. */
export function delegateName(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1)
}

/** `select` that reaches the row's tenant: its tenant field, or the `via` chain down to one. */
export function tenantSelect(p: ModelPolicy): Row {
  if (p.kind === 'relation' && p.target) return { [p.via]: { select: tenantSelect(p.target) } }
  return { [p.field]: true }
}

/** The tenant of a row read with tenantSelect (undefined when its chain ends in no row). */
export function tenantOfRow(row: Row | null | undefined, p: ModelPolicy): unknown {
  if (!row) return undefined
  if (p.kind === 'relation' && p.target) return tenantOfRow(row[p.via] as Row | null, p.target)
  return row[p.field]
}

const keyMatches = (row: Row, fields: readonly string[], values: readonly unknown[]) => fields.every((f, i) => sameTenant(row[f], values[i]))

/** Did this request (or transaction) create this row, which belongs to no tenant yet? (see claims.ts) */
export type Claimable = (model: string, row: Row) => boolean

/** How a row of p reaches its tenant, in words: `DocumentMeta.document → Document.teamId`. */
export function ownerChain(p: ModelPolicy): string {
  const hops: string[] = []
  let cur: ModelPolicy | undefined = p
  while (cur?.kind === 'relation' && cur.target && hops.length <= 8) {
    hops.push(`${cur.name}.${cur.via}`)
    cur = cur.target
  }
  if (cur) hops.push(`${cur.name}.${cur.field}`)
  return hops.join(' → ')
}

/** A row re-pointed at a parent of another tenant (its own tenant source): it would move there. */
function movedDetail(who: ModelPolicy, parent: ModelPolicy): string | undefined {
  if (who.kind !== 'relation') return undefined
  return `the ${who.name} row would move to another tenant: the ${parent.name} it is linked to is not this tenant's (${who.name} is owned through ${ownerChain(who)})`
}

/** Why a row of p that another tenant holds, or that no tenant holds, cannot be linked (no value in it). */
function ownedDetail(p: ModelPolicy, unowned: boolean): string | undefined {
  if (p.kind !== 'relation' || !p.target) return undefined
  const chain = ownerChain(p)
  if (!unowned) return `the ${p.name} row is another tenant's (${p.name} belongs to the tenant of its owner: ${chain})`
  const how = p.viaBack ? `no ${p.target.name} holds its key yet` : `its ${p.via} is empty`
  return `the ${p.name} row belongs to no tenant yet (${how}; ${p.name} is owned through ${chain}), and this request or transaction did not create it: only its creator may link it`
}

/**
 * The findings the lookups add: a referenced row of another tenant is `tenant_mismatch`, a
 * foreign key to a row that does not exist `unverified_reference` (unless an earlier query of the
 * same batch creates it: `pending`), a unique key another tenant's row holds `tenant_mismatch`.
 * `tenant` is the tenant the query was judged against; outside a request (undefined) the first
 * referenced row found sets it.
 */
export async function verifyReferences(client: unknown, policy: Policy, refs: readonly ReferenceCheck[], tenant: unknown, pending: readonly PendingKey[] = [], claimable?: Claimable): Promise<Finding[]> {
  const byModel = new Map<string, ReferenceCheck[]>()
  for (const r of refs) {
    const group = byModel.get(r.model)
    if (group) group.push(r)
    else byModel.set(r.model, [r])
  }
  const findings: Finding[] = []
  let expected = tenant
  for (const [model, group] of byModel) {
    const p = policy.models.get(model)!
    const select = tenantSelect(p)
    for (const r of group) if (r.key) for (const f of r.key.fields) select[f] = true
    // A row that belongs to no tenant may be this request's own creation: its primary key tells.
    if (claimable && p.viaBack) for (const f of p.primaryKey) select[f] = true
    const where = group.length === 1 ? group[0]!.where : { OR: group.map((r) => r.where) }
    const delegate = (client as Record<string, Delegate | undefined>)[delegateName(model)]
    if (!delegate) throw new Error(`tenantfence: the client has no delegate for ${model}`)
    const rows = await delegate.findMany({ where, select })
    const refOf = (row: Row) => group.find((r) => r.key && keyMatches(row, r.key.fields, r.key.values)) ?? group.find((r) => !r.collision) ?? group[0]!
    let mismatch = false
    for (const row of rows) {
      const ref = refOf(row)
      const t = tenantOfRow(row, p)
      const unowned = t === undefined || t === null
      // Linking a row no tenant holds that this request created: the claim that makes it the tenant's.
      if (unowned && !ref.collision && claimable !== undefined && p.viaBack && claimable(model, row)) continue
      if (expected === undefined && !ref.collision && !unowned) expected = t
      if (mismatch || (!unowned && expected !== NEW_TENANT && sameTenant(t, expected))) continue
      // A row the write would collide with, or link to, that is not the tenant's.
      mismatch = true
      const who = ref.blame ? policy.models.get(ref.blame)! : p
      const named = t === undefined || t === null ? undefined : { queryTenantIds: [String(t)] }
      const linked = ref.linked !== undefined && ref.linked !== who.name ? { linked: ref.linked } : undefined
      const detail = ref.collision ? undefined : who !== p ? movedDetail(who, p) : ownedDetail(p, unowned)
      findings.push({ model: who.name, severity: who.severity, violation: 'tenant_mismatch', path: ref.path, ...named, ...linked, ...(detail ? { detail } : undefined) })
    }
    for (const r of group) {
      const key = r.key
      if (!key || r.collision) continue
      if (rows.some((row) => keyMatches(row, key.fields, key.values))) continue
      if (pending.some((k) => k.model === model && k.fields.length === key.fields.length && k.fields.every((f, i) => f === key.fields[i] && sameTenant(k.values[i], key.values[i])))) continue
      const who = r.blame ? policy.models.get(r.blame)! : p
      const linked = r.linked !== undefined && r.linked !== who.name ? { linked: r.linked } : undefined
      findings.push({ model: who.name, severity: who.severity, violation: 'unverified_reference', path: r.path, ...linked })
    }
  }
  return findings
}
