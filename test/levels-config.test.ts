// Two levels of tenancy in the config: validation, each model's level, and the one-level configs
// each level is checked with (src/enforcement/levels.ts), on Langfuse's schema (Organization → Project).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseConfig, tenantLevels } from '../src/config/index.ts'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { levelConfig, modelLevels, parentKey } from '../src/enforcement/levels.ts'
import { compilePolicy } from '../src/enforcement/policy.ts'

const datamodel = parseSchema(readFileSync(new URL('./fixtures/real-apps/langfuse/schema.prisma', import.meta.url), 'utf8'))
const levels = [
  { name: 'organization', model: 'Organization', field: 'orgId' },
  { name: 'project', model: 'Project', field: 'projectId', parent: 'organization' },
]
const base = {
  levels,
  models: {
    OrganizationMembership: { severity: 'HIGH' },
    AuditLog: { severity: 'HIGH', level: 'organization' },
    Dataset: { severity: 'HIGH' },
    DatasetItem: { severity: 'MEDIUM', level: 'project' },
    Prompt: { severity: 'HIGH', field: 'projectId' },
  },
} as const
// OrganizationMembership names the organization level's field; Dataset names nothing: the lower level.
const config = parseConfig({ ...base, models: { ...base.models, OrganizationMembership: { severity: 'HIGH', field: 'orgId' } } })

describe('two levels in the config', () => {
  it('lists the levels upper first, with a setting each; one-level configs are one level named tenant', () => {
    expect(tenantLevels(config).map((l) => [l.name, l.model, l.field, l.parent, l.rlsSetting])).toEqual([
      ['organization', 'Organization', 'orgId', undefined, 'app.organization_id'],
      ['project', 'Project', 'projectId', 'organization', 'app.project_id'],
    ])
    const one = parseConfig({ tenant: { model: 'Project', field: 'projectId' }, models: { Dataset: { severity: 'HIGH' } } })
    expect(tenantLevels(one).map((l) => [l.name, l.model, l.field])).toEqual([['tenant', 'Project', 'projectId']])
  })

  it('refuses what cannot be two levels, naming the fix', () => {
    const bad = (input: unknown) => () => parseConfig(input)
    expect(bad({ ...base, tenant: { model: 'Project' } })).toThrow(/remove tenant.model/)
    expect(bad({ ...base, levels: [levels[0], { ...levels[1], parent: undefined }] })).toThrow(/needs "parent"/)
    expect(bad({ ...base, levels: [levels[0], { ...levels[1], field: 'orgId' }] })).toThrow(/same field "orgId"/)
    expect(bad({ ...base, models: { ...base.models, Prompt: { severity: 'HIGH', level: 'projet' } } })).toThrow(/did you mean "project"/)
    expect(bad({ ...base, models: { ...base.models, Prompt: { severity: 'HIGH', field: 'projectId', level: 'organization' } } })).toThrow(/is the project level's, but it says level "organization"/)
    expect(bad({ ...base, models: { ...base.models, Project: { severity: 'HIGH', level: 'project' } } })).toThrow(/Project is the model of the level "project"/)
    expect(bad({ tenant: { model: 'Project' }, models: { Dataset: { severity: 'HIGH', level: 'project' } } })).toThrow(/"level" needs two levels/)
  })

  it('gives each model one level, and refuses a via that leads to the other level', () => {
    const of = modelLevels(config, datamodel)
    expect(Object.fromEntries(of)).toEqual({
      Organization: 'organization', Project: 'project', OrganizationMembership: 'organization', AuditLog: 'organization',
      Dataset: 'project', DatasetItem: 'project', Prompt: 'project',
    })
    const mixed = parseConfig({ ...base, models: { ...base.models, OrganizationMembership: { severity: 'HIGH', field: 'orgId' }, DatasetRuns: { severity: 'LOW', via: 'dataset', level: 'organization' } } })
    expect(() => modelLevels(mixed, datamodel)).toThrow(/DatasetRuns: says level "organization", but its via "dataset" leads to Dataset, a row of the project level/)
  })

  it('checks each level with a one-level config: the upper one owns the lower level model by its parent key', () => {
    expect(parentKey(config, datamodel)).toBe('orgId')
    const org = levelConfig(config, datamodel, 'organization')
    expect(org.tenant).toMatchObject({ model: 'Organization', field: 'orgId' })
    expect(Object.keys(org.models).sort()).toEqual(['AuditLog', 'OrganizationMembership', 'Project'])
    expect(org.models.Project).toMatchObject({ field: 'orgId' })
    const project = levelConfig(config, datamodel, 'project')
    expect(project.tenant).toMatchObject({ model: 'Project', field: 'projectId' })
    expect(Object.keys(project.models).sort()).toEqual(['Dataset', 'DatasetItem', 'Prompt'])
    // Both compile against the real schema; the other level's models are global there.
    expect(compilePolicy(org, datamodel).models.get('Dataset')!.guarded).toBe(false)
    expect(compilePolicy(project, datamodel).models.get('Project')!.kind).toBe('root')
    expect(compilePolicy(org, datamodel).models.get('Project')!.kind).toBe('field')
    const wrongParent = parseConfig({ ...base, levels: [levels[0], { ...levels[1], parent: 'organisation' }], models: config.models })
    expect(() => parentKey(wrongParent, datamodel)).toThrow(/did you mean "organization"/)
  })
})
