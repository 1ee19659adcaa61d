// From a query's symbolic argument to a verdict, by asking the runtime's inspector twice:
//   strict:     inside a request of tenant T; what traces to the request's tenant is T, every other
//               tenant-like value a different tenant (or undefined when its type allows it);
//   favourable: outside a request; every tenant-like value the same one tenant.
// Strict passes → scoped. Favourable fails → unscoped (no value the code could hold fixes it).
// Otherwise → unverifiable, and each value whose strict reading alone breaks the favourable run is
// named as the reason. Parts the scan cannot see at all (a variable holding the whole `where`, a
// spread) make the call site unverifiable, except where they cannot hide a tenant pin.
import type { DataModel } from '../enforcement/datamodel.ts'
import type { ModelPolicy } from '../enforcement/policy.ts'
import type { Severity } from '../config/schema.ts'
import type { ViolationKind } from '../telemetry/metric-names.ts'
import { SymArray, SymObject, Unknown, type Sym } from './evaluate.ts'
import { REQUEST_TENANT_TAG } from './tenant-origin.ts'
import type { JudgeContext, JudgedFinding, Judgement, Judges } from './judge.ts'

export type Verdict = 'scoped' | 'unscoped' | 'unverifiable' | 'bypassed'

export interface SiteVerdict {
  readonly verdict: Verdict
  readonly violation?: ViolationKind
  readonly severity?: Severity
  /** the model whose rows the violation exposes (a nested read names the nested model) */
  readonly findingModel?: string
  /** two levels of tenancy: the level whose check fails (unscoped: the violation's; unverifiable: the one that fails unless the named values are the request's) */
  readonly level?: string
  /** why it is unscoped or unverifiable, one sentence each */
  readonly reasons: readonly string[]
  /** foreign keys the runtime verifies with a lookup: scoped, but only at run time */
  readonly verifiedAtRunTime: readonly string[]
  /** unverifiable: the one change that would let the scan judge it */
  readonly fix?: string
}

export interface QueryToJudge {
  readonly model: string | undefined
  readonly operation: string
  /** the argument; undefined when the call passes none */
  readonly args: Sym
  /** the tenant of an enclosing runWithTenant when it is a literal (else the symbolic request tenant) */
  readonly requestTenant?: string | number | bigint
  /** two levels: the literal ids of an enclosing runWithTenant's tenantIds, by level */
  readonly requestTenants?: Readonly<Record<string, string | number>>
  /**
   * two levels: the scope the code declares it runs in (`scope` of an enclosing runWithTenant, or
   * `@tenantScope <level>` on an enclosing function); the upper level's name: organisation-wide
   */
  readonly scope?: string
}

type Seg = string | number
interface Placed {
  readonly u: Unknown
  readonly path: readonly Seg[]
  /** scalar: judged by value; harmless: cannot hide a tenant pin; removable: can only add findings; blind: can hide anything */
  readonly role: 'scalar' | 'harmless' | 'removable' | 'blind'
}

/** Stand-in values: negative numbers no real tenant id uses, equal across types through String(). */
const T = -7_301_001
const U = -7_301_002
const OTHER = -7_302_000
const OMIT = Symbol('omit')

