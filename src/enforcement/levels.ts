// Two levels of tenancy as two one-level configs (docs/levels.md). An organisation's rows are
// checked by the upper level's config (its models, and the lower level's model, Team, as an
// organisation-owned row); a team's rows by the lower level's (its models, Team as the tenant
// model). Each is a plain one-level config, so everything the one-level check proves (nested
// writes, references, oracles, transactions, selective mode) holds per level with no new walk.
import { TenantConfigError } from '../config/define.ts'
import { tenantLevels, type TenantLevel } from '../config/levels.ts'
import type { ModelPolicyConfig, TenantFenceConfig } from '../config/schema.ts'
import { describeInvalid } from '../config/suggest.ts'
import type { DataModel } from './datamodel.ts'

/**
 * The level of each tenant-owned model and of each level's own model (by name). A model's level is
 * its `level`, else the level whose field it names, else its `via` target's, else the lower level
 * (the stricter: its rows need their team). A model whose `level` and `via` lead to two levels is refused.
 */
export function modelLevels(config: TenantFenceConfig, datamodel: DataModel): ReadonlyMap<string, string> {
  const levels = tenantLevels(config)
  const out = new Map<string, string>()
  if (levels.length === 1) {
    for (const name of Object.keys(config.models)) out.set(name, levels[0]!.name)
    if (levels[0]!.model) out.set(levels[0]!.model, levels[0]!.name)
    return out
  }
  for (const l of levels) out.set(l.model!, l.name)
  const problems: string[] = []
  const resolving = new Set<string>()
  const resolve = (name: string): string | undefined => {
    const known = out.get(name)
    if (known !== undefined) return known
    const cfg = config.models[name]
    if (cfg === undefined) return undefined
    if (resolving.has(name)) return undefined // a via cycle: compilePolicy names it
    resolving.add(name)
    let level = ownLevel(cfg, levels)
    if (cfg.via !== undefined) {
      const target = datamodel.models[name]?.fields.find((f) => f.name === cfg.via && f.kind === 'object')?.type
      const reached = target === undefined ? undefined : resolve(target)
      if (reached !== undefined && level !== undefined && reached !== level) {
        problems.push(`models.${name}: says level "${level}", but its via "${cfg.via}" leads to ${target}, a row of the ${reached} level; a model belongs to one level`)
      }
      level ??= reached
    }
    resolving.delete(name)
    if (cfg.via === undefined) level ??= levels[levels.length - 1]!.name
    if (level !== undefined) out.set(name, level)
    return level
  }
  for (const name of Object.keys(config.models)) {
    if (resolve(name) === undefined && !problems.some((p) => p.startsWith(`models.${name}:`))) {
      const via = config.models[name]!.via
      problems.push(`models.${name}: reaches no level${via ? ` (its via "${via}" leads to no tenant-owned model)` : ''}; give level: ${levels.map((l) => `'${l.name}'`).join(' or ')}`)
    }
  }
  if (problems.length) throw new TenantConfigError(`tenantfence config does not match the Prisma schema:\n${problems.map((p) => `  ✖ ${p}`).join('\n')}`)
  return out
}

function ownLevel(cfg: ModelPolicyConfig, levels: readonly TenantLevel[]): string | undefined {
  if (cfg.level !== undefined) return cfg.level
  if (cfg.field !== undefined) return levels.find((l) => l.field === cfg.field)?.name
  return undefined
}

/**
 * The foreign key field on the lower level's model that holds the upper level's id (Team.organizationId,
 * through its `parent` relation). Refused when the relation is missing, leads elsewhere, or has a
 * compound key.
 */
export function parentKey(config: TenantFenceConfig, datamodel: DataModel): string {
  const [upper, lower] = tenantLevels(config) as [TenantLevel, TenantLevel]
  const fields = datamodel.models[lower.model!]?.fields ?? []
  const relations = fields.filter((f) => f.kind === 'object')
  const rel = relations.find((f) => f.name === lower.parent)
  const where = `levels[1].parent`
  if (!datamodel.models[lower.model!]) throw new TenantConfigError(`tenantfence config does not match the Prisma schema:\n  ✖ levels[1].model: ${describeInvalid('the schema', lower.model!, Object.keys(datamodel.models))}`)
  if (!rel) throw new TenantConfigError(`tenantfence config does not match the Prisma schema:\n  ✖ ${where}: ${describeInvalid(lower.model!, lower.parent!, relations.map((f) => f.name))}`)
  if (rel.type !== upper.model) throw new TenantConfigError(`tenantfence config does not match the Prisma schema:\n  ✖ ${where}: ${lower.model}.${rel.name} leads to ${rel.type}, not to ${upper.model} (the ${upper.name} level's model)`)
  const key = rel.relationFromFields ?? []
  if (key.length !== 1 || rel.isList) throw new TenantConfigError(`tenantfence config does not match the Prisma schema:\n  ✖ ${where}: ${lower.model}.${rel.name} must hold a single-field foreign key to ${upper.model} (it has ${key.length === 0 ? 'none on this side' : key.join(', ')})`)
  return key[0]!
}

/**
 * The one-level config that checks one level's rows: its models (with the level's field by default)
 * and its model as the tenant model. The upper level's also holds the lower level's model, owned by
 * its parent key (a team is a row of its organisation). Other levels' models are left out: for this
 * config they are global, and the other level's config checks them.
 */
export function levelConfig(config: TenantFenceConfig, datamodel: DataModel, name: string): TenantFenceConfig {
  const levels = tenantLevels(config)
  const level = levels.find((l) => l.name === name)
  if (level === undefined) throw new TenantConfigError(`tenantfence: ${describeInvalid('level', name, levels.map((l) => l.name))}`)
  if (levels.length === 1) return config
  const of = modelLevels(config, datamodel)
  const models: Record<string, ModelPolicyConfig> = {}
  for (const [m, cfg] of Object.entries(config.models)) {
    if (of.get(m) !== name) continue
    const { level: _level, ...rest } = cfg
    models[m] = cfg.via === undefined ? { ...rest, field: cfg.field ?? level.field } : rest
  }
  const lower = levels[1]!
  if (name === levels[0]!.name) models[lower.model!] = { severity: lower.severity, field: parentKey(config, datamodel) }
  const { levels: _levels, ...rest } = config
  return { ...rest, tenant: { ...config.tenant, model: level.model, field: level.field, idField: level.idField, severity: level.severity }, models } as TenantFenceConfig
}
