// rls without Prisma's interactive-transaction machinery, for a query on its own: the driver
// adapter runs it in a transaction of its own on one pooled connection (BEGIN, set_config, the
// query, COMMIT). Prisma's `$transaction` built a client, a transaction record with its timers and
// a second Prisma request for set_config around each query; measured, that was most of what rls
// cost a lone query (docs/performance.md, "Row-level security").
//   - @prisma/adapter-pg: on one connection of its node-postgres pool, BEGIN and set_config in one
//     message, the query, COMMIT, written at once (node-postgres's pipeline mode, switched on for
//     them and off again; the socket corked around them), so the tenant costs no round trip of its
//     own; the query goes through the adapter's own conversions (an object whose prototype is the
//     adapter and whose `client` is that connection);
//   - any other driver adapter: its public interface (startTransaction, then the transaction's
//     executeRaw/queryRaw, COMMIT or ROLLBACK), one statement after another.
//
// How the scope reaches the adapter: the carrier runs the query in an AsyncLocalStorage scope, and
// the wrapped adapter reads it when Prisma calls it. That is exact only for a query Prisma sends
// at once, in the caller's own async chain. Prisma defers the queries it may merge (findUnique and
// findUniqueOrThrow, outside a transaction: its DataLoader batches them across callers and runs the
// batch in the async context of whoever scheduled it first), so those never come here (`DEFERRED`):
// the carrier keeps them in an interactive transaction. Nothing else ever sees the scope: a query
// without it (another client on the same adapter, a query outside any context) goes to the
// adapter unchanged, and every setting is local to the query's own transaction.
//
// Guards (these are Prisma internals): the adapter factory is reached through the client's engine
// (`_engine.config.adapter`) and wrapped before the engine connects; whether the engine's adapter is
// the wrapped one is proven once per carrier by a probe query (SELECT 1) that the wrapper must see.
// Anything else (no factory, an engine connected before the extension, another adapter) and the
// carrier keeps the interactive transaction for every query, as before.
import { AsyncLocalStorage } from 'node:async_hooks'

interface SqlQuery {
  sql: string
  args: unknown[]
  argTypes: unknown[]
}
interface Queryable {
  queryRaw(query: SqlQuery): Promise<unknown>
  executeRaw(query: SqlQuery): Promise<number>
}
interface AdapterTransaction extends Queryable {
  readonly options?: { usePhantomQuery?: boolean }
  commit(): Promise<void>
  rollback(): Promise<void>
}
interface Adapter extends Queryable {
  startTransaction(isolationLevel?: unknown): Promise<AdapterTransaction>
}
interface AdapterFactory {
  connect(): Promise<Adapter>
}

/** What a query carries down to the adapter: the set_config statement of its scope (none: the probe). */
interface Carried {
  setConfig: SqlQuery | undefined
  /** set by the wrapped adapter: it saw this scope */
  seen: boolean
}

const carried = new AsyncLocalStorage<Carried>()
const WRAPPED = Symbol.for('tenantfence.rls.wrappedFactory')

const COMMIT: SqlQuery = { sql: 'COMMIT', args: [], argTypes: [] }
const ROLLBACK: SqlQuery = { sql: 'ROLLBACK', args: [], argTypes: [] }

/** The operations Prisma's DataLoader may defer and merge across callers outside a transaction. */
export const DEFERRED: ReadonlySet<string> = new Set(['findUnique', 'findUniqueOrThrow'])

/** The statement that sets `names` to `values`, local to the transaction, as the adapter takes it. */
export function setConfigQuery(sql: string, names: readonly string[], values: readonly string[]): SqlQuery {
  const args = names.flatMap((name, i) => [name, values[i]])
  return { sql, args, argTypes: args.map(() => ({ scalarType: 'string', arity: 'scalar' })) }
}

/**
 * Wraps the adapter factory of `client`'s engine, if it has one the wrapper understands. Returns
 * false when there is none (the carrier then keeps Prisma's interactive transaction).
 */
export function wrapAdapterFactory(client: unknown): boolean {
  const factory = (client as { _engine?: { config?: { adapter?: unknown } } })._engine?.config?.adapter as (AdapterFactory & { [WRAPPED]?: true }) | undefined
  if (factory === undefined || factory === null || typeof factory.connect !== 'function') return false
  if (factory[WRAPPED]) return true
  const connect = factory.connect
  Object.defineProperty(factory, 'connect', {
    configurable: true,
    writable: true,
    value: async function wrappedConnect(this: AdapterFactory) {
      return wrapAdapter(await connect.call(this))
    },
  })
  Object.defineProperty(factory, WRAPPED, { value: true })
  return true
}

