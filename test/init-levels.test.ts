// `tenantfence init` and `audit` with two levels of tenancy (#22): on the real apps with an
// organisation above the model their data is keyed on (Langfuse: Organization ← Project; Formbricks:
// Organization ← Workspace), init proposes both levels and gives every model the level the hand
// classification in the fixture's expected.ts gives it; the file it writes loads and compiles per
// level; `--levels` forces two levels (with "did you mean"); audit reports what two levels add.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { main } from '../src/cli.ts'
import { defineConfig } from '../src/config/define.ts'
import { loadConfig } from '../src/config/load.ts'
import { findSchema } from '../src/config/schema-files.ts'
import { auditModels } from '../src/enforcement/audit.ts'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { levelConfig, modelLevels } from '../src/enforcement/levels.ts'
import { compilePolicy } from '../src/enforcement/policy.ts'
import { InitError, proposeConfig, type Proposal } from '../src/init/propose.ts'
import { REVIEW_NOTES, reviewConfig } from '../src/init/review.ts'
import { realApps } from './fixtures/real-apps/index.ts'
import type { TwoLevels } from './fixtures/real-apps/types.ts'

const root = resolve('.')
const realAppsDir = join(root, 'test/fixtures/real-apps')
const twoLevelApps = ['langfuse', 'formbricks'] as const

let dirs: string[] = []
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs = []
  vi.restoreAllMocks()
})

async function cli(cwd: string, ...args: string[]) {
  const out: string[] = []
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')))
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')))
  vi.spyOn(process, 'cwd').mockReturnValue(cwd)
  const code = await main(args)
  vi.restoreAllMocks()
  return { code, out: out.join('\n') }
}

async function realSchema(folder: string) {
  const app = realApps[folder]!
  const source = await findSchema({ schema: join(realAppsDir, folder, app.schema), cwd: root })
  return { app, levels: app.levels!, schemaPath: join(realAppsDir, folder, app.schema), datamodel: parseSchema(source.text) }
}

/** Each model's level and ownership as init proposes them, in the shape of the hand classification. */
function proposed(p: Proposal): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of p.fieldScoped) out[m] = `${p.levelOf![m]} field${p.ownFields[m] ? ` ${p.ownFields[m]}` : ''}`
  for (const r of p.relationScoped) out[r.model] = `${r.level} via ${r.via}`
  for (const g of p.globalCandidates) out[g.model] = 'global'
  return out
}

function byHand(levels: TwoLevels): Record<string, string> {
  return Object.fromEntries(
    Object.entries(levels.models).map(([m, o]) => [m, o.kind === 'global' ? 'global' : o.kind === 'via' ? `${o.level} via ${o.via}` : `${o.level} field${o.field ? ` ${o.field}` : ''}`]),
  )
}

/** The config the two-level hand classification makes (every severity set), as a team would write it. */
function handConfig(levels: TwoLevels, change: (models: Record<string, { severity: 'HIGH'; level?: string; via?: string; field?: string }>) => void = () => {}) {
  const models: Record<string, { severity: 'HIGH'; level?: string; via?: string; field?: string }> = {}
  const globalModels: string[] = []
  for (const [m, o] of Object.entries(levels.models)) {
    if (o.kind === 'global') globalModels.push(m)
    else if (o.kind === 'via') models[m] = { severity: 'HIGH', level: o.level, via: o.via }
    else models[m] = o.field ? { severity: 'HIGH', level: o.level, field: o.field } : { severity: 'HIGH', level: o.level }
  }
  change(models)
  return defineConfig({ levels: levels.levels.map(({ reason: _reason, ...l }) => l), models, globalModels })
}

