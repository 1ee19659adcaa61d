// A query's argument as the scan can see it: literals as values, objects and arrays as trees, and
// every expression it cannot evaluate as an Unknown that keeps its node, its type class and why.
// Unknowns are replaced by chosen values only when the argument is judged (verdict.ts).
import type * as TS from 'typescript'
import { accessedName, isTypeWrapper, Resolver, shortText } from './resolve.ts'
import { propertyNameText, TenantOrigin, type Origin } from './tenant-origin.ts'

export class SymObject {
  readonly props = new Map<string, Sym>()
  /** spreads and computed keys the scan cannot see: any key may hide in them */
  readonly hidden: Unknown[] = []
}

export class SymArray {
  readonly items: Sym[] = []
  readonly hidden: Unknown[] = []
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

  constructor(
    readonly node: TS.Node,
    /** scalar: a primitive (or Date) of a known type class; structure: an object, an array, or `any` */
    readonly kind: 'scalar' | 'structure',
    /** why it is unknown; a function when the text costs a type printout (most unknowns are never shown) */
    why: string | (() => string),
    readonly scalar: ScalarInfo | undefined,
    /** where a tenant-like value comes from (scalars and `any`) */
    readonly origin: Origin | undefined,
  ) {
    this.whyText = why
  }

  get why(): string {
    if (typeof this.whyText === 'function') this.whyText = this.whyText()
    return this.whyText
  }

  get text(): string {
    return shortText(this.node)
  }
}

export type Sym = null | undefined | boolean | number | string | bigint | Date | SymObject | SymArray | Unknown

const MAX_DEPTH = 16

export class Evaluator {
  private readonly ts
  private readonly checker

  constructor(
    private readonly r: Resolver,
    private readonly origin: TenantOrigin,
    private readonly program: TS.Program,
  ) {
    this.ts = r.ts
    this.checker = r.checker
  }

