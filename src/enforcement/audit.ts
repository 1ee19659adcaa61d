// Which schema models look tenant-owned but are not classified by the config, and which config
// entries name models the schema no longer has? A model the config forgot is a model nobody
// checks; a stale entry hides a rename (the renamed model is then the forgotten one). The audit
// names both at start-up and in the CLI.
import { tenantLevels } from '../config/levels.ts'
import type { TenantFenceConfig } from '../config/schema.ts'
import type { DataModel } from './datamodel.ts'

export interface AuditFinding {
  model: string
  /** `unclassified`: a schema model the config does not name; `stale`: a config entry the schema does not have */
  kind: 'unclassified' | 'stale'
  reason: string
}

export function auditModels(config: TenantFenceConfig, datamodel: DataModel): AuditFinding[] {
  const owned = new Set(Object.keys(config.models))
  // One level: the tenant model and field; two levels: each level's (a row holding either is tenant data).
  const levels = tenantLevels(config)
  const levelModels = levels.flatMap((l) => (l.model ? [l.model] : []))
  const known = new Set([...owned, ...config.globalModels, ...levelModels])
  const out: AuditFinding[] = []
  for (const [name, model] of Object.entries(datamodel.models)) {
    if (known.has(name)) continue
    const level = levels.find((l) => model.fields.some((f) => f.kind === 'scalar' && f.name === l.field))
    const relations = model.fields.filter((f) => f.kind === 'object' && (owned.has(f.type) || levelModels.includes(f.type)))
    if (level) out.push({ model: name, kind: 'unclassified', reason: `has a "${level.field}" field${levels.length > 1 ? ` (the ${level.name} level's)` : ''}` })
    else if (relations.length) out.push({ model: name, kind: 'unclassified', reason: `relates to tenant-owned ${relations.map((r) => `${r.type} (${r.name})`).join(', ')}` })
  }
  const stale = (model: string, where: string) => out.push({ model, kind: 'stale', reason: `is listed in ${where} but the schema has no such model (renamed or removed?)` })
  for (const g of config.globalModels) if (!datamodel.models[g]) stale(g, 'globalModels')
  for (const m of owned) if (!datamodel.models[m]) stale(m, 'models')
  for (const m of levelModels) if (!datamodel.models[m]) stale(m, levels.length > 1 ? 'levels' : 'tenant.model')
  return out
}

/** One line for a log or a terminal: how many of each kind, and which models. */
export function auditSummary(findings: readonly AuditFinding[]): string {
  const names = (kind: AuditFinding['kind']) => findings.filter((f) => f.kind === kind).map((f) => f.model)
  const parts: string[] = []
  const unclassified = names('unclassified')
  const stale = names('stale')
  if (unclassified.length) parts.push(`${unclassified.length} model(s) look tenant-owned but are not in the config: ${unclassified.join(', ')}`)
  if (stale.length) parts.push(`${stale.length} config entr${stale.length === 1 ? 'y names a model' : 'ies name models'} the schema does not have (stale): ${stale.join(', ')}`)
  return parts.join('; ')
}