function wrapAdapter(adapter: Adapter): Adapter {
  if (typeof adapter.startTransaction !== 'function' || typeof adapter.queryRaw !== 'function' || typeof adapter.executeRaw !== 'function') return adapter
  // Everything else (provider, getConnectionInfo, executeScript, dispose, …) is the adapter's own.
  const wrapped = Object.create(adapter) as Adapter
  const pool = pgPoolOf(adapter)
  const run = <T>(query: SqlQuery, send: (q: Queryable, query: SqlQuery) => Promise<T>): Promise<T> => {
    const scope = carried.getStore()
    if (scope === undefined) return send(adapter, query)
    scope.seen = true
    if (scope.setConfig === undefined) return send(adapter, query)
    if (pool !== undefined) return inPgTransaction(adapter, pool, scope.setConfig, (q) => send(q, query))
    return inOwnTransaction(adapter, scope.setConfig, (tx) => send(tx, query))
  }
  wrapped.queryRaw = (query) => run(query, (q, s) => q.queryRaw(s))
  wrapped.executeRaw = (query) => run(query, (q, s) => q.executeRaw(s))
  // A transaction Prisma opens for a query on its own (a nested write, say): set in it once.
  wrapped.startTransaction = async (isolationLevel) => {
    const scope = carried.getStore()
    const tx = await adapter.startTransaction(isolationLevel)
    if (scope === undefined) return tx
    scope.seen = true
    if (scope.setConfig === undefined) return tx
    try {
      await tx.executeRaw(scope.setConfig)
    } catch (err) {
      await end(tx, false)
      throw err
    }
    return tx
  }
  return wrapped
}

/** A node-postgres pooled connection, the calls the pipelined path makes (node-postgres 8). */
interface PgConnection {
  query(config: string | { text: string; values: unknown[] }): Promise<unknown>
  release(err?: Error | boolean): void
  getTransactionStatus?(): string | null
  escapeLiteral?(value: string): string
  /** node-postgres ≥ 8.2x: send queued queries without waiting for each answer */
  pipeline?: boolean
  readyForQuery?: boolean
  connection?: { stream?: { cork?(): void; uncork?(): void } }
  on(event: 'error', listener: (err: Error) => void): unknown
  removeListener(event: 'error', listener: (err: Error) => void): unknown
}
interface PgPool {
  connect(): Promise<PgConnection>
}

/**
 * @prisma/adapter-pg's adapter runs its queries through `this.client`, the node-postgres pool.
 * Then the query can be sent on a connection of our own with the adapter's own conversions (an
 * object whose prototype is the adapter and whose `client` is that connection).
 */
function pgPoolOf(adapter: Adapter): PgPool | undefined {
  const self = adapter as Adapter & { client?: unknown; adapterName?: unknown; underlyingDriver?: () => unknown }
  const pool = self.client as Partial<PgPool> | undefined
  if (self.adapterName !== '@prisma/adapter-pg' || typeof pool?.connect !== 'function') return undefined
  if (typeof self.underlyingDriver === 'function' && self.underlyingDriver() !== pool) return undefined
  return pool as PgPool
}

type Settled = PromiseSettledResult<unknown>
const settle = (p: Promise<unknown>): Promise<Settled> => p.then((value) => ({ status: 'fulfilled', value }), (reason: unknown) => ({ status: 'rejected', reason }))

/**
 * One pooled connection: BEGIN and set_config (one simple-protocol message, the values as escaped
 * literals), the query, COMMIT. When the driver can pipeline, the three are written at once, in one
 * write (the socket corked): one round trip, as for the query alone; else one after another. COMMIT
 * is right whatever happened: after a failed statement PostgreSQL answers it with a rollback. A
 * connection that is not idle afterwards (or that reported an error) is destroyed, never returned
 * to the pool with the settings.
 */
