// The extension's `rls` option: every query carries the request's tenant (and a granted bypass's
// reason) into the transaction it runs in, as `set_config(<setting>, <value>, true)`, so the
// row-level security policies `generate` writes see them. `true` makes the settings local to that
// transaction: a pooled connection never hands them to the next request.
//
// Where the query runs decides how (Prisma 7 internals, checked by test/rls-extension.test.ts):
//   - on its own: the driver adapter runs it in a transaction of its own, set_config first
//     (rls-adapter.ts), when the client's adapter could be wrapped and the query is one Prisma
//     sends at once. Otherwise (findUnique/findUniqueOrThrow, which Prisma may merge across callers;
//     an adapter the wrapper does not reach) an interactive transaction that runs set_config, then
//     the query (bound to it through requestTransaction). Prisma's own row-level-security example
//     uses a batch transaction [set_config, query] instead; measured here, that costs a third more,
//     because Prisma compiles a batch holding raw SQL without its query-plan cache;
//   - in an interactive transaction ($transaction(async tx => …)): set_config in that transaction
//     (the raw query joins it through the PrismaPromise's requestTransaction) before its first
//     query, and again only when the scope changes (a bypass inside, a nested transaction);
//   - in a batch transaction ($transaction([…])): set_config joins the same batch, sorted first
//     (index -1), released together with the batch's own queries. Prisma sends a batch only once
//     each of its queries has waited on the batch's lock; the set_config waits on a gate that
//     opens when the lock opens for the query that brought it, so all reach Prisma's request
//     loader in the same turn and run in one transaction, set_config first.
import { DEFERRED, reachesWrappedAdapter, runCarried, setConfigQuery, wrapAdapterFactory } from './rls-adapter.ts'

/**
 * What the transaction is told: one value per setting of the carrier, in the same order (the
 * request's tenant of each level, '' for none) and a granted bypass's reason ('' for none).
 */
export interface RlsScope {
  tenants: readonly string[]
  bypassReason: string
}

/** The settings a carrier sets: one per tenant value of the scope, then the bypass reason's. */
export interface RlsSettings {
  settings: readonly string[]
  bypassSetting: string
  /**
   * Told once when queries on their own cannot take the one-round-trip path (no driver adapter to
   * wrap, or a probe query never reached the wrapped one: the engine connected before $extends) and
   * go through a Prisma interactive transaction instead: correct, and slower.
   */
  onSlowPath?: (reason: string) => void
}

interface Lock {
  then(onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown): unknown
}
type Transaction = { kind: 'itx'; id: string } | { kind: 'batch'; id: number; index: number; lock: Lock }

/** The PrismaPromise of a raw query: a promise that can also be bound to a transaction. */
interface RawPromise extends PromiseLike<unknown> {
  requestTransaction?(transaction: Transaction): PromiseLike<unknown>
}

/** An interactive transaction's client: Prisma binds its promise factory to the transaction. */
interface TransactionClient {
  _createPrismaPromise?(callback: (transaction: Transaction) => Promise<Transaction>): PromiseLike<Transaction>
}

/** The slice of the client the carrier uses: raw SQL and interactive transactions, without the extension. */
export interface RlsClient {
  $executeRawUnsafe(sql: string, ...values: unknown[]): RawPromise
  $transaction<T>(fn: (tx: TransactionClient) => Promise<T>): Promise<T>
}

/** The slice of the query hook's parameters the carrier uses (Prisma's `$allOperations` params). */
export interface RlsQueryParams {
  /** the model operation or raw method: decides whether Prisma may defer and merge the query */
  operation?: string
  args: unknown
  query(args: unknown, internalParams?: unknown): RawPromise
  __internalParams?: { transaction?: Transaction }
}

export class RlsError extends Error {
  readonly code = 'TENANT_RLS_ERROR'
  constructor(message: string) {
    super(`tenantfence rls: ${message}`)
    this.name = 'RlsError'
  }
}

/** Interactive transactions whose scope is remembered at most (open at once, in practice). */
const MAX_REMEMBERED = 10_000

/** Refuse the option where row-level security does not exist. */
export function assertRlsProvider(provider: string | undefined): void {
  if (provider !== 'postgresql' && provider !== 'postgres') {
    throw new RlsError(`rls: true needs PostgreSQL (row-level security is a PostgreSQL feature); this client's provider is "${provider ?? 'unknown'}". Remove the rls option, or use a PostgreSQL client.`)
  }
}

export type RlsCarrier = (params: RlsQueryParams, scope: RlsScope) => Promise<unknown>

/**
 * A function that runs a query (from the extension's query hook) with the scope set for its
 * transaction. `client` is the client the extension extends: its raw queries do not pass
 * through the extension.
 */
