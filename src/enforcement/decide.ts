// decide(finding, action): what happens to a query. Pure and tiny on purpose.
import type { ModelAction } from '../config/flags.ts'
import type { Finding } from './inspect.ts'

export type Decision = 'allow' | 'log' | 'block'

/** A scoped query is allowed; a violation is logged or blocked as the model's action says. */
export function decide(finding: Finding | null, action: ModelAction): Decision {
  if (finding === null || action === 'off') return 'allow'
  return action
}