  /** `scope`: the runWithTenant tenant references around the call (see TenantOrigin.trace). */
  evaluate(expr: TS.Expression, scope: ReadonlySet<string>, depth = 0): Sym {
    const { ts } = this
    let e: TS.Expression = expr
    while (isTypeWrapper(ts, e)) e = e.expression
    if (depth > MAX_DEPTH) return this.unknown(e, scope, `\`${shortText(e)}\` is too far from its source to follow`)
    if (ts.isNumericLiteral(e)) return Number(e.text)
    if (ts.isBigIntLiteral(e)) return BigInt(e.text.slice(0, -1))
    if (ts.isStringLiteralLike(e)) return e.text
    if (e.kind === ts.SyntaxKind.TrueKeyword) return true
    if (e.kind === ts.SyntaxKind.FalseKeyword) return false
    if (e.kind === ts.SyntaxKind.NullKeyword) return null
    if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(e.operand)) return -Number(e.operand.text)
    if (ts.isObjectLiteralExpression(e)) return this.object(e, scope, depth)
    if (ts.isArrayLiteralExpression(e)) return this.array(e, scope, depth)
    if (ts.isIdentifier(e)) return this.identifier(e, scope, depth)
    if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) {
      const key = accessedName(ts, e)
      if (key !== undefined) {
        const base = this.evaluate(e.expression, scope, depth + 1)
        if (base instanceof SymObject && base.props.has(key) && base.hidden.length === 0) return base.props.get(key)
        if (base instanceof SymArray && /^\d+$/.test(key) && base.hidden.length === 0) return base.items[Number(key)]
      }
      return this.unknown(e, scope)
    }
    if (ts.isNewExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'Date' && this.fromLibrary(e.expression)) return new Date(0)
    if (ts.isSpreadElement(e)) return this.structure(e, `the arguments are the spread \`${shortText(e)}\``)
    return this.unknown(e, scope)
  }

  private object(e: TS.ObjectLiteralExpression, scope: ReadonlySet<string>, depth: number): SymObject {
    const { ts } = this
    const out = new SymObject()
    for (const p of e.properties) {
      if (ts.isPropertyAssignment(p)) {
        const key = propertyNameText(ts, p.name)
        if (key === undefined) out.hidden.push(this.structure(p, `a computed key \`${shortText(p.name)}\``))
        else out.props.set(key, this.evaluate(p.initializer, scope, depth + 1))
      } else if (ts.isShorthandPropertyAssignment(p)) {
        out.props.set(p.name.text, this.evaluate(p.name, scope, depth + 1))
      } else if (ts.isSpreadAssignment(p)) {
        const v = this.evaluate(p.expression, scope, depth + 1)
        if (v instanceof SymObject) {
          for (const [k, val] of v.props) out.props.set(k, val)
          out.hidden.push(...v.hidden)
        } else if (v !== undefined && v !== null) {
          out.hidden.push(this.structure(p, () => `the spread \`${shortText(p)}\` (${this.typeText(p.expression)}) cannot be seen`))
        }
      } else {
        out.hidden.push(this.structure(p, `a method or accessor \`${shortText(p, 40)}\``))
      }
    }
    return out
  }

  private array(e: TS.ArrayLiteralExpression, scope: ReadonlySet<string>, depth: number): SymArray {
    const { ts } = this
    const out = new SymArray()
    for (const el of e.elements) {
      if (ts.isSpreadElement(el)) {
        const v = this.evaluate(el.expression, scope, depth + 1)
        if (v instanceof SymArray) {
          out.items.push(...v.items)
          out.hidden.push(...v.hidden)
        } else out.hidden.push(this.structure(el, () => `the spread \`${shortText(el)}\` (${this.typeText(el.expression)}) cannot be seen`))
      } else if (ts.isOmittedExpression(el)) out.items.push(undefined)
      else out.items.push(this.evaluate(el, scope, depth + 1))
    }
    return out
  }

  private identifier(e: TS.Identifier, scope: ReadonlySet<string>, depth: number): Sym {
    const decl = this.r.declarationOf(e)
    if (!decl) return e.text === 'undefined' ? undefined : this.unknown(e, scope)
    const src = this.r.sourceOf(decl)
    if (typeof src === 'string') return this.unknown(e, scope, `\`${e.text}\` is ${src}`)
    let v = this.evaluate(src.init, scope, depth + 1)
    for (const key of src.path) {
      if (v instanceof SymObject && v.props.has(key) && v.hidden.length === 0) v = v.props.get(key)
      else return this.unknown(e, scope)
    }
    // An unknown value is judged where it is used: its type there is narrowed (`if (!t) throw`).
    return v instanceof Unknown ? this.unknown(e, scope) : v
  }

  /** An expression the scan cannot evaluate, classed by its type. */
  unknown(e: TS.Expression, scope: ReadonlySet<string>, why?: string): Sym {
    const { ts } = this
    const type = this.r.typeOf(e)
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) {
      const kind = type.flags & ts.TypeFlags.Any ? 'any' : 'unknown'
      return new Unknown(e, 'structure', why ?? `\`${shortText(e)}\` has type ${kind}: the scan cannot see its shape`, undefined, this.origin.trace(e, scope))
    }
    const parts = type.isUnion() ? type.types : [type]
    const nullish = ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void
    const rest = parts.filter((p) => !(p.flags & nullish))
    if (rest.length === 0) return parts.every((p) => p.flags & ts.TypeFlags.Null) ? null : undefined
    const tenantFlags = ts.TypeFlags.NumberLike | ts.TypeFlags.StringLike | ts.TypeFlags.BigIntLike
    const scalar = rest.every((p) => p.flags & (tenantFlags | ts.TypeFlags.BooleanLike | ts.TypeFlags.EnumLike) || this.isDate(p))
    if (!scalar) {
      const hidden = () => `\`${shortText(e)}\` (${this.typeText(e)}) is computed at run time: the scan cannot see its content`
      return new Unknown(e, 'structure', why ?? hidden, undefined, undefined)
    }
    const tenantLike = rest.some((p) => p.flags & tenantFlags)
    const info: ScalarInfo = {
      nullable: rest.length < parts.length,
      tenantLike,
      valueType: rest.every((p) => p.flags & ts.TypeFlags.StringLike) ? 'string' : rest.every((p) => p.flags & ts.TypeFlags.BigIntLike) ? 'bigint' : 'number',
      neutral: rest.some((p) => this.isDate(p)) ? new Date(0) : true,
    }
    return new Unknown(e, 'scalar', why ?? `\`${shortText(e)}\` is computed at run time`, info, tenantLike ? this.origin.trace(e, scope) : undefined)
  }

  private structure(node: TS.Node, why: string | (() => string)): Unknown {
    return new Unknown(node, 'structure', why, undefined, undefined)
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
