// Which schema models look tenant-owned but are not classified by the config? A model the
// config forgot is a model nobody checks: the audit names them at start-up and in the CLI.
import type { TenantFenceConfig } from '../config/schema.ts'
import type { DataModel } from './datamodel.ts'

export interface AuditFinding {
  model: string
  reason: string
}

export function auditModels(config: TenantFenceConfig, datamodel: DataModel): AuditFinding[] {
  const owned = new Set(Object.keys(config.models))
  const known = new Set([...owned, ...config.globalModels, ...(config.tenant.model ? [config.tenant.model] : [])])
  const out: AuditFinding[] = []
  for (const [name, model] of Object.entries(datamodel.models)) {
    if (known.has(name)) continue
    const tenantField = model.fields.find((f) => f.kind === 'scalar' && f.name === config.tenant.field)
    const relations = model.fields.filter((f) => f.kind === 'object' && (owned.has(f.type) || f.type === config.tenant.model))
    if (tenantField) out.push({ model: name, reason: `has a "${config.tenant.field}" field` })
    else if (relations.length) out.push({ model: name, reason: `relates to tenant-owned ${relations.map((r) => `${r.type} (${r.name})`).join(', ')}` })
  }
  for (const g of config.globalModels) if (!datamodel.models[g]) out.push({ model: g, reason: 'is listed in globalModels but not in the schema' })
  return out
}
