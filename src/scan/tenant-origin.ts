// Is this expression the request's tenant? The scan answers yes only when it can follow the value
// to a source that is the request's tenant by construction; anything else is "not traced", with
// why, and the call site is then unverifiable rather than scoped. Sources:
//   - tenantfence's own context: `getTenantContext()?.tenantId` (found by declaration, not by name);
//   - inside `runWithTenant({ tenantId: X }, fn)`: X itself, in fn;
//   - a declaration the app marks with the JSDoc tag `@requestTenant` (a property such as an
//     Express `req.tenantId` set by the app's auth middleware, a variable, or a function returning it).
// The path may run through consts, destructuring, property reads, object literals, the app's own
// functions (every `return` must trace) and `Number()`/`String()`/`BigInt()` (a conversion of
// the request's tenant cannot name another tenant: at worst it names none, which the runtime blocks).
import type * as TS from 'typescript'
import { SINGLE_LEVEL } from '../config/levels.ts'
import { accessedName, NO_BINDINGS, Resolver, shortText, skipOuter, type Env } from './resolve.ts'

/**
 * The request's tenant (with two levels of tenancy: `level`, the level whose id it is, when the source
 * says so), or not: why, and the one change that would let the scan trace it.
 */
export type Origin = { readonly request: true; readonly level?: string } | { readonly request: false; readonly why: string; readonly fix?: string }

/**
 * References to the tenant given to the enclosing runWithTenant calls (refKey → the level whose id it
 * is, undefined for `tenantId`): the same reference inside the callback is the request's tenant.
 */
export type TenantScope = ReadonlyMap<string, string | undefined>

/**
 * What the scan knows of the config's levels: none for a one-level config (every source of the
 * request's tenant is its one tenant), else each level's name and field (upper first).
 */
export interface OriginLevels {
  readonly levels: ReadonlyArray<{ readonly name: string; readonly field: string }>
}
export const ONE_LEVEL: OriginLevels = { levels: [] }

export const REQUEST_TENANT_TAG = 'requestTenant'
/** On a function: the code runs in a context of this scope (`@tenantScope organization`: organisation-wide). */
export const TENANT_SCOPE_TAG = 'tenantScope'
const SCOPE_TAG = new RegExp(`@${TENANT_SCOPE_TAG}[ \\t]+([A-Za-z_]\\w*)`)
const TAG = new RegExp(`@${REQUEST_TENANT_TAG}\\b(?:[ \\t]+([A-Za-z_]\\w*))?`)
const MAX_DEPTH = 12
const REQUEST: Origin = { request: true }
const requestOf = (level: string | undefined): Origin => (level === undefined ? REQUEST : { request: true, level })
const no = (why: string, fix?: string): Origin => ({ request: false, why, ...(fix ? { fix } : {}) })

export const FIX = {
  parameter: (name: string) =>
    `if every caller passes the request's tenant, mark ${name} with @requestTenant (on the parameter, or on the property of its type); else read the tenant from getTenantContext()`,
  let: 'declare it with const (a variable that may be reassigned is not followed)',
  helper: 'let the helper return an object literal (the scan inlines it, a few calls deep), or pin the tenant in the query itself',
  any: "give it a type: a value of type any is not followed (read the tenant from getTenantContext(), or from a property marked @requestTenant)",
  computed: 'pin the tenant with a value the scan can follow: getTenantContext(), a @requestTenant declaration, or a const of one',
  filterParameter: 'build the filter in this function (or in a helper that returns an object literal) with the tenant pinned in it, instead of taking the whole filter as a parameter',
  spread: 'spread an object literal, or a helper that returns one (the scan inlines it)',
} as const

export class TenantOrigin {
  private readonly ts
  private readonly checker
  private readonly contextModules = new WeakMap<TS.SourceFile, boolean>()
  private readonly symbolIds = new WeakMap<TS.Symbol, number>()
  private nextSymbolId = 1

  /** the config's level names (none for a one-level config) */
  readonly levelNames: ReadonlySet<string>

