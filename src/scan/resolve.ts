// Following a name to the value it was given: the one step both the argument evaluator and the
// tenant-origin tracer take. Only what cannot change is followed (a `const` initializer, a
// destructuring of one), so that what the scan reads is what runs.
import type * as TS from 'typescript'
import type { TypeScript } from './typescript.ts'

/** Where a declared name's value comes from: an expression, and the property path taken from it. */
export interface ValueSource {
  readonly init: TS.Expression
  /** properties taken by destructuring, outermost first (`const { a: { b } } = x` → ['a', 'b']) */
  readonly path: readonly string[]
}

/**
 * The arguments of the helper calls being inlined (evaluate.ts): inside a helper, a parameter's
 * value is the call's argument, read with the caller's own bindings.
 */
export interface Binding {
  /** undefined: the call passes no argument there */
  readonly arg: TS.Expression | undefined
  readonly env: Env
}
export type Env = ReadonlyMap<TS.ParameterDeclaration, Binding>
export const NO_BINDINGS: Env = new Map()

/** A parameter, or a name destructured from one (`{ teamId }: Options`): the parameter and the path taken. */
export interface ParameterSource {
  readonly parameter: TS.ParameterDeclaration
  readonly path: readonly string[]
  /** the innermost binding element's default value (`{ archived = false }`) */
  readonly fallback: TS.Expression | undefined
}

export class Resolver {
  constructor(
    readonly ts: TypeScript,
    readonly checker: TS.TypeChecker,
  ) {}

  /** The symbol an identifier names, through imports and `{ shorthand }` properties. */
  symbolOf(node: TS.Node): TS.Symbol | undefined {
    const { ts, checker } = this
    const shorthand = ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node
    let sym = shorthand ? checker.getShorthandAssignmentValueSymbol(node.parent) : checker.getSymbolAtLocation(node)
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym)
    return sym
  }

  /**
   * The type of an expression. A shorthand property (`{ tenantId }`) is typed by its variable's
   * declaration: asking for the type at the shorthand itself makes the checker type the whole
   * object literal against the Prisma call's generic signature (tens of milliseconds a query).
   * The declared type holds every narrowed one, so the answer can only be more cautious.
   */
  typeOf(node: TS.Node): TS.Type {
    const { ts, checker } = this
    if (ts.isIdentifier(node) && ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node) {
      const sym = checker.getShorthandAssignmentValueSymbol(node.parent)
      if (sym) return checker.getTypeOfSymbolAtLocation(sym, node)
    }
    return checker.getTypeAtLocation(node)
  }

  declarationOf(node: TS.Node): TS.Declaration | undefined {
    const sym = this.symbolOf(node)
    return sym?.valueDeclaration ?? sym?.declarations?.[0]
  }

  /** The value of a `const` (or of a name destructured from one), else undefined with why. */
  sourceOf(decl: TS.Declaration): ValueSource | string {
    const { ts } = this
    if (ts.isVariableDeclaration(decl)) {
      if (!isConst(ts, decl)) return 'a variable that may be reassigned (not a const)'
      if (!decl.initializer) return 'a const without an initializer'
      if (!ts.isIdentifier(decl.name)) return 'a destructuring'
      return { init: decl.initializer, path: [] }
    }
    if (ts.isBindingElement(decl)) {
      const path: string[] = []
      let el: TS.Node = decl
      while (ts.isBindingElement(el)) {
        const b: TS.BindingElement = el
        if (b.initializer) return 'a destructured name with a default value'
        if (b.dotDotDotToken) return 'a rest element'
        if (!ts.isObjectBindingPattern(b.parent)) return 'an array destructuring'
        const key = b.propertyName ?? b.name
        if (!(ts.isIdentifier(key) || ts.isStringLiteral(key))) return 'a computed destructuring key'
        path.unshift(key.text)
        el = b.parent.parent
      }
      if (!ts.isVariableDeclaration(el)) return `destructured from ${describeKind(ts, el)}`
      if (!isConst(ts, el)) return 'destructured into a variable that may be reassigned (not a const)'
      if (!el.initializer) return 'a const without an initializer'
      return { init: el.initializer, path }
    }
    return describeKind(ts, decl)
  }

  /** A parameter or a name destructured from one, with the property path; undefined for anything else. */
  parameterSource(decl: TS.Declaration): ParameterSource | undefined {
    const { ts } = this
    if (ts.isParameter(decl)) return ts.isIdentifier(decl.name) ? { parameter: decl, path: [], fallback: undefined } : undefined
    if (!ts.isBindingElement(decl)) return undefined
    const path: string[] = []
    const fallback = decl.initializer
    let el: TS.Node = decl
    while (ts.isBindingElement(el)) {
      const b: TS.BindingElement = el
      if (b.dotDotDotToken || !ts.isObjectBindingPattern(b.parent)) return undefined
      if (b !== decl && b.initializer) return undefined
      const key = b.propertyName ?? b.name
      if (!(ts.isIdentifier(key) || ts.isStringLiteral(key))) return undefined
      path.unshift(key.text)
      el = b.parent.parent
    }
    return ts.isParameter(el) ? { parameter: el, path, fallback } : undefined
  }

  /** The function a call invokes, when its body is in the program (not a declaration file). */
  calledFunction(call: TS.CallExpression): TS.SignatureDeclaration | undefined {
    const { ts } = this
    const decl = this.declarationOf(ts.isPropertyAccessExpression(call.expression) ? call.expression.name : call.expression)
    if (!decl) return undefined
    if (ts.isFunctionDeclaration(decl) || ts.isMethodDeclaration(decl)) return decl.body ? decl : undefined
    if (ts.isVariableDeclaration(decl) && isConst(ts, decl) && decl.initializer) {
      const init = skipOuter(ts, decl.initializer)
      if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return init
    }
    return undefined
  }

  /** The bindings inside `fn` when `call` invokes it: each parameter is its argument (with the caller's bindings). */
  bind(fn: TS.SignatureDeclaration, call: TS.CallExpression, env: Env): Env {
    const { ts } = this
    const out = new Map(env)
    // A spread argument hides which parameter gets what: those parameters stay unknown.
    const spread = call.arguments.findIndex((a) => ts.isSpreadElement(a))
    fn.parameters.forEach((p, i) => {
      if (p.dotDotDotToken || (spread >= 0 && i >= spread)) return
      out.set(p, { arg: call.arguments[i], env })
    })
    return out
  }

  /** The expressions a function returns (an arrow's expression body, or each `return x`); undefined when one returns nothing. */
  returnedExpressions(fn: TS.SignatureDeclaration): TS.Expression[] | undefined {
    const { ts } = this
    const body = (fn as { body?: TS.Node }).body
    if (!body) return undefined
    if (!ts.isBlock(body)) return [body as TS.Expression]
    const out: TS.Expression[] = []
    let bare = false
    const visit = (n: TS.Node): void => {
      if (ts.isReturnStatement(n)) {
        if (n.expression) out.push(n.expression)
        else bare = true
        return
      }
      // A nested function's returns are its own.
      if (ts.isFunctionLike(n)) return
      ts.forEachChild(n, visit)
    }
    ts.forEachChild(body, visit)
    return bare || out.length === 0 ? undefined : out
  }
}

