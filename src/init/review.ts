// What `tenantfence audit` checks beyond "is every model classified": whether the config's tenant
// is the one the schema supports, which severities init left for the team to set, and which global
// models tenant-owned rows point at (a one-to-one whose unique key the owner holds makes the row
// owned: left global it is never checked; a many-to-one is a shared row, listed for review).
// With two levels: whether every model's level resolves, and what each level's choice implies.
import { TenantConfigError } from '../config/define.ts'
import { isTwoLevel, tenantLevels } from '../config/levels.ts'
import type { TenantFenceConfig } from '../config/schema.ts'
import type { DataModel } from '../enforcement/datamodel.ts'
import { modelLevels, parentKey } from '../enforcement/levels.ts'
import { chooseTenant, describeCandidate, rankTenantCandidates, reachers, TenantUnclearError } from './propose.ts'

export interface ReviewFinding {
  model: string
  /**
   * `tenant_choice`: the config's tenant is not the best-supported candidate; `severity_unset`: still at
   * init's 'TO_REVIEW'; `owned_global`: global, but a tenant-owned row holds a unique key to it (1:1);
   * `shared`: global, pointed at many-to-one by tenant-owned rows (a note, not a problem).
   * Two levels: `level_unresolved`: a model whose level cannot be resolved or is inconsistent (or a bad
   * parent); `level_review`: an upper-level model that holds the lower level's key too (a note);
   * `org_scope_unproven`: a lower-level model the organisation-wide scope cannot prove (a note: every
   * query on it is refused in that scope).
   */
  kind: 'tenant_choice' | 'severity_unset' | 'owned_global' | 'shared' | 'level_unresolved' | 'level_review' | 'org_scope_unproven'
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
  if (isTwoLevel(config)) out.push(...reviewLevels(config, datamodel))
  const levelModels = tenantLevels(config).flatMap((l) => (l.model ? [l.model] : []))
  const owners = [...Object.keys(config.models), ...levelModels]
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

/** The kinds `audit` lists without failing: notes for the team to read, not problems. */
export const REVIEW_NOTES: ReadonlySet<ReviewFinding['kind']> = new Set(['shared', 'level_review', 'org_scope_unproven'])

/**
 * Two levels: each model's level must resolve (modelLevels' rules, its own message); an upper-level
 * model holding the lower level's key is worth a second look; and a lower-level model the
 * organisation-wide scope cannot prove (no upper field of its own, no relation to the lower model on
 * its key, no via chain ending at one that can) is refused in an organisation admin's scope.
 */
function reviewLevels(config: TenantFenceConfig, datamodel: DataModel): ReviewFinding[] {
  const [upper, lower] = tenantLevels(config) as [ReturnType<typeof tenantLevels>[number], ReturnType<typeof tenantLevels>[number]]
  const out: ReviewFinding[] = []
  const unresolved = (err: unknown, fallback: string) => {
    if (!(err instanceof TenantConfigError)) throw err
    for (const line of err.message.split('\n').filter((l) => l.includes('✖'))) {
      const m = /✖ models\.(\w+): (.*)$/.exec(line)
      out.push({ model: m?.[1] ?? fallback, kind: 'level_unresolved', reason: m ? m[2]! : line.replace(/^\s*✖\s*/, '') })
    }
  }
  try {
    parentKey(config, datamodel)
  } catch (err) {
    unresolved(err, lower.model!)
  }
  let of: ReadonlyMap<string, string>
  try {
    of = modelLevels(config, datamodel)
  } catch (err) {
    unresolved(err, '(levels)')
    return out
  }
  const scalar = (model: string, field: string) => datamodel.models[model]?.fields.some((f) => f.kind === 'scalar' && f.name === field) === true
  const keyTo = (model: string, target: string, key?: string) =>
    datamodel.models[model]?.fields.find((f) => f.kind === 'object' && f.type === target && !f.isList && (f.relationFromFields ?? []).length === 1 && (key === undefined || f.relationFromFields![0] === key))
  for (const [name, cfg] of Object.entries(config.models)) {
    if (of.get(name) !== upper.name) continue
    const held = scalar(name, lower.field) ? lower.field : keyTo(name, lower.model!)?.relationFromFields?.[0]
    if (held === undefined) continue
    out.push({
      model: name,
      kind: 'level_review',
      reason:
        `is at the ${upper.name} level${cfg.level ? '' : ` (by its ${cfg.via ? `via "${cfg.via}"` : 'field'})`}, but holds ${held}, a key of the ${lower.name} level, too: ` +
        `every member of the ${upper.name} reads the rows of each of its ${lower.name}s. Review: at the ${lower.name} level (level: '${lower.name}') each ${lower.name} reads its own`,
    })
  }
  // Can the organisation-wide scope prove this lower-level model's rows? (memo; a via cycle proves nothing)
  const proven = new Map<string, boolean>()
  const provable = (name: string): boolean => {
    if (name === lower.model) return true // by its parent key
    const known = proven.get(name)
    if (known !== undefined) return known
    const cfg = config.models[name]
    if (cfg === undefined || of.get(name) !== lower.name) return false
    proven.set(name, false)
    let ok: boolean
    if (cfg.via !== undefined) {
      const target = datamodel.models[name]?.fields.find((f) => f.kind === 'object' && f.name === cfg.via)?.type
      ok = target !== undefined && (of.get(target) === upper.name || provable(target))
    } else ok = scalar(name, upper.field) || keyTo(name, lower.model!, cfg.field ?? lower.field) !== undefined
    proven.set(name, ok)
    return ok
  }
  for (const [name, cfg] of Object.entries(config.models)) {
    if (of.get(name) !== lower.name || provable(name)) continue
    const how = cfg.via !== undefined ? `its via "${cfg.via}" leads to rows it cannot prove` : `it has no ${upper.field} and no relation to ${lower.model} on its ${cfg.field ?? lower.field}`
    const better = (datamodel.models[name]?.fields ?? [])
      .filter((f) => f.kind === 'object' && !f.isList && f.isRequired === true && (f.relationFromFields ?? []).length > 0 && f.name !== cfg.via && provable(f.type))
      .map((f) => `via: '${f.name}'`)
    out.push({
      model: name,
      kind: 'org_scope_unproven',
      reason:
        `is a ${lower.name}-level row the ${upper.name}-wide scope cannot prove (${how}): every query on it is refused in that scope (scope: '${upper.name}'). ` +
        `To let ${upper.name} admins read it: add ${upper.field} or a relation to ${lower.model}` +
        (better.length ? `, or give it ${better.join(' or ')} (then its rows are proven through that relation, in every scope, not by their ${cfg.field ?? lower.field})` : ''),
    })
  }
  return out
}
