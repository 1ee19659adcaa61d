// The instant rollback as a command an on-call engineer can paste, built from config.rollback
// by the same renderer as `tenantfence phase rollback --kubectl`.
import type { TenantFenceConfig } from '../config/schema.ts'
import { stringifyFlags } from '../config/define.ts'
import { renderEnv } from '../config/flag-env.ts'

/** The workload the rollback targets: the app's job (or its name), as a Kubernetes name. */
export function deploymentName(config: TenantFenceConfig): string {
  const name = (config.app.job ?? config.app.name).toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
  return name || 'app'
}

/** `kubectl set env deployment/<job> TENANT_ENFORCEMENT_MODE=log_only`. */
export function rollbackCommand(config: TenantFenceConfig, deployment = deploymentName(config)): string {
  return renderEnv(stringifyFlags(config.rollback.flags), { kubectl: `deployment/${deployment}` }).trimEnd()
}
