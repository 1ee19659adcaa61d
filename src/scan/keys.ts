// Baseline keys that survive code moving around: the file, the function the call is in, the
// model and operation, and a hash of the argument's shape (its keys and the kinds of its values,
// not their values, nor line numbers). Two identical calls in one function get #2, #3.
import { createHash } from 'node:crypto'
import type * as TS from 'typescript'
import { SymArray, SymObject, Unknown, type Sym } from './evaluate.ts'
import type { TypeScript } from './typescript.ts'

/** `app.get('/api/users/:id')`, `UserService.list`, `listUsers > map callback`: where a call is, by name. */
export function enclosingName(ts: TypeScript, node: TS.Node): string {
  const names: string[] = []
  for (let n: TS.Node | undefined = node.parent; n; n = n.parent) {
    const name = nameOf(ts, n)
    if (name) names.unshift(name)
  }
  return names.join(' > ') || '<module>'
}

function nameOf(ts: TypeScript, n: TS.Node): string | undefined {
  const declaration = ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isMethodDeclaration(n) || ts.isGetAccessor(n) || ts.isSetAccessor(n)
  if (declaration && n.name) return n.name.getText()
  if (ts.isConstructorDeclaration(n)) return 'constructor'
  if (!(ts.isArrowFunction(n) || ts.isFunctionExpression(n) || ts.isClassExpression(n))) return undefined
  if (n.name) return n.name.getText()
  const p = n.parent
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) return p.name.getText()
  if (ts.isCallExpression(p)) {
    // A callback: named by the call and its first string argument (a route, a test name).
    const callee = p.expression.getText().replace(/\s+/g, '')
    const label = p.arguments.find((a) => ts.isStringLiteralLike(a))
    return `${callee.length > 50 ? `…${callee.slice(-49)}` : callee}(${label ? `'${(label as TS.StringLiteralLike).text}'` : ''})`
  }
  return undefined
}

/** The argument's shape: keys and value kinds, stable across edits of values. */
export function shapeOf(s: Sym): string {
  if (s === undefined) return 'u'
  if (s === null) return 'n'
  if (s instanceof Date) return 'd'
  if (s instanceof Unknown) return s.kind === 'scalar' ? '?' : '?{}'
  if (s instanceof SymArray) return `[${s.items.map(shapeOf).join(',')}${s.hidden.length ? ',…' : ''}]`
  if (s instanceof SymObject) {
    const keys = [...s.props.keys()].sort().map((k) => `${k}:${shapeOf(s.props.get(k))}`)
    return `{${keys.join(',')}${s.hidden.length ? ',…' : ''}}`
  }
  return typeof s === 'boolean' ? 'b' : typeof s === 'string' ? 's' : 'v'
}

export function shapeHash(s: Sym): string {
  return createHash('sha256').update(shapeOf(s)).digest('hex').slice(0, 12)
}

/** Keys for call sites in source order; a repeated key gets #2, #3… */
type Keyed = { file: string; enclosing: string; model: string; operation: string; shape: string }

export function assignKeys<T extends Keyed>(sites: readonly T[]): (T & { key: string })[] {
  const seen = new Map<string, number>()
  return sites.map((s) => {
    const base = `${s.file}|${s.enclosing}|${s.model}.${s.operation}|${s.shape}`
    const n = (seen.get(base) ?? 0) + 1
    seen.set(base, n)
    return { ...s, key: n === 1 ? base : `${base}#${n}` }
  })
}
