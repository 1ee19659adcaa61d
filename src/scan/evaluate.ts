// A query's argument as the scan can see it: literals as values, objects and arrays as trees, and
// every expression it cannot evaluate as an Unknown that keeps its node, its type class and why.
// Unknowns are replaced by chosen values only when the argument is judged (verdict.ts).
import type * as TS from 'typescript'
import { accessedName, isConst, isTypeWrapper, NO_BINDINGS, Resolver, shortText, skipOuter, type Env } from './resolve.ts'
import type { TypeScript } from './typescript.ts'
import { FIX, propertyNameText, TenantOrigin, type Origin, type TenantScope } from './tenant-origin.ts'

export class SymObject {
  readonly props = new Map<string, Sym>()
  /** spreads and computed keys the scan cannot see: any key may hide in them */
  readonly hidden: Unknown[] = []
  /**
   * Keys a conditional spread may set (`...(cond && { id: { in: ids } })`): present or not, the
   * verdict holds for both (verdict.ts judges the argument with and without them).
   */
  readonly optional = new Map<string, Sym>()
}

export class SymArray {
  readonly items: Sym[] = []
  readonly hidden: Unknown[] = []
  /** items a conditional spread may add (`...(cond ? [a] : [])`) */
  readonly optional: Sym[] = []
}

export interface ScalarInfo {
  /** may be null or undefined (by its type) */
  readonly nullable: boolean
  /** may be a number, string or bigint: a value that could name a tenant */
  readonly tenantLike: boolean
  readonly valueType: 'number' | 'string' | 'bigint'
  /** a stand-in for a value that cannot name a tenant (a boolean, a Date) */
  readonly neutral: unknown
}

export class Unknown {
  private whyText: string | (() => string)
  private originValue: Origin | undefined | (() => Origin | undefined)
  private fixText: string | undefined | (() => string | undefined)

  constructor(
    readonly node: TS.Node,
    /** scalar: a primitive (or Date) of a known type class; structure: an object, an array, or `any` */
    readonly kind: 'scalar' | 'structure',
    /** why it is unknown; a function when the text costs a type printout (most unknowns are never shown) */
    why: string | (() => string),
    readonly scalar: ScalarInfo | undefined,
    /**
     * where a tenant-like value comes from (scalars and `any`); a function when it costs a trace (an
     * unknown inside an inlined helper is often replaced where it is used, and never asked)
     */
    origin: Origin | undefined | (() => Origin | undefined),
    /** the one change that would let the scan see it */
    fix?: string | (() => string | undefined),
    /** a computed key whose type is a union of string literals (`[sortBy]: 'asc'`): the keys it can be */
    readonly keys?: readonly string[],
  ) {
    this.whyText = why
    this.originValue = origin
    this.fixText = fix
  }

  get why(): string {
    if (typeof this.whyText === 'function') this.whyText = this.whyText()
    return this.whyText
  }

  get origin(): Origin | undefined {
    if (typeof this.originValue === 'function') this.originValue = this.originValue()
    return this.originValue
  }

  get fix(): string | undefined {
    if (typeof this.fixText === 'function') this.fixText = this.fixText()
    return this.fixText
  }

  get text(): string {
    return shortText(this.node)
  }
}

export type Sym = null | undefined | boolean | number | string | bigint | Date | SymObject | SymArray | Unknown

const MAX_DEPTH = 16
/** Helper calls inlined into one another, at most (a reader follows a few, not a call graph). */
const MAX_INLINE = 3

/** What evaluation carries: the runWithTenant references around the query, the bindings of inlined helpers, how many. */
interface Ctx {
  readonly scope: TenantScope
  readonly env: Env
  readonly inlined: number
}

const MUTATORS = new Set(['push', 'unshift', 'splice', 'pop', 'shift', 'fill', 'sort', 'reverse'])

