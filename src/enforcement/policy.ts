// Compile the config and the data model into the lookup tables the inspector walks: done once
// per client, so a query costs property reads, not config lookups.
import type { Severity, TenantFenceConfig } from '../config/schema.ts'
import { TenantConfigError } from '../config/define.ts'
import { describeInvalid } from '../config/suggest.ts'
import type { DataModel } from './datamodel.ts'

export type ScopeKind = 'field' | 'relation' | 'root' | 'global'

export interface ModelPolicy {
  readonly name: string
  readonly kind: ScopeKind
  readonly severity: Severity
  /** kind field: the tenant column; kind root: the id column of the tenant model */
  readonly field: string
  /** kind relation: the relation that leads to the tenant */
  readonly via: string
  /** kind relation: the policy of the relation's target */
  target: ModelPolicy | undefined
  /** relation field name -> target model name, for include/select and nested writes */
  readonly relations: ReadonlyMap<string, string>
  /** kind field: the relation to the tenant model, if any (`tenant: { connect: { id } }`) */
  readonly tenantRelation: string | undefined
  /** true when some relation leads to a tenant-owned model (nested reads/writes to check) */
  readonly reachesTenantData: boolean
}

export interface Policy {
  readonly models: ReadonlyMap<string, ModelPolicy>
  /** tenant-owned model names, in config order */
  readonly tenantOwned: readonly string[]
  readonly rawSeverity: Severity
  readonly rawPolicy: 'violation' | 'allow'
}

export function compilePolicy(config: TenantFenceConfig, datamodel: DataModel): Policy {
  const schemaModels = Object.keys(datamodel.models)
  const problems: string[] = []
  for (const name of Object.keys(config.models)) {
    if (!datamodel.models[name]) problems.push(`models: ${describeInvalid('the config', name, schemaModels)}`)
  }
  const relationsOf = (name: string) =>
    new Map((datamodel.models[name]?.fields ?? []).filter((f) => f.kind === 'object').map((f) => [f.name, f.type] as const))

  const models = new Map<string, ModelPolicy>()
  for (const name of schemaModels) {
    const cfg = config.models[name]
    const relations = relationsOf(name)
    const isRoot = config.tenant.model === name
    const kind: ScopeKind = cfg ? (cfg.via ? 'relation' : 'field') : isRoot ? 'root' : 'global'
    const field = kind === 'root' ? config.tenant.idField : (cfg?.field ?? config.tenant.field)
    if (kind === 'field' && !datamodel.models[name]!.fields.some((f) => f.name === field)) {
      problems.push(`models.${name}: has no field "${field}"; give "field" or "via" (fields: ${datamodel.models[name]!.fields.map((f) => f.name).join(', ')})`)
    }
    if (kind === 'relation' && !relations.has(cfg!.via!)) {
      problems.push(`models.${name}.via: ${describeInvalid(name, cfg!.via!, [...relations.keys()])}`)
    }
    const tenantRelation = config.tenant.model ? [...relations].find(([, t]) => t === config.tenant.model)?.[0] : undefined
    models.set(name, {
      name,
      kind,
      severity: cfg?.severity ?? 'LOW',
      field,
      via: cfg?.via ?? '',
      target: undefined,
      relations,
      tenantRelation,
      reachesTenantData: false,
    })
  }
  if (problems.length) throw new TenantConfigError(`tenantfence config does not match the Prisma schema:\n${problems.map((p) => `  ✖ ${p}`).join('\n')}`)

  const tenantOwned = Object.keys(config.models)
  for (const p of models.values()) {
    const mutable = p as { -readonly [K in keyof ModelPolicy]: ModelPolicy[K] }
    if (p.kind === 'relation') {
      const target = models.get(p.relations.get(p.via)!)
      if (!target || (target.kind !== 'field' && target.kind !== 'relation' && target.kind !== 'root')) {
        throw new TenantConfigError(`models.${p.name}.via: relation "${p.via}" leads to ${target?.name ?? 'nothing'}, which is not tenant-owned; scope through a tenant-owned model`)
      }
      mutable.target = target
    }
    mutable.reachesTenantData = [...p.relations.values()].some((t) => tenantOwned.includes(t))
  }
  // A cycle of `via` relations would never reach a tenant field.
  for (const p of models.values()) {
    let cur: ModelPolicy | undefined = p
    for (let hops = 0; cur?.kind === 'relation'; hops++) {
      if (hops > models.size) throw new TenantConfigError(`models.${p.name}.via: the "via" relations form a cycle and never reach a tenant field`)
      cur = cur.target
    }
  }
  return { models, tenantOwned, rawSeverity: config.rawQueries.severity, rawPolicy: config.rawQueries.policy }
}
