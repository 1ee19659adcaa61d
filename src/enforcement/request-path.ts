// Where the check hooks into Prisma. A `query` extension costs every query of the client about 10 %
// (docs/performance.md, "The hook"): Prisma then deep-clones the arguments, wraps the query in one
// more PrismaPromise, and walks every row of every result looking for result extensions (an
// extended client's extension list is never empty). All of Prisma's query paths (model methods, the
// fluent API, batch and interactive transactions, raw SQL, $queryRawTyped) meet in one internal
// method, `_request(params)`, the very function that runs the query extensions. So tenantfence's
// client is built as Prisma builds an extended client (an object whose prototype is the original
// client, wrapped by Prisma's own `$extends` in its model and client proxies), with two
// differences: its `_request` runs the check first, and its extension list is the parent's, left
// as it was (empty when tenantfence is the first extension: no result walk, no argument clone).
//
// These are Prisma internals (checked on 6.19 and 7.x). `requestPath` checks at start-up that they
// are what this code expects, by a dry run with no database (below); when they are not, or when
// an extension added before tenantfence has a `query` component (tenantfence must check the
// arguments that component hands on, so it must run after it), the caller falls back to a
// `query` extension.
import type { RlsQueryParams } from './rls.ts'

/** Prisma's request parameters (InternalRequestParams), the fields tenantfence reads. */
export interface RequestParams {
  model?: string
  action: string
  clientMethod: string
  args: unknown
  dataPath?: unknown[]
  transaction?: NonNullable<RlsQueryParams['__internalParams']>['transaction']
  callsite?: { _error?: Error }
}

type Request = (this: unknown, params: RequestParams) => Promise<unknown>
type PrismaPromiseFactory = (callback: (transaction?: RequestParams['transaction']) => unknown) => PromiseLike<unknown>
interface ExtensionList {
  append(extension: unknown): unknown
  getAllQueryCallbacks(jsModelName: string, operation: string): unknown[]
  getAllBatchQueryCallbacks?(): unknown[]
}
/** The slice of a Prisma client (as `defineExtension` hands it over) that the request path uses. */
interface InternalClient {
  _originalClient: object & { _request?: Request; $extends?: unknown }
  _extensions: ExtensionList
  _createPrismaPromise: PrismaPromiseFactory
  _runtimeDataModel: { models: Record<string, { fields: readonly { name: string; kind: string; relationName?: string }[] }> }
}

/** What the check is handed for each query: the shape of a `query` extension's parameters. */
export interface CheckParams {
  model?: string
  operation: string
  args: unknown
  query: (args: unknown, internalParams?: unknown) => Promise<unknown>
  __internalParams?: RequestParams
}
export type Check = (params: CheckParams) => Promise<unknown>

export type RequestPath = { kind: 'request'; client: unknown } | { kind: 'query extension'; reason: string; expected: boolean }

// Every operation a model offers a query extension (the probe needs only these names to exist).
const QUERY_OPERATIONS = [
  'findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'create', 'createMany', 'createManyAndReturn',
  'update', 'updateMany', 'updateManyAndReturn', 'upsert', 'delete', 'deleteMany', 'aggregate', 'count', 'groupBy',
  'findRaw', 'aggregateRaw',
]
const TOP_LEVEL_OPERATIONS = ['$queryRaw', '$queryRawUnsafe', '$executeRaw', '$executeRawUnsafe', '$queryRawTyped', '$runCommandRaw']

const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1)

/** Does an extension already on the client have a `query` (or internal batch) component? */
function parentHasQueryHooks(list: ExtensionList, models: readonly string[]): boolean {
  if ((list.getAllBatchQueryCallbacks?.() ?? []).length > 0) return true
  for (const op of TOP_LEVEL_OPERATIONS) if (list.getAllQueryCallbacks('$none', op).length > 0) return true
  for (const m of models) for (const op of QUERY_OPERATIONS) if (list.getAllQueryCallbacks(lowerFirst(m), op).length > 0) return true
  return false
}

/**
 * Builds tenantfence's client on `client` with `check` in its request path, or says why it cannot
 * (the caller then uses a `query` extension). `clientExtension` is the `client` component tenantfence
 * would add (its `$extends` guard): it becomes the new client's own `$extends`. `lazy`: the check's
 * `query` always returns a PrismaPromise (the rls carrier binds it to a transaction).
 */
