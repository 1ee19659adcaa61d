// Every query of the app on a Prisma model (or raw SQL on a client), found by the type of what
// the method is called on, never by a variable's name: `prisma.user`, `tx.user` in a transaction,
// `this.db.user`, `ctx.prisma.user`, a delegate kept in a variable, an extended client. Prisma's
// generated types carry the proof: a model delegate (plain or extended) has a symbol-keyed
// member `{ types: { payload: { name: 'User' }, operations } }`; a client (or a transaction
// client) has one whose `operations` are the raw ones.
import type * as TS from 'typescript'
import { accessedName, Resolver, shortText, skipOuter } from './resolve.ts'
import type { TenantOrigin, TenantScope } from './tenant-origin.ts'

export interface QueryCall {
  readonly node: TS.CallExpression | TS.TaggedTemplateExpression
  /** the Prisma model, undefined for a client-level operation (raw SQL) */
  readonly model: string | undefined
  readonly operation: string
  /** the argument object, when the call passes one */
  readonly args: TS.Expression | undefined
  /** lexically inside withoutTenantEnforcement's callback */
  readonly bypassed: boolean
  /** tenant references of the enclosing runWithTenant calls (TenantOrigin.refKey), with their level */
  readonly scope: TenantScope
  /** the tenant of the innermost enclosing runWithTenant, when it is a literal */
  readonly literalTenant?: string | number
  /** two levels: the literal ids of `runWithTenant({ tenantIds: { organization: 'o1' } }, …)`, by level */
  readonly literalTenants?: Readonly<Record<string, string | number>>
  /** two levels: the `scope` of the enclosing runWithTenant, when it is a string literal (an org-wide context) */
  readonly contextScope?: string
}

export interface UnresolvedCall {
  readonly node: TS.CallExpression
  readonly operation: string
  readonly why: string
}

/** Method names worth asking the type checker about (Prisma's operations, raw ones included). */
const CANDIDATE = /^(find|create|update|delete|upsert|count|aggregate|groupBy|\$queryRaw|\$executeRaw|\$runCommandRaw)/
/** Operations whose call on an `any` receiver is worth a warning (the type that would prove it is missing). */
const WELL_KNOWN = new Set([
  ...['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy'],
  ...['create', 'createMany', 'createManyAndReturn', 'update', 'updateMany', 'updateManyAndReturn', 'upsert', 'delete', 'deleteMany'],
  ...['$queryRaw', '$executeRaw', '$queryRawUnsafe', '$executeRawUnsafe'],
])

export class SiteFinder {
  private readonly ts
  private readonly checker

  constructor(
    private readonly r: Resolver,
    private readonly origin: TenantOrigin,
  ) {
    this.ts = r.ts
    this.checker = r.checker
  }