describe('init proposes two levels on the real apps with an organisation above the data', () => {
  it.each(twoLevelApps)('%s: the levels, and every model at the level the hand classification gives it', async (folder) => {
    const { levels, datamodel } = await realSchema(folder)
    // the hand classification names every model of the schema once, the two level models aside
    const levelModels = levels.levels.map((l) => l.model)
    expect(Object.keys(levels.models).sort()).toEqual(Object.keys(datamodel.models).filter((m) => !levelModels.includes(m)).sort())

    const p = proposeConfig(datamodel)
    expect(p.levels?.map((l) => ({ name: l.name, model: l.model, field: l.field, ...(l.parent ? { parent: l.parent } : {}) }))).toEqual(
      levels.levels.map(({ reason: _reason, ...l }) => l),
    )
    expect(proposed(p)).toEqual(byHand(levels))
    // models holding both levels' keys: at the lower level, flagged for review
    const review = Object.entries(levels.models).filter(([, o]) => o.kind === 'field' && o.review !== undefined).map(([m]) => m)
    expect([...p.bothKeys!].sort()).toEqual(review.sort())
  })

  it.each(twoLevelApps)('%s: the file init writes loads, each model resolves to its level, and each level compiles; audit passes once severities are set', async (folder) => {
    const { levels, schemaPath, datamodel } = await realSchema(folder)
    const [upper, lower] = levels.levels
    const dir = mkdtempSync(join(tmpdir(), 'tf-init-levels-'))
    dirs.push(dir)
    const r = await cli(dir, 'init', '--schema', schemaPath)
    expect(r.code).toBe(0)
    expect(r.out).toContain(`two levels of tenancy: ${lower.model} holds a required key to ${upper.model} (${lower.model}.${lower.parent})`)
    expect(r.out).toContain(`    ${lower.name}: ${lower.model}.id, field "${lower.field}", parent ${lower.model}.${lower.parent}`)
    const text = readFileSync(join(dir, 'tenantfence.config.ts'), 'utf8')
    expect(text).toContain(`{ name: '${upper.name}', model: '${upper.model}', field: '${upper.field}', idField: 'id', severity: 'HIGH' },`)
    expect(text).toMatch(/^ {2}levels,$/m)
    expect(text).not.toMatch(/^ {2}tenant,$/m)

    // The config as the user's project would load it (its import pointed at this checkout).
    const local = text.replace("from 'tenantfence'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`)
    writeFileSync(join(dir, 'tenantfence.config.ts'), local)
    const config = await loadConfig(undefined, dir)
    expect(config.levels?.map((l) => [l.name, l.model, l.field, l.parent])).toEqual(levels.levels.map((l) => [l.name, l.model, l.field, l.parent]))
    const of = Object.fromEntries(modelLevels(config, datamodel))
    const expected = Object.fromEntries(Object.entries(levels.models).flatMap(([m, o]) => (o.kind === 'global' ? [] : [[m, o.level]])))
    expect(of).toEqual({ ...expected, [upper.model]: upper.name, [lower.model]: lower.name })
    const upperPolicy = compilePolicy(levelConfig(config, datamodel, upper.name), datamodel)
    const lowerPolicy = compilePolicy(levelConfig(config, datamodel, lower.name), datamodel)
    // the lower level's model is a row of the upper level (by its parent key) and the lower level's tenant
    expect(upperPolicy.models.get(lower.model)!.kind).toBe('field')
    expect(lowerPolicy.models.get(lower.model)!.kind).toBe('root')
    for (const [m, level] of Object.entries(expected)) {
      expect(upperPolicy.models.get(m)!.guarded, `${m} in the ${upper.name} policy`).toBe(level === upper.name)
      expect(lowerPolicy.models.get(m)!.guarded, `${m} in the ${lower.name} policy`).toBe(level === lower.name)
    }

    writeFileSync(join(dir, 'set.config.ts'), local.replaceAll("severity: 'TO_REVIEW'", "severity: 'HIGH'"))
    const audit = await cli(dir, 'audit', '--config', 'set.config.ts', '--schema', schemaPath)
    expect(audit.out).toContain('is classified (tenant-owned or global)')
    expect(audit.code).toBe(0)
    // listed, not failed: what an organisation admin's scope will refuse
    const unproven = [...audit.out.matchAll(/^ {2}- (\w+) is a \w+-level row the \w+-wide scope cannot prove/gm)].map((m) => m[1])
    expect(unproven).toEqual(levels.orgWideUnproven)
    expect(audit.out.includes('Two levels: models the organization-wide scope cannot prove')).toBe(levels.orgWideUnproven.length > 0)
  })

  it('Dub and Trigger.dev are not two-level shapes: Dub keeps one tenant, Trigger.dev (three levels) is refused with --levels lines', async () => {
    const dub = await findSchema({ schema: join(realAppsDir, 'dub/schema'), cwd: root })
    expect(proposeConfig(parseSchema(dub.text)).levels).toBeUndefined()
    const trigger = parseSchema(readFileSync(join(realAppsDir, 'trigger.dev/schema.prisma'), 'utf8'))
    expect(() => proposeConfig(trigger)).toThrow('Organization sits above Project and RuntimeEnvironment')
  })
})

describe('init --levels', () => {
  it('forces two levels; a name the schema lacks is refused with "did you mean" and the candidates, and nothing is written', async () => {
    const { datamodel, schemaPath } = await realSchema('langfuse')
    expect(() => proposeConfig(datamodel, { levels: ['Organisation', 'Project'] })).toThrow(
      '--levels names "Organisation", which the schema does not have: did you mean "Organization"? Best-supported candidates: Organization, Project, User.',
    )
    expect(() => proposeConfig(datamodel, { levels: ['Project', 'Organization'] })).toThrow(
      '--levels lists Project above Organization, but Project holds the key (Project.organization → Organization): list the upper level first: --levels Organization,Project',
    )
    expect(() => proposeConfig(datamodel, { levels: ['Organization', 'User'] })).toThrow('--levels: User holds no single-field foreign key to Organization')
    expect(() => proposeConfig(datamodel, { levels: ['Organization'] })).toThrow('--levels takes two models, the upper level first')
    expect(() => proposeConfig(datamodel, { levels: ['Organization', 'Project'], tenantModel: 'Project' })).toThrow(InitError)

    const dir = mkdtempSync(join(tmpdir(), 'tf-init-levels-'))
    dirs.push(dir)
    const typo = await cli(dir, 'init', '--schema', schemaPath, '--levels', 'Organization,Projet')
    expect(typo.code).toBe(1)
    expect(typo.out).toContain('--levels names "Projet", which the schema does not have: did you mean "Project"? Best-supported candidates: Organization, Project, User.')
    expect(existsSync(join(dir, 'tenantfence.config.ts'))).toBe(false)
  })

  it('on Trigger.dev (refused without it), --levels Organization,Project writes a config that compiles per level', async () => {
    const { datamodel } = await realSchema('trigger.dev')
    const p = proposeConfig(datamodel, { levels: ['Organization', 'Project'] })
    expect(p.levels?.map((l) => `${l.name}:${l.model}.${l.field}${l.parent ? `<${l.parent}` : ''}`)).toEqual(['organization:Organization.organizationId', 'project:Project.projectId<organization'])
    // RuntimeEnvironment carries both keys: the project level, for review
    expect(p.levelOf!.RuntimeEnvironment).toBe('project')
    expect(p.bothKeys).toContain('RuntimeEnvironment')
    expect(p.levelOf!.OrgMember).toBe('organization')

    const dir = mkdtempSync(join(tmpdir(), 'tf-init-levels-'))
    dirs.push(dir)
    const r = await cli(dir, 'init', '--schema', join(realAppsDir, 'trigger.dev/schema.prisma'), '--levels', 'Organization,Project')
    expect(r.code).toBe(0)
    expect(r.out).toContain('two levels of tenancy (--levels)')
    const file = join(dir, 'tenantfence.config.ts')
    writeFileSync(file, readFileSync(file, 'utf8').replace("from 'tenantfence'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`))
    const config = await loadConfig(undefined, dir)
    for (const level of ['organization', 'project']) expect(() => compilePolicy(levelConfig(config, datamodel, level), datamodel)).not.toThrow()
  })
})

describe('audit with two levels', () => {
  it('the hand classification passes: the level models are classified, not reported', async () => {
    const { levels, datamodel } = await realSchema('langfuse')
    const config = handConfig(levels)
    expect(auditModels(config, datamodel)).toEqual([])
    expect(reviewConfig(config, datamodel).filter((f) => !REVIEW_NOTES.has(f.kind))).toEqual([])
  })

  it('names a model whose level is inconsistent (modelLevels\' message) and a parent the schema lacks', async () => {
    const { levels, datamodel } = await realSchema('langfuse')
    const config = handConfig(levels, (m) => {
      m.DatasetRuns = { severity: 'HIGH', via: 'dataset', level: 'organization' }
    })
    expect(reviewConfig(config, datamodel).filter((f) => f.kind === 'level_unresolved')).toEqual([
      {
        model: 'DatasetRuns',
        kind: 'level_unresolved',
        reason: 'says level "organization", but its via "dataset" leads to Dataset, a row of the project level; a model belongs to one level',
      },
    ])
    const badParent = defineConfig({ ...handConfig(levels), levels: [levels.levels[0], { ...levels.levels[1], parent: 'organisation' }].map(({ reason: _r, ...l }) => l) })
    const parent = reviewConfig(badParent, datamodel).filter((f) => f.kind === 'level_unresolved')
    expect(parent).toHaveLength(1)
    expect(parent[0]!.model).toBe('Project')
    expect(parent[0]!.reason).toContain('levels[1].parent: Project names "organisation": did you mean "organization"?')

    const dir = mkdtempSync(join(tmpdir(), 'tf-audit-levels-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'tenantfence.config.json'), JSON.stringify({ levels: config.levels, models: config.models, globalModels: config.globalModels }))
    const r = await cli(dir, 'audit', '--schema', join(realAppsDir, 'langfuse/schema.prisma'))
    expect(r.code).toBe(1)
    expect(r.out).toContain('  - DatasetRuns says level "organization", but its via "dataset" leads to Dataset, a row of the project level')
  })

  it('lists upper-level models holding the lower key (review), lower-level models the org-wide scope cannot prove, and unclassified models holding either field', async () => {
    const { levels, datamodel } = await realSchema('langfuse')
    const config = handConfig(levels, (m) => {
      m.AuditLog = { severity: 'HIGH', level: 'organization' } // holds orgId and projectId
      delete m.OrganizationMembership // holds orgId
      delete m.Prompt // holds projectId
      delete m.PromptDependency // (holds projectId too, and relates to Prompt)
    })
    const review = reviewConfig(config, datamodel)
    expect(review.filter((f) => f.kind === 'level_review')).toEqual([
      {
        model: 'AuditLog',
        kind: 'level_review',
        reason:
          'is at the organization level, but holds projectId, a key of the project level, too: every member of the organization reads ' +
          "the rows of each of its projects. Review: at the project level (level: 'project') each project reads its own",
      },
    ])
    expect(review.filter((f) => f.kind === 'org_scope_unproven').map((f) => f.model)).toEqual(['DatasetItem', 'DatasetRuns'])
    expect(review.find((f) => f.model === 'DatasetItem' && f.kind === 'org_scope_unproven')!.reason).toContain(
      "it has no orgId and no relation to Project on its projectId): every query on it is refused in that scope (scope: 'organization'). " +
        "To let organization admins read it: add orgId or a relation to Project, or give it via: 'dataset'",
    )
    // proven in that scope: its own orgId (ApiKey), a relation to Project on its key (Dataset), a via to such a row (PricingTier → Model)
    for (const m of ['ApiKey', 'Dataset', 'PricingTier']) expect(review.some((f) => f.model === m && f.kind === 'org_scope_unproven'), m).toBe(false)
    expect(auditModels(config, datamodel)).toEqual([
      { model: 'OrganizationMembership', kind: 'unclassified', reason: 'has a "orgId" field (the organization level\'s)' },
      { model: 'Prompt', kind: 'unclassified', reason: 'has a "projectId" field (the project level\'s)' },
      { model: 'PromptDependency', kind: 'unclassified', reason: 'has a "projectId" field (the project level\'s)' },
    ])
  })
})