export function judgeSite(judges: Judges, datamodel: DataModel, q: QueryToJudge): SiteVerdict {
  const placed = place(judges, datamodel, q)
  const model = q.model === undefined ? undefined : ownPolicy(judges, q.model)
  // Each level's request tenant (one level: T, or the runWithTenant literal); distinct per level.
  const requests = new Map<string, string | number | bigint>(
    judges.levels.map((l, i) => [l.name, judges.twoLevel ? q.requestTenants?.[l.name] ?? T - 3 * i : q.requestTenant ?? T]),
  )
  const request = requests.get(judges.levels[0]!.name)!
  // The context the query is judged in: one tenant per level, or (declared) organisation-wide.
  const upper = judges.levels[0]!.name
  const wideDeclared = judges.twoLevel && q.scope === upper
  const wideContext = (tenant: unknown): JudgeContext => ({ tenantIds: { [upper]: tenant }, scope: upper })
  const requestContext: JudgeContext = wideDeclared ? wideContext(request) : { tenantIds: Object.fromEntries(requests) }
  // The level whose request tenant a value is: one level, any value traced to the request; two
  // levels, a value traced to one level's id (a `tenantId` or a bare tag naming no level: none).
  const requestLevel = (u: Unknown): string | undefined => (u.origin?.request ? (judges.twoLevel ? u.origin.level : judges.levels[0]!.name) : undefined)
  const asRequestOf = (u: Unknown, level: string): unknown => typed(u, requests.get(level)!)
  // For an untraced value: the level whose id it would have to be (by the field it is compared to).
  const wantedLevel = (p: Placed): string => levelAt(judges, p.path, q.model) ?? judges.levels[judges.levels.length - 1]!.name
  const others = new Map<Unknown, number>()
  const other = (u: Unknown): unknown => {
    let n = others.get(u)
    if (n === undefined) others.set(u, (n = OTHER - others.size))
    return typed(u, n)
  }
  const strictValue = (p: Placed): unknown => {
    const s = p.u.scalar
    const level = requestLevel(p.u)
    if (level !== undefined && !s?.nullable) return asRequestOf(p.u, level)
    if (s && !s.tenantLike) return s.neutral
    if (s?.nullable || p.role !== 'scalar' || !s) return OMIT
    return other(p.u)
  }
  const favourableValue = (p: Placed): unknown => (p.u.scalar && !p.u.scalar.tenantLike ? p.u.scalar.neutral : p.role === 'scalar' ? typed(p.u, U) : OMIT)
  // Keys of conditional spreads (`...(cond && { … })`) are judged absent and present: a verdict
  // must hold either way.
  const variants: readonly boolean[] = hasOptional(q.args) ? [false, true] : [true]
  type Context = JudgeContext | undefined
  const once = (pick: (p: Placed) => unknown, context: Context, withOptional: boolean): Judgement =>
    judges.judge(q.model, q.operation, build(q.args, placed, pick, withOptional), context)
  const run = (pick: (p: Placed) => unknown, context: Context): Judgement => variants.map((v) => once(pick, context, v)).reduce((a, b) => merge(a, b))

  // A value that may be null or undefined is, at worst, absent (no pin) or another tenant's (a
  // foreign key): the strict reading tries both, so `userId: string | null` is judged as `string`.
  const present = (p: Placed): unknown => {
    const s = p.u.scalar
    if (!s?.nullable || !s.tenantLike || p.role !== 'scalar') return strictValue(p)
    const level = requestLevel(p.u)
    return level !== undefined ? asRequestOf(p.u, level) : other(p.u)
  }
  const strict = merge(run(strictValue, requestContext), placed.some((p) => p.u.scalar?.nullable && p.u.scalar.tenantLike && p.role === 'scalar') ? run(present, requestContext) : undefined)
  // Unscoped: no value the code could hold, with or without its conditional keys, scopes it; with
  // two levels, in no context either (outside a request, nor organisation-wide).
  // Code declared organisation-wide is explained by that context's findings, other code by a job's.
  const contexts: Context[] = !judges.twoLevel ? [undefined] : wideDeclared ? [wideContext(U), undefined] : [undefined, wideContext(U)]
  const favourableRuns = variants.map((v) => once(favourableValue, contexts[0], v))
  const favourable = favourableRuns.reduce((a, b) => merge(a, b))
  const neverScoped = favourableRuns.every((r) => r.findings.length > 0) && contexts.slice(1).every((c) => variants.every((v) => once(favourableValue, c, v).findings.length > 0))
  const blind = placed.filter((p) => p.role === 'blind')
  const removable = placed.filter((p) => p.role === 'removable')
  const references = [...new Set(strict.references.map((r) => `${r.model} (${r.path})`))]

  if (blind.length === 0 && removable.length === 0 && strict.findings.length === 0) return { verdict: 'scoped', reasons: [], verifiedAtRunTime: references }
  if (blind.length === 0 && neverScoped) {
    const f = favourable.findings[0]!
    const hidden = removable.map((p) => `${at(p.path)}: ${p.u.why} (it could only add findings)`)
    // Every finding is named (a second unproven foreign key is often the real IDOR), once each.
    const found = [...new Set(favourable.findings.map((x) => explain(x, judges)))]
    return { verdict: 'unscoped', ...described(f), reasons: [...found, ...hidden], verifiedAtRunTime: references }
  }
  const reasons = [...blind, ...removable].map((p) => `${at(p.path)}: ${p.u.why}`)
  const fixes = [...blind, ...removable].map((p) => p.u.fix)
  const onlyWithOptional = variants.length > 1 && once(strictValue, requestContext, false).findings.length > 0 && once(strictValue, requestContext, true).findings.length === 0
  // Two levels: a value traced to one level's id compared to another level's field (the org's id as
  // a project id): it pins no row of the request's, whatever the rest says.
  const misplaced = placed.filter((p) => {
    const pinned = levelAt(judges, p.path, q.model)
    return p.role === 'scalar' && pinned !== undefined && requestLevel(p.u) !== undefined && pinned !== requestLevel(p.u)
  })
  // Two levels: scoped in an organisation-wide context (an org admin's), which the code does not declare.
  const lowerName = judges.levels[judges.levels.length - 1]!.name
  const wideOnly =
    judges.twoLevel && !wideDeclared && strict.findings.length > 0 && blind.length === 0 && removable.length === 0 && misplaced.length === 0 &&
    run(strictValue, wideContext(request)).findings.length === 0
  if (strict.findings.length > 0 && misplaced.length > 0) {
    for (const p of misplaced) {
      reasons.push(`${at(p.path)}: \`${p.u.text}\` is the request's ${requestLevel(p.u)} id, compared to the ${levelAt(judges, p.path, q.model)} level's field`)
      fixes.push(`pin ${at(p.path)} with the request's ${levelAt(judges, p.path, q.model)} id`)
    }
  } else if (wideOnly) {
    const f = strict.findings[0]!
    const what = `${f.violation} on ${f.model}${f.level ? ` (${f.level} level)` : ''}`
    reasons.push(`scoped only in an ${upper}-wide context (scope: '${upper}', an ${upper} admin's): in a request of one ${lowerName} it is ${what}`)
    fixes.push(
      `if this code runs only in an ${upper}-wide context, declare it: tag its function \`@tenantScope ${upper}\`, ` +
        `or run it in runWithTenant({ tenantIds: { ${upper}: … }, scope: '${upper}' }, …); else pin the request's ${lowerName}`,
    )
  } else if (strict.findings.length > 0 && onlyWithOptional && blind.length === 0 && removable.length === 0) {
    reasons.push('it pins the tenant only inside a conditional spread (`...(cond && { … })`): when the condition is false, nothing pins it')
    fixes.push('pin the tenant outside the conditional spread')
  } else if (strict.findings.length > 0) {
    // Which values, were they the request's tenant, would scope the query? The smallest such set
    // found by dropping one candidate at a time (ids and emails drop out, tenant pins stay).
    const candidates = placed.filter((p) => p.role === 'scalar' && p.u.scalar?.tenantLike !== false && !(requestLevel(p.u) !== undefined && !p.u.scalar?.nullable))
    const asRequest = (chosen: ReadonlySet<Placed>) => run((x) => (chosen.has(x) ? asRequestOf(x.u, requestLevel(x.u) ?? wantedLevel(x)) : strictValue(x)), requestContext)
    const all = asRequest(new Set(candidates))
    if (candidates.length > 0 && all.findings.length === 0) {
      let needed = new Set(candidates)
      for (const p of candidates) {
        const without = new Set(needed)
        without.delete(p)
        if (asRequest(without).findings.length === 0) needed = without
      }
      for (const p of needed) {
        const noLevel = judges.twoLevel && p.u.origin?.request && p.u.origin.level === undefined
        const level = judges.twoLevel ? (requestLevel(p.u) ?? wantedLevel(p)) : undefined
        reasons.push(noLevel ? noLevelReason(p, judges) : scalarReason(p, level))
        fixes.push(noLevel ? FIX_LEVEL(wantedLevel(p)) : p.u.origin?.request ? FIX_UNDEFINED : levelFix(p.u.fix, level))
      }
    } else if (blind.length === 0 && removable.length === 0) {
      // Even with every unknown the request's tenant it fails: what remains is a literal tenant or
      // a write only allowed outside a request. (The favourable reading passed, so it is one of them.)
      const f = all.findings[0]!
      const mine = new Set([...requests.values()].map(String))
      const named = f.queryTenantIds?.filter((id) => !mine.has(id))
      if (wideDeclared && !named?.length) {
        const field = judges.levels[0]!.field
        const proof = `${lowerName}-level rows are proven there through their ${lowerName}'s ${upper} (\`${lowerName}: { ${field} }\`) or their own ${field}`
        reasons.push(`in the ${upper}-wide context it is ${f.violation} on ${f.model}${f.level ? ` (${f.level} level)` : ''}: ${proof}, never by a ${lowerName} id`)
        fixes.push(`pin the ${upper} through the ${lowerName} relation, or run this query in a request of that ${lowerName}`)
      } else {
        reasons.push(named?.length
          ? `it names tenant ${named.join(', ')} by a literal: scoped outside a request, ${f.violation} in a request of any other tenant`
          : `scoped only outside a request (a job, a signup): in a request it is ${f.violation} on ${f.model}`)
        fixes.push(named?.length ? FIX_LITERAL : undefined)
      }
    }
  }
  // No violation kind: which one it would be depends on values the scan cannot see.
  const fix = fixes.find((x) => x !== undefined)
  const level = judges.twoLevel ? strict.findings[0]?.level : undefined
  return { verdict: 'unverifiable', ...(model ? { severity: model.severity } : {}), ...(level ? { level } : {}), reasons, verifiedAtRunTime: references, ...(fix ? { fix } : {}) }
}