  find(sf: TS.SourceFile): { calls: QueryCall[]; unresolved: UnresolvedCall[] } {
    const { ts } = this
    const calls: QueryCall[] = []
    const unresolved: UnresolvedCall[] = []
    const visit = (n: TS.Node): void => {
      if (ts.isCallExpression(n) || ts.isTaggedTemplateExpression(n)) {
        const callee = skipOuter(ts, ts.isCallExpression(n) ? n.expression : n.tag)
        const member = ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee) ? callee : undefined
        const name = member && accessedName(ts, member)
        if (member && name !== undefined && CANDIDATE.test(name)) {
          const found = this.classify(member.expression, name)
          if (found === 'untyped') {
            const why = `\`${shortText(member.expression, 40)}\` has type any: the scan cannot tell whether it is a Prisma client`
            if (ts.isCallExpression(n) && WELL_KNOWN.has(name)) unresolved.push({ node: n, operation: name, why })
          } else if (found) {
            const args = ts.isCallExpression(n) ? n.arguments[0] : undefined
            calls.push({ node: n, model: found.model, operation: name, args, ...this.context(n) })
          }
        }
      }
      ts.forEachChild(n, visit)
    }
    visit(sf)
    return { calls, unresolved }
  }

  /** Is `receiver.name(...)` a Prisma operation, and on which model? */
  private classify(receiver: TS.Expression, name: string): { model: string | undefined } | 'untyped' | undefined {
    const { ts, checker } = this
    const raw = checker.getTypeAtLocation(receiver)
    if (raw.flags & ts.TypeFlags.Any) return 'untyped'
    const type = checker.getApparentType(checker.getNonNullableType(raw))
    for (const t of type.isUnion() ? type.types : [type]) {
      const types = this.prismaTypes(t)
      if (!types) continue
      const ops = types.getProperty('operations')
      if (!ops || !checker.getTypeOfSymbol(ops).getProperty(name)) continue
      const payload = types.getProperty('payload')
      const modelName = payload && checker.getTypeOfSymbol(payload).getProperty('name')
      const literal = modelName && checker.getTypeOfSymbol(modelName)
      if (literal?.isStringLiteral()) return { model: literal.value }
      // The client's own operations (`other` in Prisma's TypeMap): raw SQL.
      if (name.startsWith('$')) return { model: undefined }
    }
    return undefined
  }

  /** The `types` of Prisma's symbol-keyed member, if this type has one. */
  private prismaTypes(t: TS.Type): TS.Type | undefined {
    const { ts, checker } = this
    for (const info of checker.getIndexInfosOfType(t)) {
      if (!(info.keyType.flags & ts.TypeFlags.ESSymbol)) continue
      const types = info.type.getProperty('types')
      if (types) return checker.getTypeOfSymbol(types)
    }
    return undefined
  }

  /** What encloses the call: a bypass, runWithTenant calls and the tenants they give. */
  private context(call: TS.Node): Pick<QueryCall, 'bypassed' | 'scope' | 'literalTenant' | 'literalTenants' | 'contextScope'> {
    const { ts } = this
    const scope = new Map<string, string | undefined>()
    let bypassed = false
    let literalTenant: string | number | undefined
    const literalTenants: Record<string, string | number> = {}
    let contextScope: string | undefined
    const literal = (v: TS.Expression | undefined) => (v && ts.isNumericLiteral(v) ? Number(v.text) : v && ts.isStringLiteralLike(v) ? v.text : undefined)
    // Only the innermost runWithTenant is in force (it also starts without a bypass); a
    // withoutTenantEnforcement inside it keeps its tenant.
    for (let n: TS.Node = call; n.parent; n = n.parent) {
      const p = n.parent
      if (!(ts.isArrowFunction(n) || ts.isFunctionExpression(n)) || !ts.isCallExpression(p) || p.arguments[1] !== n) continue
      if (this.origin.isContextCall(p, 'withoutTenantEnforcement')) bypassed = true
      if (!this.origin.isContextCall(p, 'runWithTenant')) continue
      const ctx = p.arguments[0] && skipOuter(ts, p.arguments[0])
      if (ctx && !ts.isObjectLiteralExpression(ctx)) {
        const key = this.origin.refKey(ctx)
        if (key !== undefined) {
          scope.set(`${key}.tenantId`, undefined)
          for (const level of this.origin.levelNames) scope.set(`${key}.tenantIds.${level}`, level)
        }
        break
      }
      const valueOf = (o: TS.ObjectLiteralExpression, name: string): TS.Expression | undefined => {
        const q = o.properties.find((x) => x.name && ts.isIdentifier(x.name) && x.name.text === name)
        return q && ts.isPropertyAssignment(q) ? skipOuter(ts, q.initializer) : q && ts.isShorthandPropertyAssignment(q) ? q.name : undefined
      }
      const value = ctx && valueOf(ctx, 'tenantId')
      literalTenant = literal(value)
      const key = value && this.origin.refKey(value)
      if (key !== undefined) scope.set(key, undefined)
      // Two levels: `tenantIds: { organization: o, project: p }`, each id of its level.
      const ids = ctx && valueOf(ctx, 'tenantIds')
      if (ids && ts.isObjectLiteralExpression(ids)) {
        for (const level of this.origin.levelNames) {
          const v = valueOf(ids, level)
          const k = v && this.origin.refKey(v)
          if (k !== undefined) scope.set(k, level)
          const lit = literal(v)
          if (lit !== undefined) literalTenants[level] = lit
        }
      }
      const s = literal(ctx && valueOf(ctx, 'scope'))
      if (typeof s === 'string') contextScope = s
      break
    }
    // No runWithTenant gives the scope: the innermost enclosing function tagged `@tenantScope <level>`.
    if (contextScope === undefined && this.origin.levelNames.size > 0) {
      for (let n: TS.Node = call; n.parent; n = n.parent) {
        const p = n.parent
        if (ts.isCallExpression(p) && p.arguments[1] === n && this.origin.isContextCall(p, 'runWithTenant')) break
        if (!ts.isFunctionLike(n)) continue
        contextScope = this.origin.scopeTag(n)
        if (contextScope !== undefined) break
      }
    }
    return {
      bypassed,
      scope,
      ...(literalTenant !== undefined ? { literalTenant } : {}),
      ...(Object.keys(literalTenants).length ? { literalTenants } : {}),
      ...(contextScope !== undefined ? { contextScope } : {}),
    }
  }
}