  constructor(
    private readonly r: Resolver,
    private readonly program: TS.Program,
    private readonly config: OriginLevels = ONE_LEVEL,
  ) {
    this.ts = r.ts
    this.checker = r.checker
    this.levelNames = new Set(config.levels.map((l) => l.name))
  }

  /**
   * Where the expression comes from. `scope` holds reference keys (refKey) of the tenant given to
   * the enclosing runWithTenant calls: the same reference inside the callback is the request's tenant.
   */
  trace(expr: TS.Expression, scope: TenantScope, depth = 0, env: Env = NO_BINDINGS): Origin {
    const { ts } = this
    const e = skipOuter(ts, expr)
    if (depth > MAX_DEPTH) return no(`\`${shortText(e)}\` is too far from its source to follow`)
    const key = this.refKey(e)
    if (key !== undefined && scope.has(key)) return requestOf(scope.get(key))
    if (ts.isIdentifier(e)) {
      const decl = this.r.declarationOf(e)
      if (!decl) return no(`\`${e.text}\` has no declaration the scan can see`)
      const tag = this.tagged(decl)
      if (tag) return tag
      const param = this.fromParameter(decl, [], scope, depth, e, env)
      if (param) return param
      const src = this.r.sourceOf(decl)
      if (typeof src === 'string') return no(`\`${e.text}\` is ${src}`, src.includes('reassigned') ? FIX.let : undefined)
      return this.traceProperty(src.init, src.path, scope, depth + 1, e, env)
    }
    if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) {
      const name = accessedName(ts, e)
      if (name === undefined) return no(`\`${shortText(e)}\` reads a computed property`, FIX.computed)
      const prop = this.checker.getSymbolAtLocation(ts.isPropertyAccessExpression(e) ? e.name : e.argumentExpression)
      const tag = this.taggedAny(prop?.declarations)
      if (tag) return tag
      return this.traceProperty(e.expression, [name], scope, depth + 1, e, env)
    }
    if (ts.isCallExpression(e)) {
      const conversion = this.conversionArgument(e)
      if (conversion) return this.trace(conversion, scope, depth + 1, env)
      return this.traceReturn(e, [], scope, depth, e, env)
    }
    return no(`\`${shortText(e)}\` is computed at run time`, FIX.computed)
  }

  /**
   * A parameter, or a name destructured from one: the argument of the helper call being inlined
   * (env), or, for the function the query is in, what its declaration says (`@requestTenant` on
   * the parameter, the destructured name, or the property of the parameter's type).
   */
  private fromParameter(decl: TS.Declaration, path: readonly string[], scope: TenantScope, depth: number, shown: TS.Node, env: Env): Origin | undefined {
    const p = this.r.parameterSource(decl)
    if (!p) return undefined
    const full = [...p.path, ...path]
    const bound = env.get(p.parameter)
    if (bound?.arg) return this.traceProperty(bound.arg, full, scope, depth + 1, shown, bound.env)
    if (bound && p.fallback && path.length === 0) return this.trace(p.fallback, scope, depth + 1, env)
    const tag = full.length === 0 ? this.tagged(p.parameter) : this.typePathTagged(this.checker.getTypeAtLocation(p.parameter), full)
    if (tag) return tag
    const fn = describeFunction(this.ts, p.parameter)
    const owner = full.length && p.parameter.type ? shortText(p.parameter.type, 30) : shortText(p.parameter.name, 30)
    const name = `\`${owner}${full.length ? `.${full.join('.')}` : ''}\``
    const what = p.path.length ? `destructured from a parameter${fn}` : `a parameter${fn}`
    const why = path.length === 0 ? `\`${shortText(shown)}\` is ${what}` : `\`${shortText(shown)}\` comes from \`${shortText(p.parameter.name, 30)}\`, ${what}`
    return no(why, FIX.parameter(name))
  }

  /** Is `type.path[0].path[1]…` declared with @requestTenant? Its origin then. */
  private typePathTagged(type: TS.Type, path: readonly string[]): Origin | undefined {
    let t = type
    for (let i = 0; i < path.length; i++) {
      const prop = this.checker.getNonNullableType(t).getProperty(path[i]!)
      if (!prop) return undefined
      if (i === path.length - 1) return this.taggedAny(prop.declarations)
      t = this.checker.getTypeOfSymbol(prop)
    }
    return undefined
  }

  /** Where `expr.path[0].path[1]…` comes from. */
  private traceProperty(expr: TS.Expression, path: readonly string[], scope: TenantScope, depth: number, shown: TS.Node, env: Env): Origin {
    const { ts } = this
    if (path.length === 0) return this.trace(expr, scope, depth, env)
    const e = skipOuter(ts, expr)
    if (depth > MAX_DEPTH) return no(`\`${shortText(shown)}\` is too far from its source to follow`)
    const key = this.refKey(e)
    const scoped = key === undefined ? undefined : `${key}.${path.join('.')}`
    if (scoped !== undefined && scope.has(scoped)) return requestOf(scope.get(scoped))
    // The type says so: the property is declared with @requestTenant.
    const tag = ts.isObjectLiteralExpression(e) ? undefined : this.typePathTagged(this.r.typeOf(e), path)
    if (tag) return tag
    // tenantfence's Express adapter keeps the request's context on `res.locals.tenant`.
    if (path.length >= 3 && path[0] === 'locals' && path[1] === 'tenant' && this.isExpressResponse(e)) {
      const level = this.contextLevel(path.slice(2))
      if (level !== null) return requestOf(level)
    }
    if (ts.isObjectLiteralExpression(e)) {
      for (let i = e.properties.length - 1; i >= 0; i--) {
        const p = e.properties[i]!
        if (ts.isSpreadAssignment(p)) return no(`\`${shortText(shown)}\` may come from the spread \`${shortText(p)}\``)
        if (!p.name || propertyNameText(ts, p.name) !== path[0]) continue
        if (ts.isPropertyAssignment(p)) return this.traceProperty(p.initializer, path.slice(1), scope, depth + 1, shown, env)
        if (ts.isShorthandPropertyAssignment(p)) return this.traceProperty(p.name, path.slice(1), scope, depth + 1, shown, env)
        return no(`\`${shortText(shown)}\` is a method or accessor`)
      }
      return no(`\`${shortText(shown)}\` reads a property the object does not have`)
    }
    if (ts.isIdentifier(e)) {
      const decl = this.r.declarationOf(e)
      if (!decl) return no(`\`${e.text}\` has no declaration the scan can see`)
      const param = this.fromParameter(decl, path, scope, depth, shown, env)
      if (param) return param
      const src = this.r.sourceOf(decl)
      if (typeof src === 'string') return no(`\`${shortText(shown)}\` comes from \`${e.text}\`, ${src}`, src.includes('reassigned') ? FIX.let : undefined)
      return this.traceProperty(src.init, [...src.path, ...path], scope, depth + 1, shown, env)
    }
    if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) {
      const name = accessedName(ts, e)
      if (name === undefined) return no(`\`${shortText(e)}\` reads a computed property`, FIX.computed)
      return this.traceProperty(e.expression, [name, ...path], scope, depth + 1, shown, env)
    }
    if (ts.isCallExpression(e)) {
      const level = this.contextLevel(path)
      if (level !== null && this.isContextCall(e, 'getTenantContext')) return requestOf(level)
      return this.traceReturn(e, path, scope, depth, shown, env)
    }
    return no(`\`${shortText(shown)}\` is computed at run time`, FIX.computed)
  }

  /** A call: the declaration says so (@requestTenant on the function), or every value it returns traces. */
  private traceReturn(call: TS.CallExpression, path: readonly string[], scope: TenantScope, depth: number, shown: TS.Node, env: Env): Origin {
    const decl = this.r.declarationOf(this.ts.isPropertyAccessExpression(call.expression) ? call.expression.name : call.expression)
    const tag = path.length === 0 && decl ? this.tagged(decl) : undefined
    if (tag) return tag
    const fn = this.r.calledFunction(call)
    if (!fn) return no(`\`${shortText(shown)}\` comes from \`${shortText(call.expression)}()\`, whose body the scan cannot see`, FIX.computed)
    const returned = this.r.returnedExpressions(fn)
    if (!returned) return no(`\`${shortText(call.expression)}()\` does not always return a value`, FIX.computed)
    // Inside the function, its parameters are this call's arguments.
    const inner = this.r.bind(fn, call, env)
    const levels = new Set<string | undefined>()
    for (const r of returned) {
      const o = this.traceProperty(r, path, scope, depth + 1, shown, inner)
      if (!o.request) return o
      levels.add(o.level)
    }
    // Returns that name different levels (or one that names none) name none: its level is unknown.
    return requestOf(levels.size === 1 ? [...levels][0] : undefined)
  }

  /**
   * A path into tenantfence's context: `tenantId` (the request's tenant, no level named) or
   * `tenantIds.<level>` of a level the config has; null for anything else.
   */
  private contextLevel(path: readonly string[]): string | undefined | null {
    if (path.length === 1 && path[0] === 'tenantId') return undefined
    if (path.length !== 2 || path[0] !== 'tenantIds') return null
    if (this.levelNames.has(path[1]!)) return path[1]!
    // A one-level config reads `tenantId ?? tenantIds.tenant` (its one level is named 'tenant').
    return this.levelNames.size === 0 && path[1] === SINGLE_LEVEL ? undefined : null
  }

  /** An Express response (typed by @types/express), whose `locals.tenant` tenantfence's middleware sets. */
  private isExpressResponse(e: TS.Expression): boolean {
    const sym = this.checker.getNonNullableType(this.r.typeOf(e)).getSymbol()
    if (sym?.name !== 'Response') return false
    return (sym.declarations ?? []).some((d) => /[\\/]@types[\\/]express(-serve-static-core)?[\\/]/.test(d.getSourceFile().fileName))
  }

  /** `Number(x)`, `String(x)`, `BigInt(x)` of the standard library: x. */
  private conversionArgument(call: TS.CallExpression): TS.Expression | undefined {
    const { ts } = this
    if (!ts.isIdentifier(call.expression) || call.arguments.length !== 1) return undefined
    if (!['Number', 'String', 'BigInt'].includes(call.expression.text)) return undefined
    const decl = this.r.declarationOf(call.expression)
    return decl && this.program.isSourceFileDefaultLibrary(decl.getSourceFile()) ? call.arguments[0] : undefined
  }

  /** Is this a call of tenantfence's own context function `name` (by its declaration, wherever it was imported from)? */
  isContextCall(call: TS.CallExpression, name: 'getTenantContext' | 'runWithTenant' | 'withoutTenantEnforcement'): boolean {
    const { ts } = this
    const callee = skipOuter(ts, call.expression)
    const id = ts.isIdentifier(callee) ? callee : ts.isPropertyAccessExpression(callee) ? callee.name : undefined
    if (!id || id.text !== name) return false
    const decl = this.r.declarationOf(id)
    if (!decl || !ts.isFunctionDeclaration(decl) || decl.name?.text !== name) return false
    return this.isContextModule(decl.getSourceFile())
  }

  /** tenantfence's context module: it declares runWithTenant, withoutTenantEnforcement and getTenantContext together. */
  private isContextModule(sf: TS.SourceFile): boolean {
    let known = this.contextModules.get(sf)
    if (known === undefined) {
      const names = new Set(sf.statements.filter(this.ts.isFunctionDeclaration).map((f) => f.name?.text))
      known = names.has('runWithTenant') && names.has('withoutTenantEnforcement') && names.has('getTenantContext')
      this.contextModules.set(sf, known)
    }
    return known
  }

  /**
   * `@tenantScope <level>` on this function (or on the declaration that holds it: a variable, a
   * property, a method): the scope the app runs it in. Only a level name of the config counts.
   */
  scopeTag(fn: TS.Node): string | undefined {
    const { ts } = this
    let holder: TS.Node = fn
    if (ts.isVariableDeclaration(fn.parent) && ts.isVariableDeclarationList(fn.parent.parent)) holder = fn.parent.parent.parent
    else if (ts.isPropertyAssignment(fn.parent)) holder = fn.parent
    const sf = holder.getSourceFile()
    const m = SCOPE_TAG.exec(sf.text.slice(holder.getFullStart(), holder.getStart(sf)))
    return m && this.levelNames.has(m[1]!) ? m[1] : undefined
  }

  /** The first of these declarations tagged @requestTenant: its origin. */
  private taggedAny(decls: readonly TS.Declaration[] | undefined): Origin | undefined {
    for (const d of decls ?? []) {
      const tag = this.tagged(d)
      if (tag) return tag
    }
    return undefined
  }

  /**
   * Is the declaration tagged @requestTenant, and of which level? Read from the comment text: the
   * program skips parsing JSDoc in TypeScript files (it is most of the parse time). With two levels
   * the tag names its level (`@requestTenant project`); a bare tag is the level whose field the
   * declaration is named for (`projectId`), else of no known level (judged as not traced).
   */
  private tagged(decl: TS.Node): Origin | undefined {
    const { ts } = this
    const holder = ts.isVariableDeclaration(decl) && ts.isVariableDeclarationList(decl.parent) ? decl.parent.parent : decl
    // The trivia before the declaration holds only whitespace and comments; it includes a comment on
    // the same line (`f(a, /** @requestTenant */ t)`), which getLeadingCommentRanges leaves out.
    const sf = holder.getSourceFile()
    const m = TAG.exec(sf.text.slice(holder.getFullStart(), holder.getStart(sf)))
    if (!m) return undefined
    if (this.levelNames.size === 0) return REQUEST
    const word = m[1]
    if (word !== undefined && this.levelNames.has(word)) return requestOf(word)
    const name = 'name' in decl && decl.name && ts.isIdentifier(decl.name as TS.Node) ? (decl.name as TS.Identifier).text : undefined
    return requestOf(this.config.levels.find((l) => l.field === name)?.name)
  }

  /**
   * A key naming the same reference wherever it is written: `t`, `job.tenantId` (by the root's
   * symbol), for a const or a parameter only (a value that may be reassigned is not the same one later).
   */
  refKey(expr: TS.Expression): string | undefined {
    const { ts } = this
    const e = skipOuter(ts, expr)
    if (ts.isIdentifier(e)) {
      const sym = this.r.symbolOf(e)
      const decl = sym?.valueDeclaration ?? sym?.declarations?.[0]
      if (!sym || !decl) return undefined
      const constant = (ts.isVariableDeclaration(decl) || ts.isBindingElement(decl)) && typeof this.r.sourceOf(decl) !== 'string'
      if (!ts.isParameter(decl) && !constant) return undefined
      let id = this.symbolIds.get(sym)
      if (id === undefined) this.symbolIds.set(sym, (id = this.nextSymbolId++))
      return `#${id}`
    }
    if (ts.isPropertyAccessExpression(e)) {
      const base = this.refKey(e.expression)
      return base === undefined ? undefined : `${base}.${e.name.text}`
    }
    return undefined
  }
}

/** ` of getLinks`, or '' for an anonymous function. */
function describeFunction(ts: typeof TS, p: TS.ParameterDeclaration): string {
  const fn = p.parent
  const name = fn && 'name' in fn && fn.name && ts.isIdentifier(fn.name as TS.Node) ? (fn.name as TS.Identifier).text : undefined
  return name ? ` of ${name}` : ''
}

export function propertyNameText(ts: typeof TS, name: TS.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isPrivateIdentifier(name)) return name.text
  if (ts.isComputedPropertyName(name) && ts.isStringLiteralLike(name.expression)) return name.expression.text
  return undefined
}
