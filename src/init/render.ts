// A Proposal as the text of a starter tenantfence.config.ts: every choice init made is visible
// and commented, so the team reviews a file rather than trusting a tool.
import type { Proposal } from './propose.ts'

export interface RenderOptions {
  /** where the schema was read from, for the header */
  schema: string
  /** the app's name (package.json name), for app.name and app.job */
  appName: string
  /** the module defineConfig is imported from (default 'tenantfence') */
  importFrom?: string
}

export function renderConfig(p: Proposal, o: RenderOptions): string {
  const job = o.appName.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'app'
  const levels = p.levels
  // Two levels: every model says its level, so the file reads on its own (audit checks they agree with via).
  const level = (m: string) => (levels && p.levelOf?.[m] ? `, level: '${p.levelOf[m]}'` : '')
  const fieldOf = (m: string) => (levels ? levels.find((l) => l.name === p.levelOf?.[m]) ?? levels[1] : undefined)
  const models: string[] = []
  for (const m of p.fieldScoped) {
    const own = p.ownFields[m]
    const entry = own ? `{ severity: 'TO_REVIEW'${level(m)}, field: '${own}' }` : `{ severity: 'TO_REVIEW'${level(m)} }`
    const owner = fieldOf(m)?.model ?? p.tenant.model
    let note = own ? `its own key to ${owner} is ${own}` : `has ${fieldOf(m)?.field ?? p.tenant.field}`
    if (levels && p.bothKeys?.includes(m)) {
      const [upper, lower] = levels
      note =
        `review: holds keys of both levels (to ${upper.model} and to ${lower.model}): put at the ${lower.name} level, ` +
        `the stricter (each ${lower.name} reads only its own rows)`
    }
    models.push(`  ${m}: ${entry}, // ${note}`)
  }
  for (const r of p.relationScoped) {
    const notes = r.ownerKey
      ? [`review: owned through ${r.target}.${r.ownerKey}, a unique key ${r.target} holds (one-to-one); a row no ${r.target} points at belongs to no tenant`]
      : [`through ${r.via} → ${r.target}`]
    if (r.optional && !r.ownerKey) notes.push(`optional relation: a row with no ${r.via} belongs to no tenant`)
    if (r.alternatives.length) notes.push(`other relations to tenant-owned models: ${r.alternatives.join(', ')}`)
    models.push(`  ${r.model}: { severity: 'TO_REVIEW'${level(r.model)}, via: '${r.via}' }, // ${notes.join('; ')}`)
  }
  const globals = p.globalCandidates.map((g) => `    '${g.model}', // review: ${g.note}`)
  const modelType = `{ severity: Severity | 'TO_REVIEW'; via?: string; field?: string${levels ? '; level?: string' : ''} }`
  const tenancy = levels
    ? `// Two levels of tenancy: ${levels[0].model} above ${levels[1].model} (${levels[1].model}.${levels[1].parent} leads to its
// ${levels[0].model}). A request names one id per level
// (tenantIds: { ${levels[0].name}, ${levels[1].name} }); see the docs on two levels. To keep one level, run init
// again with --tenant-model ${levels[1].model} (or ${levels[0].model}).
const levels: Array<{ name: string; model: string; field: string; idField: string; severity: Severity; parent?: string }> = [
  { name: '${levels[0].name}', model: '${levels[0].model}', field: '${levels[0].field}', idField: '${levels[0].idField}', severity: 'HIGH' },
  { name: '${levels[1].name}', model: '${levels[1].model}', field: '${levels[1].field}', idField: '${levels[1].idField}', severity: 'HIGH', parent: '${levels[1].parent}' },
]`
    : `const tenant = { model: '${p.tenant.model}', field: '${p.tenant.field}', idField: '${p.tenant.idField}', severity: 'HIGH' } as const`
  return `// tenantfence config, written by \`tenantfence init\` from ${o.schema}.
// Review it: init read the schema's relations, it does not know your data. Check each model's
// classification, set the severities, then run \`npx tenantfence audit\` after every schema change.
import { defineConfig, type Severity } from '${o.importFrom ?? 'tenantfence'}'

// Severities are for your team to set, model by model: CRITICAL (credentials, personal data: blocked
// first, in phase 2), HIGH, MEDIUM or LOW. Every model starts at 'TO_REVIEW': the config runs (as
// MEDIUM) but \`tenantfence audit\` lists each model still at it until you choose.

${tenancy}

const models: Record<string, ${modelType}> = {
${models.join('\n')}
}

// Thresholds, the five phases (flags, alerts, success criteria) and the rollback are the rollout
// document's: phase 2 blocks the CRITICAL models and logs the others. Override any part here
// (see docs/config.md).
export default defineConfig({
  app: { name: '${o.appName.replace(/'/g, "\\'")}', job: '${job}' }, // job: your Prometheus scrape job; add runbookBaseUrl: your runbook wiki
  ${levels ? 'levels' : 'tenant'},
  models,
  // Global candidates: no tenant field and no foreign key to tenant-owned data. Keep a model here
  // only if its rows are truly shared by every tenant; otherwise move it to models.
  globalModels: [
${globals.join('\n')}
  ],
})
`
}