export function isConst(ts: TypeScript, decl: TS.VariableDeclaration): boolean {
  return ts.isVariableDeclarationList(decl.parent) && (decl.parent.flags & ts.NodeFlags.Const) !== 0
}

type Wrapper = TS.ParenthesizedExpression | TS.AsExpression | TS.NonNullExpression | TS.TypeAssertion | TS.SatisfiesExpression

/** Parentheses, `as`, `satisfies`, `!`, `<T>x`: they change a type, never a value. */
export function isTypeWrapper(ts: TypeScript, e: TS.Expression): e is Wrapper {
  return ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e) || ts.isSatisfiesExpression(e)
}

/** Strip type wrappers and `await` (the value awaited is the one traced). */
export function skipOuter(ts: TypeScript, e: TS.Expression): TS.Expression {
  while (isTypeWrapper(ts, e) || ts.isAwaitExpression(e)) e = e.expression
  return e
}

export function describeKind(ts: TypeScript, decl: TS.Node): string {
  if (ts.isParameter(decl)) {
    const fn = decl.parent
    const name = fn && 'name' in fn && fn.name && ts.isIdentifier(fn.name as TS.Node) ? ` of ${(fn.name as TS.Identifier).text}` : ''
    return `a parameter${name}`
  }
  if (ts.isPropertyDeclaration(decl) || ts.isPropertySignature(decl)) return 'a property'
  if (ts.isFunctionDeclaration(decl)) return 'a function'
  return 'a value computed at run time'
}

/** The text of a node on one line, shortened for messages. */
export function shortText(node: TS.Node, max = 60): string {
  const t = node.getText().replace(/\s+/g, ' ')
  return t.length > max ? `${t.slice(0, max - 1)}…` : t
}

/** `a.b` → 'b', `a['b']` / `a[0]` → 'b' / '0'; a computed key → undefined. */
export function accessedName(ts: TypeScript, e: TS.PropertyAccessExpression | TS.ElementAccessExpression): string | undefined {
  if (ts.isPropertyAccessExpression(e)) return e.name.text
  const a = e.argumentExpression
  return ts.isStringLiteralLike(a) || ts.isNumericLiteral(a) ? a.text : undefined
}
