// decide: what happens to a query. Pure and tiny on purpose.
import type { ModelAction } from '../config/flags.ts'
import type { Finding } from './inspect.ts'

export type Decision = 'allow' | 'log' | 'block'

/** One finding under one model action: allowed, logged or blocked as the action says. */
export function decide(finding: Finding | null, action: ModelAction): Decision {
  if (finding === null || action === 'off') return 'allow'
  return action
}

export interface QueryDecision {
  readonly decision: Decision
  /**
   * The finding the query is counted and logged under (one violation per query): the first whose
   * model is blocked when the query is blocked (the error names it), else the first logged one.
   */
  readonly primary: Finding | undefined
  /** the other findings whose model is not off: listed on the same log line */
  readonly related: readonly Finding[]
}

const RANK: Record<ModelAction, number> = { off: 0, log: 1, block: 2 }
const stronger = (a: ModelAction, b: ModelAction): ModelAction => (RANK[b] > RANK[a] ? b : a)

const ALLOW: QueryDecision = Object.freeze({ decision: 'allow', primary: undefined, related: [] })

/**
 * A query's decision over all its findings: the strongest action among their models (block over
 * log over off), so that a logged or unwatched model cannot carry a blocked model's rows out.
 */
export function decideQuery(findings: readonly Finding[], actionOf: (model: string) => ModelAction): QueryDecision {
  let decision: Decision = 'allow'
  let blocking: Finding | undefined
  let reported: Finding[] | undefined
  for (const f of findings) {
    // A link across tenants exposes both of its ends: the stronger of their actions.
    const own = actionOf(f.model)
    const action = f.linked === undefined || own === 'block' ? own : stronger(own, actionOf(f.linked))
    if (action === 'off') continue
    ;(reported ??= []).push(f)
    if (action === 'block') {
      decision = 'block'
      blocking ??= f
    } else if (decision === 'allow') decision = 'log'
  }
  if (reported === undefined) return ALLOW
  const primary = blocking ?? reported[0]!
  return { decision, primary, related: reported.length === 1 ? [] : reported.filter((f) => f !== primary) }
}