export function requestPath(client: unknown, check: Check, clientExtension: { $extends: unknown }, options: { lazy: boolean }): RequestPath {
  const c = client as Partial<InternalClient>
  const original = c._originalClient
  const list = c._extensions
  const next = original?._request
  const prismaExtends = original?.$extends
  const models = Object.keys(c._runtimeDataModel?.models ?? {})
  if (typeof next !== 'function' || typeof prismaExtends !== 'function' || typeof c._createPrismaPromise !== 'function' || typeof list?.append !== 'function' || typeof list.getAllQueryCallbacks !== 'function' || models.length === 0) {
    return { kind: 'query extension', reason: 'this Prisma client does not have the internals tenantfence expects (_originalClient._request, _extensions, _createPrismaPromise)', expected: false }
  }
  try {
    if (parentHasQueryHooks(list, models)) return { kind: 'query extension', reason: 'an extension added before tenantfence has a query component: tenantfence checks what it hands on', expected: true }
  } catch {
    return { kind: 'query extension', reason: 'this Prisma client\'s extension list is not what tenantfence expects', expected: false }
  }

  // The check's parameters, as a query extension would get them; `query` runs the rest of Prisma's
  // request path (later query extensions, then the query). Given other arguments or a transaction
  // (the rls carrier), it returns a PrismaPromise that can be bound to a transaction, as Prisma's does.
  // One object per query with `query` on its prototype: no closure is allocated per query.
  const lazy = options.lazy
  class FencedQuery implements CheckParams {
    readonly model: string | undefined
    readonly operation: string
    readonly args: unknown
    readonly __internalParams: RequestParams
    readonly #client: InternalClient
    constructor(client: InternalClient, params: RequestParams) {
      this.model = params.model
      this.operation = params.model ? params.action : params.clientMethod
      this.args = params.args
      this.__internalParams = params
      this.#client = client
    }
    query(args: unknown, internal?: unknown): Promise<unknown> {
      const self = this.#client
      const params = this.__internalParams
      if (!lazy && args === params.args && internal === undefined) return next!.call(self, params)
      const base = (internal ?? params) as RequestParams
      return self._createPrismaPromise((transaction) => next!.call(self, { ...base, args, transaction: transaction ?? base.transaction })) as Promise<unknown>
    }
  }
  function fencedRequest(this: InternalClient, params: RequestParams): Promise<unknown> {
    return check(new FencedQuery(this, params))
  }
  const fencedProto: Record<string, unknown> = Object.create(original!)
  Object.defineProperties(fencedProto, {
    // Clients extended from tenantfence's are built on this object, so they keep the check.
    _originalClient: { value: fencedProto },
    _request: { value: fencedRequest, writable: true },
    $extends: { value: clientExtension.$extends },
  })
  let fenced: InternalClient & Record<string, unknown>
  try {
    // Prisma's own $extends builds the model and client proxies; the list it appends to hands back
    // the parent's list unchanged.
    const parentView = { _originalClient: fencedProto, _extensions: { append: () => list } }
    fenced = (prismaExtends as (this: unknown, e: object) => InternalClient & Record<string, unknown>).call(parentView, {})
    Object.defineProperty(fenced, '_appliedParent', { value: client, configurable: true })
  } catch {
    return { kind: 'query extension', reason: 'Prisma\'s $extends does not build a client the way tenantfence expects', expected: false }
  }
  const failure = dryRun(fenced, fencedProto, c._runtimeDataModel!, models)
  if (failure !== undefined) return { kind: 'query extension', reason: failure, expected: false }
  return { kind: 'request', client: fenced }
}

/**
 * A dry run, with no database: with a recorder in place of `_request`, a model method, a fluent
 * relation call and a raw query of the new client must each reach it once, at once, with the
 * parameters the check reads. Then the fenced request path is put back.
 */
function dryRun(fenced: Record<string, unknown>, proto: Record<string, unknown>, datamodel: InternalClient['_runtimeDataModel'], models: readonly string[]): string | undefined {
  const real = proto._request
  const seen: RequestParams[] = []
  proto._request = (params: RequestParams) => {
    seen.push(params)
    return Promise.resolve(null)
  }
  const ignore = () => {}
  // a function, not `seen.length`: TypeScript would narrow the length across the calls that push
  const count = () => seen.length
  try {
    const model = models[0]!
    const args = { where: {} }
    const delegate = fenced[lowerFirst(model)] as Record<string, (a?: unknown) => PromiseLike<unknown> & Record<string, () => PromiseLike<unknown>>>
    delegate.findMany!(args).then(ignore, ignore)
    const m = seen[0]
    if (count() !== 1 || m?.model !== model || m.action !== 'findMany' || m.args !== args) return 'a model method of the new client does not reach its request path'

    const withRelation = models.find((name) => datamodel.models[name]!.fields.some((f) => f.kind === 'object'))
    if (withRelation !== undefined) {
      const relation = datamodel.models[withRelation]!.fields.find((f) => f.kind === 'object')!.name
      const root = (fenced[lowerFirst(withRelation)] as Record<string, (a: unknown) => Record<string, () => PromiseLike<unknown>>>).findUnique!({ where: {} })
      root[relation]!().then(ignore, ignore)
      const f = seen[1]
      if (count() !== 2 || f?.model !== withRelation || f.action !== 'findUnique' || !Array.isArray(f.dataPath) || f.dataPath.length === 0) return 'the fluent API of the new client does not reach its request path'
    }
    const before = count()
    ;(fenced.$queryRawUnsafe as (sql: string) => PromiseLike<unknown>)('SELECT 1').then(ignore, ignore)
    const r = seen[before]
    if (count() !== before + 1 || r === undefined || r.model !== undefined || r.clientMethod !== '$queryRawUnsafe') return 'a raw query of the new client does not reach its request path'
    return undefined
  } catch (err) {
    return `the dry run of the new client failed (${err instanceof Error ? err.message.slice(0, 200) : 'unknown error'})`
  } finally {
    proto._request = real
  }
}
