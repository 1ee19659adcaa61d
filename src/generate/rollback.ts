// The instant rollback as a command an on-call engineer can paste, built from config.rollback
// by the same renderer as `tenantfence phase rollback --kubectl`.
import type { TenantFenceConfig } from '../config/schema.ts'
import { stringifyFlags } from '../config/define.ts'
import { renderEnv } from '../config/flag-env.ts'

/** `kubectl set env deployment/<job> TENANT_ENFORCEMENT_MODE=log_only` (the job names the deployment). */
export function rollbackCommand(config: TenantFenceConfig, deployment = config.app.job): string {
  return renderEnv(stringifyFlags(config.rollback.flags), { kubectl: `deployment/${deployment}` }).trimEnd()
}
