// Rows a request created that belong to no tenant yet, so that the same request may link them.
// A model owned through a back-side `via` (DocumentMeta, whose key Envelope.documentMetaId holds) is
// created first and linked by its owner after (`envelope.create({ data: { documentMetaId } })`).
// Between the two writes the row is nobody's: the lookup of the owner's foreign key finds a row
// with no tenant. Letting anyone link such a row would let a request adopt another's half-made
// data; refusing it would block the app's real write order. So the creator alone may link it: the
// extension remembers the primary keys its creates returned, per request, and per interactive
// transaction outside a request.
//
// Memory is bounded: MAX_ROWS keys per request or transaction (the oldest forgotten first) and
// MAX_TRANSACTIONS transactions outside requests. A forgotten row is no longer claimable: linking it
// is a violation (closed), never a silent pass. A request's memory goes with its context (a WeakMap
// keyed by the AsyncLocalStorage store); a transaction's with the oldest transactions.
import type { TenantStore } from './context.ts'
import type { ModelPolicy } from './policy.ts'

export const MAX_ROWS = 1000
export const MAX_TRANSACTIONS = 256

type Row = Record<string, unknown>

/** The primary keys of the rows one request or transaction created with no owner. */
export class CreatedRows {
  private readonly keys = new Set<string>()
  add(key: string): void {
    if (this.keys.has(key)) return
    if (this.keys.size >= MAX_ROWS) this.keys.delete(this.keys.values().next().value!)
    this.keys.add(key)
  }
  has(key: string): boolean {
    return this.keys.has(key)
  }
  get size(): number {
    return this.keys.size
  }
}

const byRequest = new WeakMap<TenantStore, CreatedRows>()
const byTransaction = new Map<string, CreatedRows>()

/** The key of a row: its model and primary key values (undefined when the row lacks one of them). */
export function rowKey(p: ModelPolicy, row: Row | null | undefined): string | undefined {
  if (!row || p.primaryKey.length === 0) return undefined
  const parts: string[] = [p.name]
  for (const f of p.primaryKey) {
    const v = row[f]
    if (v === undefined || v === null || typeof v === 'object') return undefined
    parts.push(String(v))
  }
  return parts.join('\u0000')
}

/**
 * The memory of the request in `store` (when there is a request), else of the interactive
 * transaction `transactionId`; undefined when there is neither (a lone query outside a request:
 * nothing it creates can be claimed later, so it needs no memory). `create`: make it when missing.
 */
export function createdRowsOf(store: TenantStore | undefined, transactionId: string | undefined, create: boolean): CreatedRows | undefined {
  if (store?.context !== undefined) {
    let m = byRequest.get(store)
    if (m === undefined && create) byRequest.set(store, (m = new CreatedRows()))
    return m
  }
  if (transactionId === undefined) return undefined
  let m = byTransaction.get(transactionId)
  if (m === undefined && create) {
    if (byTransaction.size >= MAX_TRANSACTIONS) byTransaction.delete(byTransaction.keys().next().value!)
    byTransaction.set(transactionId, (m = new CreatedRows()))
  }
  return m
}

/** Remember the rows a create returned (one row, or the list of createManyAndReturn). */
export function rememberCreated(memory: CreatedRows, p: ModelPolicy, result: unknown): void {
  for (const row of Array.isArray(result) ? result : [result]) {
    const key = typeof row === 'object' ? rowKey(p, row as Row) : undefined
    if (key !== undefined) memory.add(key)
  }
}