/** `cond && x` → [x]; `cond ? a : b` → [a, b]; `a ?? b`, `a || b` → [a, b]; anything else: not conditional. */
function conditionalBranches(ts: TypeScript, expr: TS.Expression): TS.Expression[] | undefined {
  const e = skipOuter(ts, expr)
  if (ts.isConditionalExpression(e)) return [e.whenTrue, e.whenFalse]
  if (!ts.isBinaryExpression(e)) return undefined
  const op = e.operatorToken.kind
  if (op === ts.SyntaxKind.AmpersandAmpersandToken) return [e.right]
  if (op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken) return [e.left, e.right]
  return undefined
}

/** A value a spread adds nothing for (`...(cond && x)` when cond is false). */
function isFalsy(v: Sym): boolean {
  return v === undefined || v === null || v === false || v === '' || v === 0
}

/** A tenant id read through `any`: present unless read with `?.`. */
const ANY_TENANT = (ts: TypeScript, e: TS.Expression): ScalarInfo => ({
  nullable: ts.isOptionalChain(e),
  tenantLike: true,
  valueType: 'number',
  neutral: true,
})

export class Evaluator {
  private readonly ts
  private readonly checker
  /** per function or block, per name ('' for any): does it change an object after building it */
  private readonly mutating = new WeakMap<TS.Node, Map<string, boolean>>()

  constructor(
    private readonly r: Resolver,
    private readonly origin: TenantOrigin,
    private readonly program: TS.Program,
  ) {
    this.ts = r.ts
    this.checker = r.checker
  }

  /** `scope`: the runWithTenant tenant references around the call (see TenantOrigin.trace). */
  evaluate(expr: TS.Expression, scope: TenantScope): Sym {
    return this.value(expr, { scope, env: NO_BINDINGS, inlined: 0 }, 0)
  }

