// Flags as shell text: KEY=value lines or one `kubectl set env` command. Shared by
// `tenantfence phase env|rollback` and the rollback command in generated alerts and runbooks.
import { FLAG_NAMES } from './flags.ts'

/** Quote a shell word only when it needs it. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_.,:/=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/**
 * KEY=value lines, or `kubectl set env <target> KEY=value ...`. With `unsetOthers`, the kubectl
 * form also removes the TENANT_ENFORCEMENT_* flags this set does not name (`KEY-`), so the
 * workload ends up with exactly these flags and no list left over from an earlier phase.
 */
export function renderEnv(flags: Record<string, string>, opts: { kubectl?: string; unsetOthers?: boolean } = {}): string {
  const pairs = Object.entries(flags).map(([k, v]) => `${k}=${shellWord(v)}`)
  if (!opts.kubectl) return pairs.join('\n') + '\n'
  const unset = opts.unsetOthers ? FLAG_NAMES.filter((f) => !(f in flags)).map((f) => `${f}-`) : []
  return `kubectl set env ${opts.kubectl} ${[...pairs, ...unset].join(' ')}\n`
}
