// The levels of tenancy of a config, in one shape: a one-level config (tenant.model/field) is one
// level named "tenant"; a two-level config (levels) is its upper level, then its lower one. Code
// that works per level (the check, row-level security, init, the scan, metrics) reads this, never
// `config.tenant.model` directly, so one-level and two-level configs take the same path.
import { defaultLevelSetting, RLS_DEFAULTS, type Severity, type TenantFenceConfig } from './schema.ts'

/** The level name of a one-level config (the `level` label and log field). */
export const SINGLE_LEVEL = 'tenant'

export interface TenantLevel {
  readonly name: string
  /** the level's own model; a one-level config may have none */
  readonly model: string | undefined
  /** the field of the level's models that holds its id */
  readonly field: string
  readonly idField: string
  readonly severity: Severity
  /** lower level: the relation on `model` to the upper level's model */
  readonly parent: string | undefined
  /** the PostgreSQL setting that carries the level's id (rls) */
  readonly rlsSetting: string
}

/** The config's levels, upper first: one for a one-level config, two with `levels`. */
export function tenantLevels(config: TenantFenceConfig): readonly TenantLevel[] {
  if (config.levels === undefined) {
    const t = config.tenant
    return [{ name: SINGLE_LEVEL, model: t.model, field: t.field, idField: t.idField, severity: t.severity, parent: undefined, rlsSetting: (config.rls ?? RLS_DEFAULTS).setting }]
  }
  return config.levels.map((l) => ({
    name: l.name,
    model: l.model,
    field: l.field,
    idField: l.idField,
    severity: l.severity,
    parent: l.parent,
    rlsSetting: l.rlsSetting ?? defaultLevelSetting(l.name),
  }))
}

/** Does the config have two levels of tenancy? */
export function isTwoLevel(config: TenantFenceConfig): boolean {
  return config.levels !== undefined
}