async function inPgTransaction<T>(adapter: Adapter, pool: PgPool, setConfig: SqlQuery, send: (q: Queryable) => Promise<T>): Promise<T> {
  const conn = await pool.connect()
  // A connection that fails while checked out emits 'error': the query in flight rejects with it,
  // and an unheard 'error' event would end the process (the pool listens only to idle connections).
  let lost: Error | undefined
  const onError = (err: Error) => void (lost = err)
  conn.on('error', onError)
  // The adapter sends the query through `client.query`: counted, so COMMIT is queued only after it.
  let sent = 0
  const client = Object.create(conn, { query: { value: (...args: Parameters<PgConnection['query']>) => (sent++, conn.query(...args)) } }) as PgConnection
  const on = Object.create(adapter, { client: { value: client } }) as Queryable
  const begin = typeof conn.escapeLiteral === 'function' ? `BEGIN; ${literalSetConfig(setConfig, conn.escapeLiteral.bind(conn))}` : undefined
  const stream = conn.connection?.stream
  const pipelined = conn.pipeline === false && conn.readyForQuery === true && typeof stream?.cork === 'function' && typeof stream.uncork === 'function'
  const results: Settled[] = []
  try {
    if (pipelined) {
      conn.pipeline = true
      const steps: Promise<Settled>[] = []
      stream!.cork!()
      try {
        if (begin !== undefined) steps.push(settle(conn.query(begin)))
        else steps.push(settle(conn.query('BEGIN')), settle(conn.query({ text: setConfig.sql, values: setConfig.args })))
        steps.push(settle(send(on)))
        if (sent === 1) steps.push(settle(conn.query('COMMIT')))
      } finally {
        stream!.uncork!()
      }
      results.push(...(await Promise.all(steps)))
      // the adapter had not sent its query yet when COMMIT would have been queued: now, after it
      if (sent !== 1) results.push(await settle(conn.query('COMMIT')))
    } else {
      results.push(await settle(conn.query(begin ?? 'BEGIN')))
      if (begin === undefined) results.push(await settle(conn.query({ text: setConfig.sql, values: setConfig.args })))
      results.push(await settle(send(on)))
      results.push(await settle(conn.query('COMMIT')))
    }
  } finally {
    if (pipelined) conn.pipeline = false
    conn.removeListener('error', onError)
  }
  const idle = lost === undefined && (typeof conn.getTransactionStatus !== 'function' || conn.getTransactionStatus() === 'I')
  conn.release(idle ? undefined : new Error('tenantfence rls: connection not idle after its transaction'))
  // The first failure is the one to report (after a failed set_config, the query fails too).
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  if (!idle) throw lost ?? new Error('tenantfence rls: the connection was left inside its transaction')
  return (results[begin === undefined ? 2 : 1] as PromiseFulfilledResult<T>).value
}

/** `SELECT set_config('<name>', '<value>', true), …` with every name and value an escaped literal. */
function literalSetConfig(setConfig: SqlQuery, escape: (value: string) => string): string {
  const calls: string[] = []
  for (let i = 0; i < setConfig.args.length; i += 2) calls.push(`set_config(${escape(String(setConfig.args[i]))}, ${escape(String(setConfig.args[i + 1]))}, true)`)
  return `SELECT ${calls.join(', ')}`
}

/** BEGIN, set_config and the query, then COMMIT, or ROLLBACK when anything failed (any driver adapter). */
async function inOwnTransaction<T>(adapter: Adapter, setConfig: SqlQuery, send: (tx: Queryable) => Promise<T>): Promise<T> {
  const tx = await adapter.startTransaction()
  // Both are queued on the transaction's connection at once (the driver sends them in order); a
  // failed set_config aborts the transaction, so the query after it fails too.
  const set = tx.executeRaw(setConfig)
  const result = send(tx)
  let value: T
  try {
    await set
    value = await result
  } catch (err) {
    result.catch(() => {})
    await end(tx, false)
    throw err
  }
  await end(tx, true)
  return value
}

async function end(tx: AdapterTransaction, commit: boolean): Promise<void> {
  if (tx.options?.usePhantomQuery) return commit ? tx.commit() : tx.rollback()
  try {
    await tx.executeRaw(commit ? COMMIT : ROLLBACK)
  } catch (err) {
    // COMMIT failed (a deferred constraint, a lost connection): the transaction is over; release it.
    await tx.rollback().catch(() => {})
    throw err
  }
  await (commit ? tx.commit() : tx.rollback())
}

/** Runs `start` (which must send its query before it returns) with `setConfig` carried to the adapter. */
export function runCarried<T>(setConfig: SqlQuery, start: () => PromiseLike<T>): Promise<T> {
  return carried.run({ setConfig, seen: false }, () => started(start))
}

// `.then` is called inside the scope: a PrismaPromise sends its query only then.
function started<T>(start: () => PromiseLike<T>): Promise<T> {
  const query = start()
  return new Promise<T>((resolve, reject) => void query.then(resolve, reject))
}

/** Did a query run by `start` reach a wrapped adapter? (the probe: it carries no scope) */
export async function reachesWrappedAdapter(start: () => PromiseLike<unknown>): Promise<boolean> {
  const store: Carried = { setConfig: undefined, seen: false }
  await carried.run(store, () => started(start))
  return store.seen
}