/** The policy that scopes a model in its own level's check (one level: the one policy). */
function ownPolicy(judges: Judges, model: string): ModelPolicy | undefined {
  const level = judges.levelOf(model)
  const own = judges.levels.find((l) => l.name === level) ?? judges.levels[0]!
  return own.policy.models.get(model)
}

/**
 * Two levels: the level whose id the value at this path is compared to or written to: the last key
 * that is a level's field, else the id of a level's own model at the top of a query on it.
 */
function levelAt(judges: Judges, path: readonly Seg[], model: string | undefined): string | undefined {
  if (!judges.twoLevel) return undefined
  for (let i = path.length - 1; i >= 0; i--) {
    const level = judges.levels.find((l) => l.field === path[i])
    if (level) return level.name
  }
  const own = judges.levels.find((l) => l.model === model)
  return own && path.length === 2 && FILTERS.has(String(path[0])) && path[1] === own.idField ? own.name : undefined
}

function noLevelReason(p: Placed, judges: Judges): string {
  const names = judges.levels.map((l) => l.name).join(' or ')
  return `${at(p.path)}: \`${p.u.text}\` is the request's tenant, but names no level: the scan cannot tell whether it is the ${names} id`
}

/** Two levels: a fix that says "tag it @requestTenant" names the level the value must be. */
function levelFix(fix: string | undefined, level: string | undefined): string | undefined {
  if (fix === undefined || level === undefined) return fix
  return fix.replace(`@${REQUEST_TENANT_TAG}`, `@${REQUEST_TENANT_TAG} ${level}`).replace('read the tenant from getTenantContext()', `read it from getTenantContext().tenantIds.${level}`)
}

