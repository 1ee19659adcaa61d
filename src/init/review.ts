// What `tenantfence audit` checks beyond "is every model classified": whether the config's tenant
// is the one the schema supports, which severities init left for the team to set, and which global
// models tenant-owned rows point at (a one-to-one whose unique key the owner holds makes the row
// owned: left global it is never checked; a many-to-one is a shared row, listed for review).
import type { TenantFenceConfig } from '../config/schema.ts'
import type { DataModel } from '../enforcement/datamodel.ts'
import { chooseTenant, describeCandidate, rankTenantCandidates, reachers, TenantUnclearError } from './propose.ts'

export interface ReviewFinding {
  model: string
  /**
   * `tenant_choice`: the config's tenant is not the best-supported candidate; `severity_unset`: still at
   * init's 'TO_REVIEW'; `owned_global`: global, but a tenant-owned row holds a unique key to it (1:1);
   * `shared`: global, pointed at many-to-one by tenant-owned rows (a note, not a problem).
   */
  kind: 'tenant_choice' | 'severity_unset' | 'owned_global' | 'shared'
  reason: string
}

export function reviewConfig(config: TenantFenceConfig, datamodel: DataModel): ReviewFinding[] {
  const out: ReviewFinding[] = []
  const root = config.tenant.model
  if (root && datamodel.models[root]) {
    const ranking = rankTenantCandidates(datamodel)
    let supported: readonly string[] = []
    try {
      supported = ranking.length ? [chooseTenant(ranking, reachers(datamodel))] : []
    } catch (err) {
      if (!(err instanceof TenantUnclearError)) throw err
      supported = err.candidates
    }
    if (supported.length && !supported.includes(root)) {
      const mine = ranking.find((c) => c.model === root)
      const best = ranking.filter((c) => supported.includes(c.model)).map(describeCandidate).join('; ')
      out.push({
        model: root,
        kind: 'tenant_choice',
        reason:
          `is the config's tenant, but the schema's relations support ${supported.join(' or ')} (${best}); ` +
          `${root}: ${mine ? describeCandidate(mine).replace(/^[^:]+: /, '') : 'no model holds a required key to it'}. ` +
          `Check tenant.model (\`npx tenantfence init --tenant-model ${supported[0]}\` shows that classification)`,
      })
    }
  }
  for (const [name, m] of Object.entries(config.models)) {
    if ('severityToReview' in m) {
      out.push({ model: name, kind: 'severity_unset', reason: `has severity 'TO_REVIEW' (runs as MEDIUM): set CRITICAL, HIGH, MEDIUM or LOW` })
    }
  }
  const owners = [...Object.keys(config.models), ...(root ? [root] : [])]
  const global = new Set(config.globalModels)
  for (const owner of owners) {
    const model = datamodel.models[owner]
    if (!model) continue
    for (const f of model.fields) {
      const key = f.relationFromFields ?? []
      if (f.kind !== 'object' || key.length === 0 || f.isList || !global.has(f.type)) continue
      const unique = (model.uniques ?? []).some((u) => u.fields.length === key.length && u.fields.every((k) => key.includes(k)))
      const back = datamodel.models[f.type]!.fields.find((b) => b.type === owner && b.relationName === f.relationName && !b.relationFromFields?.length)
      if (unique) {
        out.push({
          model: f.type,
          kind: 'owned_global',
          reason:
            `is global, but tenant-owned ${owner} holds a unique key to it (${owner}.${key.join('+')}: one-to-one, owned, review): ` +
            `each row belongs to the ${owner} that points at it. Move it to models with via: '${back?.name ?? `<its relation to ${owner}>`}'`,
        })
      } else {
        out.push({ model: f.type, kind: 'shared', reason: `← ${owner}.${f.name} (${key.join('+')}, many-to-one: shared)` })
      }
    }
  }
  return out
}
