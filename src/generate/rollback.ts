// The instant rollback as a command an on-call engineer can paste, built from config.rollback.
import type { TenantFenceConfig } from '../config/schema.ts'
import { stringifyFlags } from '../config/define.ts'

/** `kubectl set env deployment/<job> TENANT_ENFORCEMENT_MODE=log_only` (the job names the deployment). */
export function rollbackCommand(config: TenantFenceConfig, deployment = config.app.job): string {
  const assignments = Object.entries(stringifyFlags(config.rollback.flags)).map(([k, v]) => `${k}=${shellQuote(v)}`)
  return `kubectl set env deployment/${deployment} ${assignments.join(' ')}`
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_,.:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}