const FIX_LEVEL = (level: string) => `name the level of the request's id: read getTenantContext().tenantIds.${level}, or tag its declaration \`@requestTenant ${level}\``

const FIX_UNDEFINED = 'throw when the tenant context is missing (as a `requireTenant()` helper does), so that its type rules out undefined'
const FIX_LITERAL = "take the tenant from the request's context instead of a literal, or run the query inside runWithTenant({ tenantId: <that literal> }, …)"

/** Does the argument hold keys or items of a conditional spread anywhere? */
function hasOptional(s: Sym): boolean {
  if (s instanceof SymObject) return s.optional.size > 0 || [...s.props.values()].some(hasOptional)
  if (s instanceof SymArray) return s.optional.length > 0 || s.items.some(hasOptional)
  return false
}

/** Both strict readings' findings and references (the second only when a value may be absent). */
function merge(a: Judgement, b: Judgement | undefined): Judgement {
  return b ? { findings: [...a.findings, ...b.findings], references: [...a.references, ...b.references] } : a
}

function described(f: JudgedFinding): Pick<SiteVerdict, 'violation' | 'severity' | 'findingModel' | 'level'> {
  return { violation: f.violation, severity: f.severity, findingModel: f.model, ...(f.level ? { level: f.level } : {}) }
}