export function createRlsCarrier(client: RlsClient, { settings, bypassSetting, onSlowPath }: RlsSettings): RlsCarrier {
  if (settings.length === 0) throw new RlsError('no tenant setting to carry: pass at least one (config.rls.setting)')
  const names = [...settings, bypassSetting]
  // One statement sets them all: set_config($1, $2, true), set_config($3, $4, true), …
  const sql = `SELECT ${names.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ')}`
  const valuesOf = (scope: RlsScope) => {
    if (scope.tenants.length !== settings.length) throw new RlsError(`the scope has ${scope.tenants.length} tenant value(s) for ${settings.length} setting(s) (${settings.join(', ')})`)
    return [...scope.tenants, scope.bypassReason]
  }
  const setConfig = (scope: RlsScope) => {
    const values = valuesOf(scope)
    return client.$executeRawUnsafe(sql, ...names.flatMap((name, i) => [name, values[i]]))
  }
  // A query on its own goes through the wrapped driver adapter once a probe has shown that this
  // client's engine uses it (undefined: not known yet; the probe runs with the first such query).
  const wrapped = wrapAdapterFactory(client)
  let direct: boolean | undefined = wrapped ? undefined : false
  const slow = (reason: string) => {
    try {
      onSlowPath?.(reason)
    } catch {} // a logger that throws never fails a query
  }
  if (!wrapped) slow('this client has no driver adapter tenantfence can wrap')
  let probing: Promise<boolean> | undefined
  const probe = (): Promise<boolean> => (probing ??= reachesWrappedAdapter(() => client.$executeRawUnsafe('SELECT 1')).then(
    (seen) => {
      if (!seen) slow('the client\'s engine connected before tenantEnforcement was applied (extend the client before its first query)')
      return (direct = seen)
    },
    () => ((probing = undefined), false),
  ))
  // One set_config per batch transaction, keyed by the lock its queries share.
  const batches = new WeakMap<Lock, string>()
  // The scope last sent in each open interactive transaction, by its id (a finished transaction's
  // entry is never looked up again; the map is emptied when it grows: a lost entry costs one resend).
  const interactive = new Map<string, { transaction: object; key: string }>()

  // The common case inside an interactive transaction, the scope already sent, returns the query's
  // own promise: no async step of the carrier's (measured: a few per cent of a query).
  return function carry(params: RlsQueryParams, scope: RlsScope): Promise<unknown> {
    const transaction = params.__internalParams?.transaction
    if (transaction?.kind === 'itx') {
      const sent = interactive.get(transaction.id)
      if (sent !== undefined && sent.transaction === transaction && sent.key === scopeKey(scope)) return params.query(params.args) as Promise<unknown>
    }
    return carrySlow(params, scope)
  }

  async function carrySlow(params: RlsQueryParams, scope: RlsScope): Promise<unknown> {
    const transaction = params.__internalParams?.transaction
    if (transaction === undefined) {
      if (direct !== false && params.operation !== undefined && !DEFERRED.has(params.operation) && (direct ?? (await probe()))) {
        return runCarried(setConfigQuery(sql, names, valuesOf(scope)), () => params.query(params.args))
      }
      return client.$transaction(async (tx) => {
        // The transaction this client is bound to: its promise factory hands it to the callback.
        if (typeof tx._createPrismaPromise !== 'function') throw new RlsError('this Prisma version hides the interactive transaction: the tenant cannot join it')
        const own = await tx._createPrismaPromise(async (t) => t)
        await bind(setConfig(scope), own)
        // Given its request parameters, `query` hands back a PrismaPromise, which can be bound.
        return bind(params.query(params.args, params.__internalParams), own)
      })
    }
    if (transaction.kind === 'itx') {
      // Once per transaction, again only when the scope changes (a bypass inside, say). The cache
      // holds the transaction object too: a nested transaction (a savepoint) shares its parent's id
      // with an object of its own, and whatever it set may be rolled back or released with it, so
      // a switch between the two always sends the scope again.
      const key = scopeKey(scope)
      const sent = interactive.get(transaction.id)
      if (sent === undefined || sent.transaction !== transaction || sent.key !== key) {
        // Forgotten before the statement runs: if it fails, the next query sends it again.
        interactive.delete(transaction.id)
        await bind(setConfig(scope), transaction)
        if (interactive.size >= MAX_REMEMBERED) interactive.clear()
        interactive.set(transaction.id, { transaction, key })
      }
      return params.query(params.args)
    }
    const key = scopeKey(scope)
    const seen = batches.get(transaction.lock)
    if (seen !== undefined) {
      if (seen !== key) throw new RlsError('the queries of one batch transaction run with different tenants or bypasses; run them in separate transactions')
      return params.query(params.args)
    }
    batches.set(transaction.lock, key)
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    const done = bind(setConfig(scope), { ...transaction, index: -1, lock: gate })
    // This query's own wait on the batch lock opens the gate: when the lock opens, not before
    // (Prisma's lock answers each waiter at once with a promise of its opening).
    const lock: Lock = { then: (onFulfilled, onRejected) => Promise.resolve(transaction.lock).then(() => open()).then(onFulfilled, onRejected) }
    const result = params.query(params.args, { ...params.__internalParams, transaction: { ...transaction, lock } })
    // A failed set_config fails the batch (Prisma would resolve the queries after it with nothing).
    const [, value] = await Promise.all([done, result])
    return value
  }
}

function scopeKey(scope: RlsScope): string {
  return `${scope.tenants.join('\u0000')}\u0000${scope.bypassReason}`
}

function bind(raw: RawPromise, transaction: Transaction): PromiseLike<unknown> {
  if (typeof raw.requestTransaction !== 'function') throw new RlsError('this Prisma version has no PrismaPromise.requestTransaction: the tenant cannot join the transaction')
  return raw.requestTransaction(transaction)
}