  private value(expr: TS.Expression, c: Ctx, depth: number): Sym {
    const { ts } = this
    let e: TS.Expression = expr
    while (isTypeWrapper(ts, e)) e = e.expression
    if (depth > MAX_DEPTH) return this.unknown(e, c, `\`${shortText(e)}\` is too far from its source to follow`)
    if (ts.isNumericLiteral(e)) return Number(e.text)
    if (ts.isBigIntLiteral(e)) return BigInt(e.text.slice(0, -1))
    if (ts.isStringLiteralLike(e)) return e.text
    if (e.kind === ts.SyntaxKind.TrueKeyword) return true
    if (e.kind === ts.SyntaxKind.FalseKeyword) return false
    if (e.kind === ts.SyntaxKind.NullKeyword) return null
    if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(e.operand)) return -Number(e.operand.text)
    if (ts.isObjectLiteralExpression(e)) return this.object(e, c, depth)
    if (ts.isArrayLiteralExpression(e)) return this.array(e, c, depth)
    if (ts.isIdentifier(e)) return this.identifier(e, c, depth)
    if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) {
      const key = accessedName(ts, e)
      if (key !== undefined) {
        const base = this.value(e.expression, c, depth + 1)
        if (base instanceof SymObject && base.props.has(key) && base.hidden.length === 0 && !base.optional.has(key)) return base.props.get(key)
        if (base instanceof SymArray && /^\d+$/.test(key) && base.hidden.length === 0 && base.optional.length === 0) return base.items[Number(key)]
      }
      return this.unknown(e, c)
    }
    if (ts.isCallExpression(e)) {
      const inlined = this.inline(e, c, depth) ?? this.mapped(e, c, depth)
      if (inlined !== undefined) return inlined
    }
    if (ts.isNewExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'Date' && this.fromLibrary(e.expression)) return new Date(0)
    if (ts.isSpreadElement(e)) return this.structure(e, `the arguments are the spread \`${shortText(e)}\``)
    return this.unknown(e, c)
  }

  /**
   * A helper that builds an object (`buildTeamWhereQuery({ teamId, userId })`): its one returned
   * object or array literal, read with its parameters bound to this call's arguments. Not a helper
   * that returns on several paths, is async, or changes objects after building them.
   */
  private inline(call: TS.CallExpression, c: Ctx, depth: number): SymObject | SymArray | undefined {
    if (c.inlined >= MAX_INLINE) return undefined
    const fn = this.r.calledFunction(call)
    if (!fn || this.ts.getCombinedModifierFlags(fn as TS.Declaration) & this.ts.ModifierFlags.Async) return undefined
    // A method a subclass may override is not the body that runs: only private and static ones.
    const sealed = this.ts.ModifierFlags.Private | this.ts.ModifierFlags.Static
    if (this.ts.isMethodDeclaration(fn) && !(this.ts.getCombinedModifierFlags(fn) & sealed) && !this.ts.isPrivateIdentifier(fn.name)) return undefined
    const returned = this.r.returnedExpressions(fn)
    if (returned?.length !== 1 || this.mutates(fn)) return undefined
    const v = this.value(returned[0]!, { scope: c.scope, env: this.r.bind(fn, call, c.env), inlined: c.inlined + 1 }, depth + 1)
    return v instanceof SymObject || v instanceof SymArray ? v : undefined
  }

  /**
   * Does this function (or block) change an object after building it (`where.OR = …`, `delete`,
   * `Object.assign`, `.push`)? Only what `name` holds, when given.
   */
  private mutates(node: TS.Node, name = ''): boolean {
    let known = this.mutating.get(node)
    if (!known) this.mutating.set(node, (known = new Map()))
    const cached = known.get(name)
    if (cached !== undefined) return cached
    const { ts } = this
    const rootName = (x: TS.Expression): string | undefined => {
      let r = x
      while (ts.isPropertyAccessExpression(r) || ts.isElementAccessExpression(r) || isTypeWrapper(ts, r)) r = r.expression
      return ts.isIdentifier(r) ? r.text : undefined
    }
    const hits = (target: TS.Expression) => {
      const t = skipOuter(ts, target)
      if (!(ts.isPropertyAccessExpression(t) || ts.isElementAccessExpression(t))) return false
      const root = rootName(t)
      return root !== undefined && (name === '' || root === name)
    }
    let found = false
    const visit = (n: TS.Node): void => {
      if (found) return
      if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment && hits(n.left)) found = true
      else if (ts.isDeleteExpression(n) && hits(n.expression)) found = true
      else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression)) {
        const m = n.expression
        const target = m.name.text === 'assign' && rootName(m.expression) === 'Object' ? n.arguments[0] : MUTATORS.has(m.name.text) ? m.expression : undefined
        const root = target && rootName(target)
        if (root !== undefined && root !== 'Object' && (name === '' || root === name)) found = true
      }
      if (!found) ts.forEachChild(n, visit)
    }
    ts.forEachChild(node, visit)
    known.set(name, found)
    return found
  }

  private object(e: TS.ObjectLiteralExpression, c: Ctx, depth: number): SymObject {
    const { ts } = this
    const out = new SymObject()
    // A conditional key may only add to what is there: one that replaces a key set before it (by the
    // literal or another conditional spread) has a value that depends on the condition, and the two
    // readings (with and without conditional keys) would not cover every combination.
    const addOptional = (p: TS.Node, k: string, val: Sym) => {
      if (out.props.has(k) || out.optional.has(k)) out.hidden.push(this.structure(p, `\`${k}\` is set again by a conditional spread: its value depends on the condition`))
      else out.optional.set(k, val)
    }
    const merge = (p: TS.Node, v: SymObject, optional: boolean) => {
      for (const [k, val] of v.props) {
        if (optional) addOptional(p, k, val)
        else {
          out.props.set(k, val)
          out.optional.delete(k)
        }
      }
      for (const [k, val] of v.optional) addOptional(p, k, val)
      out.hidden.push(...v.hidden)
    }
    for (const p of e.properties) {
      if (ts.isPropertyAssignment(p)) {
        const key = propertyNameText(ts, p.name)
        if (key === undefined) out.hidden.push(this.computedKey(p))
        else {
          out.props.set(key, this.value(p.initializer, c, depth + 1))
          out.optional.delete(key)
        }
      } else if (ts.isShorthandPropertyAssignment(p)) {
        out.props.set(p.name.text, this.value(p.name, c, depth + 1))
        out.optional.delete(p.name.text)
      } else if (ts.isSpreadAssignment(p)) {
        const branches = conditionalBranches(ts, p.expression) ?? this.letValues(p.expression)
        for (const b of branches ?? [p.expression]) {
          const v = this.value(b, c, depth + 1)
          if (v instanceof SymObject) merge(p, v, branches !== undefined)
          else if (v !== undefined && v !== null && !(branches && isFalsy(v))) {
            out.hidden.push(this.structure(p, () => `the spread \`${shortText(p)}\` (${this.typeText(p.expression)}) cannot be seen`, FIX.spread))
          }
        }
      } else {
        out.hidden.push(this.structure(p, `a method or accessor \`${shortText(p, 40)}\``))
      }
    }
    return out
  }

  private array(e: TS.ArrayLiteralExpression, c: Ctx, depth: number): SymArray {
    const { ts } = this
    const out = new SymArray()
    for (const el of e.elements) {
      if (ts.isSpreadElement(el)) {
        const branches = conditionalBranches(ts, el.expression)
        for (const b of branches ?? [el.expression]) {
          const v = this.value(b, c, depth + 1)
          if (v instanceof SymArray) {
            ;(branches ? out.optional : out.items).push(...v.items)
            out.optional.push(...v.optional)
            out.hidden.push(...v.hidden)
          } else if (!(branches && isFalsy(v))) out.hidden.push(this.structure(el, () => `the spread \`${shortText(el)}\` (${this.typeText(el.expression)}) cannot be seen`, FIX.spread))
        }
      } else if (ts.isOmittedExpression(el)) out.items.push(undefined)
      else out.items.push(this.value(el, c, depth + 1))
    }
    return out
  }

  private identifier(e: TS.Identifier, c: Ctx, depth: number): Sym {
    const decl = this.r.declarationOf(e)
    if (!decl) return e.text === 'undefined' ? undefined : this.unknown(e, c)
    const param = this.r.parameterSource(decl)
    const bound = param && c.env.get(param.parameter)
    if (param && bound?.arg) {
      // Inside an inlined helper: the caller's argument, as the caller wrote it.
      let v = this.value(bound.arg, { ...c, env: bound.env }, depth + 1)
      for (const [i, key] of param.path.entries()) {
        const last = i === param.path.length - 1
        if (!(v instanceof SymObject) || v.hidden.length > 0 || v.optional.has(key)) return this.unknown(e, c)
        if (v.props.has(key)) v = v.props.get(key)
        else if (last && param.fallback) v = this.value(param.fallback, c, depth + 1)
        else if (last) v = undefined
        else return this.unknown(e, c)
      }
      return v
    }
    const src = this.r.sourceOf(decl)
    if (typeof src === 'string') return this.unknown(e, c, `\`${e.text}\` is ${src}`)
    // An object built here and changed afterwards (`where.OR = …`) is not the literal the scan reads.
    const declared = this.ts.isVariableDeclaration(decl) ? decl : undefined
    const holder = declared && this.ts.isIdentifier(declared.name) ? declared.parent.parent.parent : undefined
    if (holder && this.mutates(holder, e.text)) {
      const why = `\`${e.text}\` is changed after it is built (a property assigned, deleted or pushed)`
      return this.structure(e, why, 'build the object in one literal (conditional parts as `...(cond && { … })`) instead of changing it afterwards')
    }
    let v = this.value(src.init, c, depth + 1)
    for (const key of src.path) {
      if (v instanceof SymObject && v.props.has(key) && v.hidden.length === 0 && !v.optional.has(key)) v = v.props.get(key)
      else return this.unknown(e, c)
    }
    // An unknown value is judged where it is used: its type there is narrowed (`if (!t) throw`).
    return v instanceof Unknown ? this.unknown(e, c) : v
  }

  /** An expression the scan cannot evaluate, classed by its type. */
  private unknown(e: TS.Expression, c: Ctx, why?: string): Sym {
    const { ts } = this
    const type = this.r.typeOf(e)
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) {
      const kind = type.flags & ts.TypeFlags.Any ? 'any' : 'unknown'
      const origin = this.origin.trace(e, c.scope, 0, c.env)
      // Untyped but traced to the request's tenant (`res.locals.tenant.tenantId`): a tenant id.
      if (origin.request) return new Unknown(e, 'scalar', `\`${shortText(e)}\` is the request's tenant`, ANY_TENANT(ts, e), origin)
      return new Unknown(e, 'structure', why ?? `\`${shortText(e)}\` has type ${kind}: the scan cannot see its shape`, undefined, origin, FIX.any)
    }
    const parts = type.isUnion() ? type.types : [type]
    const nullish = ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void
    const rest = parts.filter((p) => !(p.flags & nullish))
    if (rest.length === 0) return parts.every((p) => p.flags & ts.TypeFlags.Null) ? null : undefined
    const tenantFlags = ts.TypeFlags.NumberLike | ts.TypeFlags.StringLike | ts.TypeFlags.BigIntLike
    const scalar = rest.every((p) => p.flags & (tenantFlags | ts.TypeFlags.BooleanLike | ts.TypeFlags.EnumLike) || this.isDate(p))
    if (!scalar) {
      const hidden = () => `\`${shortText(e)}\` (${this.typeText(e)}) is computed at run time: the scan cannot see its content`
      return new Unknown(e, 'structure', why ?? hidden, undefined, undefined, this.structureFix(e))
    }
    const tenantLike = rest.some((p) => p.flags & tenantFlags)
    const info: ScalarInfo = {
      nullable: rest.length < parts.length,
      tenantLike,
      valueType: rest.every((p) => p.flags & ts.TypeFlags.StringLike) ? 'string' : rest.every((p) => p.flags & ts.TypeFlags.BigIntLike) ? 'bigint' : 'number',
      neutral: rest.some((p) => this.isDate(p)) ? new Date(0) : true,
    }
    const u: Unknown = new Unknown(
      e,
      'scalar',
      why ?? `\`${shortText(e)}\` is computed at run time`,
      info,
      tenantLike ? () => this.origin.trace(e, c.scope, 0, c.env) : undefined,
      () => (u.origin && !u.origin.request ? u.origin.fix : undefined),
    )
    return u
  }

  /** The one change that lets the scan see a hidden object: by what hides it. */
  private structureFix(e: TS.Expression): string {
    const { ts } = this
    if (ts.isCallExpression(e)) return FIX.helper
    const decl = ts.isIdentifier(e) ? this.r.declarationOf(e) : undefined
    if (decl && (ts.isParameter(decl) || ts.isBindingElement(decl))) return FIX.filterParameter
    if (decl && ts.isVariableDeclaration(decl) && !isConst(ts, decl)) return FIX.let
    return FIX.helper
  }

  /**
   * `let extra = {}; if (…) extra = { … }; … { ...extra }`: the values a `let` can hold, when every one
   * is an object literal assigned with `=` in the function that declares it (not in a nested
   * function, which may run later) and nothing changes them afterwards. Spread, they are judged as
   * conditional branches.
   */
  private letValues(expr: TS.Expression): TS.Expression[] | undefined {
    const { ts } = this
    const e = skipOuter(ts, expr)
    const decl = ts.isIdentifier(e) ? this.r.declarationOf(e) : undefined
    if (!decl || !ts.isVariableDeclaration(decl) || !ts.isIdentifier(decl.name) || isConst(ts, decl) || !decl.initializer) return undefined
    const list = decl.parent
    const block = ts.isVariableDeclarationList(list) ? list.parent.parent : undefined
    if (!block || !(ts.isBlock(block) || ts.isSourceFile(block))) return undefined
    const name = decl.name.text
    const values: TS.Expression[] = [decl.initializer]
    let ok = true
    const visit = (n: TS.Node, nested: boolean): void => {
      if (!ok) return
      const assigns = ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment
      if (assigns && ts.isIdentifier(n.left) && n.left.text === name) {
        if (nested || n.operatorToken.kind !== ts.SyntaxKind.EqualsToken) ok = false
        else values.push(n.right)
      }
      // any other way to write it: a destructuring assignment, a loop variable, ++/--
      const mentions = (x: TS.Node): boolean => (ts.isIdentifier(x) && x.text === name) || (ts.forEachChild(x, mentions) ?? false)
      if (assigns && !ts.isIdentifier(n.left) && mentions(n.left)) ok = false
      if ((ts.isForOfStatement(n) || ts.isForInStatement(n)) && ts.isIdentifier(n.initializer) && n.initializer.text === name) ok = false
      if ((ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && ts.isIdentifier(n.operand) && n.operand.text === name) ok = false
      ts.forEachChild(n, (c) => visit(c, nested || ts.isFunctionLike(c)))
    }
    visit(block, false)
    const literal = (v: TS.Expression) => ts.isObjectLiteralExpression(skipOuter(ts, v))
    return ok && values.every(literal) && !this.mutates(block, name) ? values : undefined
  }

  /** `[sortBy]: sortOrder`: hidden, but when its key's type is a union of string literals, the keys it can be are known. */
  private computedKey(p: TS.PropertyAssignment): Unknown {
    const { ts } = this
    const why = `a computed key \`${shortText(p.name)}\``
    const type = ts.isComputedPropertyName(p.name) ? this.r.typeOf(p.name.expression) : undefined
    const parts = type ? (type.isUnion() ? type.types : [type]) : []
    const keys = parts.length > 0 && parts.every((t) => t.isStringLiteral()) ? parts.map((t) => (t as TS.StringLiteralType).value) : undefined
    return new Unknown(p, 'structure', why, undefined, undefined, 'name the key in the literal (or type it as a union of the columns it can be)', keys)
  }

  /**
   * `ids.map((id) => ({ … }))`: an array whose every item is the callback's one returned object,
   * its parameters unknown (judged once, it stands for every item); `flatMap` of a callback that
   * returns such an array.
   */
  private mapped(call: TS.CallExpression, c: Ctx, depth: number): SymArray | undefined {
    const { ts } = this
    const callee = call.expression
    const flat = ts.isPropertyAccessExpression(callee) && callee.name.text === 'flatMap'
    if (!ts.isPropertyAccessExpression(callee) || !(flat || callee.name.text === 'map') || call.arguments.length !== 1) return undefined
    if (!this.checker.isArrayType(this.checker.getNonNullableType(this.r.typeOf(callee.expression)))) return undefined
    const fn = skipOuter(ts, call.arguments[0]!)
    if (!(ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) || ts.getCombinedModifierFlags(fn) & ts.ModifierFlags.Async) return undefined
    const returned = this.r.returnedExpressions(fn)
    if (returned?.length !== 1 || this.mutates(fn)) return undefined
    const item = this.value(returned[0]!, c, depth + 1)
    // flatMap: the callback's array stands for every item's array
    if (flat) return item instanceof SymArray ? item : undefined
    if (!(item instanceof SymObject)) return undefined
    const out = new SymArray()
    out.items.push(item)
    return out
  }

  private structure(node: TS.Node, why: string | (() => string), fix?: string): Unknown {
    return new Unknown(node, 'structure', why, undefined, undefined, fix)
  }

  private isDate(t: TS.Type): boolean {
    const sym = t.getSymbol()
    return sym?.name === 'Date' && (sym.declarations ?? []).some((d) => this.program.isSourceFileDefaultLibrary(d.getSourceFile()))
  }

  private fromLibrary(id: TS.Identifier): boolean {
    const decl = this.r.declarationOf(id)
    return decl !== undefined && this.program.isSourceFileDefaultLibrary(decl.getSourceFile())
  }

  private typeText(e: TS.Expression): string {
    const text = this.checker.typeToString(this.r.typeOf(e))
    return text.length > 48 ? `${text.slice(0, 47)}…` : text
  }
}