function typed(u: Unknown, n: number | string | bigint): unknown {
  if (typeof n !== 'number') return n
  const t = u.scalar?.valueType ?? 'number'
  return t === 'string' ? String(n) : t === 'bigint' ? BigInt(n) : n
}

/** `level`: two levels, the level whose id the value would have to be. */
function scalarReason(p: Placed, level?: string): string {
  const whose = level === undefined ? 'tenant' : `${level} id`
  const s = p.u.scalar
  if (p.u.origin?.request && s?.nullable) {
    return `${at(p.path)}: \`${p.u.text}\` is the request's tenant but may be undefined (its type allows it), and Prisma drops undefined keys`
  }
  let why = p.u.origin && !p.u.origin.request ? p.u.origin.why : p.u.why
  if (!why.startsWith(`\`${p.u.text}\``)) why = `\`${p.u.text}\`: ${why}`
  return `${at(p.path)}: ${why}; not traced to the request's ${whose}${s?.nullable ? ' (and may be undefined)' : ''}`
}

/** `where.OR[1].tenantId` */
function at(path: readonly Seg[]): string {
  if (path.length === 0) return 'the argument'
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : s === '[…]' || i === 0 ? s : `.${s}`)).join('')
}

const SELECTION = new Set(['select', 'include', 'omit', 'orderBy'])
const FILTERS = new Set(['where', 'cursor', 'having'])
const LOGIC = new Set(['AND', 'OR', 'NOT'])
const DATA_ROOTS = new Set(['data', 'create', 'update'])

/** Find every unknown in the argument and decide what part it can play. */
function place(judges: Judges, datamodel: DataModel, q: QueryToJudge): Placed[] {
  const out: Placed[] = []
  const model = q.model ? ownPolicy(judges, q.model) : undefined
  const scalars = new Set((q.model ? datamodel.models[q.model]?.fields ?? [] : []).filter((f) => f.kind !== 'object').map((f) => f.name))
  // Columns that can take part in pinning the tenant: the tenant column (or the tenant model's id)
  // and every column of a foreign key that includes the tenant field; of every level's check.
  const pinning = new Set<string>()
  for (const l of judges.levels) {
    const m = q.model ? l.policy.models.get(q.model) : undefined
    if (m && (m.kind === 'field' || m.kind === 'root')) pinning.add(m.field)
    for (const r of m?.relations.values() ?? []) if (r.tenantBound) for (const f of r.fields) pinning.add(f)
  }
  const visit = (s: Sym, path: Seg[]) => {
    if (s instanceof Unknown) out.push({ u: s, path, role: roleOf(s, path, scalars, pinning, model) })
    else if (s instanceof SymObject) {
      for (const [k, v] of s.props) visit(v, [...path, k])
      for (const [k, v] of s.optional) visit(v, [...path, k])
      for (const h of s.hidden) out.push({ u: h, path: [...path, '{…}'], role: roleOf(h, [...path, '{…}'], scalars, pinning, model) })
    } else if (s instanceof SymArray) {
      s.items.forEach((v, i) => visit(v, [...path, i]))
      s.optional.forEach((v, i) => visit(v, [...path, s.items.length + i]))
      for (const h of s.hidden) out.push({ u: h, path: [...path, '[…]'], role: 'blind' })
    }
  }
  visit(q.args, [])
  return out
}

function roleOf(u: Unknown, path: readonly Seg[], scalars: ReadonlySet<string>, pinning: ReadonlySet<string>, model: ModelPolicy | undefined): Placed['role'] {
  const last = path[path.length - 1]
  const names = path.filter((s): s is string => typeof s === 'string')
  // A filter on one of the model's own columns that cannot pin the tenant, at the top of its where
  // (or under AND/OR/NOT), compared in any way (`id: x`, `id: { in: ids }`, `createdAt: { gte: d }`):
  // whatever it holds, it cannot make the query match another tenant's rows where the rest pins T,
  // nor pin T where the rest does not.
  const column = names[0] === 'where' ? names.slice(1).find((n) => !LOGIC.has(n)) : undefined
  if (column !== undefined && scalars.has(column) && !pinning.has(column)) return u.kind === 'scalar' ? 'scalar' : 'harmless'
  if (u.kind === 'scalar') return 'scalar'
  // A computed key that can only be some of the model's own columns (`orderBy: { [sortBy]: 'asc' }`
  // with sortBy typed 'name' | 'createdAt'), in the query's own where (at its top) or selection:
  // it reads or compares a column, never a relation, and not the tenant's.
  const ownColumns = u.keys !== undefined && u.keys.every((k) => scalars.has(k) && !pinning.has(k))
  const atTop = names.slice(1, -1).every((n) => LOGIC.has(n)) && last === '{…}'
  if (ownColumns && atTop && (names[0] === 'where' || SELECTION.has(names[0] ?? ''))) return 'harmless'
  // `any` written to one of the model's columns: Prisma accepts only a scalar there, so it is judged as one.
  const dataColumn = model && typeof last === 'string' && scalars.has(last) && DATA_ROOTS.has(names[0] ?? '') && path.length <= 3
  if (dataColumn && u.origin) return 'scalar'
  // Inside select/include/omit/orderBy (and not inside a filter below them) a hidden part can only
  // read more, never scope less: removing it cannot hide a finding that the rest shows.
  let lastSelection = -1
  let lastFilter = -1
  names.forEach((n, i) => {
    if (SELECTION.has(n)) lastSelection = i
    if (FILTERS.has(n)) lastFilter = i
  })
  if (lastSelection >= 0 && lastFilter < lastSelection) return 'removable'
  return 'blind'
}

/** The argument with every unknown replaced by pick's value (OMIT drops the key). */
function build(s: Sym, placed: readonly Placed[], pick: (p: Placed) => unknown, withOptional: boolean): unknown {
  const byUnknown = new Map(placed.map((p) => [p.u, p]))
  const walk = (v: Sym): unknown => {
    if (v instanceof Unknown) {
      const p = byUnknown.get(v)
      return p ? pick(p) : OMIT
    }
    if (v instanceof SymObject) {
      const o: Record<string, unknown> = {}
      const entries = withOptional ? [...v.props, ...v.optional] : v.props
      for (const [k, val] of entries) {
        const m = walk(val)
        if (m !== OMIT) o[k] = m
        else delete o[k]
      }
      return o
    }
    if (v instanceof SymArray) return (withOptional ? [...v.items, ...v.optional] : v.items).map(walk).filter((m) => m !== OMIT)
    return v
  }
  const args = walk(s)
  return args === OMIT ? undefined : args
}

const KIND_TEXT: Record<ViolationKind, string> = {
  missing_tenant_id: 'nothing in its filter or data sets the tenant field to one tenant',
  missing_relation_filter: 'its filter pins no tenant through the relation that scopes the model',
  tenant_mismatch: "it names another tenant than the request's (or several)",
  unscoped_nested_read: 'it reads these rows through a relation of an unproven (or global) parent without pinning the tenant',
  unscoped_nested_write: "it writes or links these rows without proving they are the tenant's",
  unscoped_relation_filter: 'it filters or orders through a relation that reaches every tenant',
  unverified_reference: "it sets a foreign key to a row it does not prove is the tenant's",
  raw_query: 'raw SQL: the runtime check cannot inspect it (rawQueries.policy is violation)',
  unknown_operation: 'an operation the runtime check does not know',
  inspection_error: 'the runtime check failed on it',
}

function explain(f: JudgedFinding, judges: Judges): string {
  const where = f.path ? ` at ${f.path}` : ''
  const policy = f.wide && judges.wide ? judges.wide : (judges.levels.find((l) => l.name === f.level) ?? judges.levels[0]!).policy
  const p = policy.models.get(f.model)
  const level = f.level ? ` (${f.level} level${f.wide ? `, ${judges.levels[0]!.name}-wide` : ''})` : ''
  const how = p?.kind === 'relation' ? ` (${f.model} is scoped through \`${p.via}\`)` : p?.kind === 'field' ? ` (${f.model} is scoped by \`${p.field}\`)` : ''
  // An organisation-wide finding with a detail says itself how the model is scoped there (or that it cannot be).
  if (f.wide && f.detail) return `${f.violation} on ${f.model}${level}${where}: ${KIND_TEXT[f.violation]}; ${f.detail}`
  return `${f.violation} on ${f.model}${level}${where}: ${KIND_TEXT[f.violation]}${how}`
}
