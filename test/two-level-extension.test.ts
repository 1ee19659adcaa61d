// Two levels of tenancy through the extension on a real SQLite database (the driver adapter), on the
// two-level fixture (Organization → Project): what the isolation suites do not look at. log_only
// logs each violation with the level that found it and the context's ids; selective blocks per
// model; the membership lookup runs once per request; the metrics carry a `level` label from
// start-up. (Enforce both ways: test/two-level-isolation.test.ts.)
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runWithTenant, tenantEnforcement } from '../src/index.ts'
import { parseMetricsText } from '../src/ops/metrics-text.ts'
import config from './fixtures/two-level-app/tenantfence.config.ts'
import { captureLogger, setFlags } from './helpers/fence.ts'
import { openIsolation, type IsolationDb } from './helpers/isolation-db.ts'
import { ORG_A, ORG_B, P_A1, P_A2, P_B1, PROJECT_CONTEXT, TWO_LEVEL, WIDE_CONTEXT } from './helpers/two-level-app.ts'

type Client = IsolationDb['base']
let db: IsolationDb
beforeAll(async () => {
  db = await openIsolation(TWO_LEVEL, config, { TENANT_ENFORCEMENT_MODE: 'log_only' })
})
afterAll(() => db?.close())

/** A tenantfence client on the fixture with its own registry and log lines; `lookups` counts the membership lookups. */
function fenced(flags: Record<string, string>) {
  setFlags(flags)
  const counter = { lookups: 0 }
  const registry = new Registry()
  const { logger, lines } = captureLogger()
  const fence = tenantEnforcement({ config, registry, logger, audit: false })
  // A query extension before tenantfence sees the lookups tenantfence makes through the client it extends.
  const counted = (db.base as Client).$extends({
    query: { project: { findFirst: ({ args, query }: { args: unknown; query: (a: unknown) => Promise<unknown> }) => (counter.lookups++, query(args)) } },
  }) as Client
  const prisma = counted.$extends(fence) as Client
  const series = async (name: string) => parseMetricsText(await registry.metrics()).filter((s) => s.name === name)
  return { prisma, lines, counter, series, close: () => fence.close() }
}

describe('two levels through the extension', () => {
  it('log_only: logs each leak with the level that found it and the context ids, counted by level', async () => {
    const f = fenced({ TENANT_ENFORCEMENT_MODE: 'log_only' })
    const rows = await runWithTenant(PROJECT_CONTEXT, async () => [
      await f.prisma.dataset.findMany({ where: { projectId: P_B1 } }),
      await f.prisma.organizationMembership.findMany({ where: { orgId: ORG_B } }),
    ])
    expect(rows.map((r: unknown[]) => r.length > 0)).toEqual([true, true]) // logged, not blocked
    const v = f.lines.filter((l) => l.msg === 'TENANT_VIOLATION')
    expect(v.map((l) => [l.model, l.violation, l.tenantLevel, l.level])).toEqual([
      ['Dataset', 'tenant_mismatch', 'project', 40],
      ['OrganizationMembership', 'tenant_mismatch', 'organization', 40],
    ])
    expect(v[0]).toMatchObject({ tenantIds: { organization: ORG_A, project: P_A1 }, tenantId: null, queryTenantIds: [P_B1] })
    const counted = (await f.series('tenant_violations_total')).filter((s) => s.value > 0)
    expect(counted.map((s) => [s.labels.model, s.labels.level, s.value]).sort()).toEqual([
      ['Dataset', 'project', 1],
      ['OrganizationMembership', 'organization', 1],
    ])
    f.close()
  })

  it('pre-creates violation series per level (both for Project) and publishes each model policy with its level', async () => {
    const f = fenced({ TENANT_ENFORCEMENT_MODE: 'log_only' })
    void f.prisma.project // the client exists: its schema gave each model its level
    const zero = await f.series('tenant_violations_total')
    const levelsOf = (model: string) => [...new Set(zero.filter((s) => s.labels.model === model).map((s) => s.labels.level))].sort()
    expect([levelsOf('Dataset'), levelsOf('AuditLog'), levelsOf('PromptDependency'), levelsOf('Project'), levelsOf('$raw')]).toEqual([
      ['project'], ['organization'], ['project'], ['organization', 'project'], ['organization'],
    ])
    const policy = (await f.series('tenant_enforcement_model_policy')).filter((s) => s.value === 1)
    expect(Object.fromEntries(policy.filter((s) => ['Dataset', 'Organization', 'AuditLog'].includes(s.labels.model!)).map((s) => [s.labels.model, s.labels.level]))).toEqual({
      Dataset: 'project', Organization: 'organization', AuditLog: 'organization',
    })
    f.close()
  })

  it('selective: blocks the models the flags enforce, logs the others', async () => {
    const f = fenced({ TENANT_ENFORCEMENT_MODE: 'selective', TENANT_ENFORCEMENT_ENFORCE_MODELS: 'Dataset', TENANT_ENFORCEMENT_LOG_MODELS: 'OrganizationMembership' })
    await runWithTenant(PROJECT_CONTEXT, async () => {
      await expect(f.prisma.dataset.findMany({ where: { projectId: P_A2 } })).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED', model: 'Dataset' })
      expect((await f.prisma.organizationMembership.findMany({})).length).toBeGreaterThan(0)
      // off: nothing said
      expect((await f.prisma.apiKey.findMany({ where: { projectId: P_B1 } })).length).toBe(1)
    })
    expect(f.lines.filter((l) => l.msg === 'TENANT_VIOLATION').map((l) => [l.model, l.decision])).toEqual([
      ['Dataset', 'blocked'],
      ['OrganizationMembership', 'logged'],
    ])
    f.close()
  })

  it('proves membership once per request; a project of another organisation is a finding at path context', async () => {
    const f = fenced({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    await runWithTenant(PROJECT_CONTEXT, async () => {
      for (let i = 0; i < 3; i++) await f.prisma.dataset.findMany({ where: { projectId: P_A1 } })
      await f.prisma.organizationMembership.findMany({ where: { orgId: ORG_A } })
    })
    expect(f.counter.lookups).toBe(1)
    await runWithTenant(PROJECT_CONTEXT, () => f.prisma.dataset.count({ where: { projectId: P_A1 } }))
    expect(f.counter.lookups).toBe(2) // a new request: looked up again
    // an org admin's request names no project: nothing to look up
    await runWithTenant(WIDE_CONTEXT, () => f.prisma.dataset.count({ where: { project: { orgId: ORG_A } } }))
    expect(f.counter.lookups).toBe(2)
    const foreign = { ...PROJECT_CONTEXT, tenantIds: { organization: ORG_A, project: P_B1 } }
    await expect(runWithTenant(foreign, () => f.prisma.dataset.findMany({ where: { projectId: P_B1 } }))).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED', model: 'Project', violation: 'tenant_mismatch', path: 'context' })
    const unknownLevel = { ...PROJECT_CONTEXT, tenantIds: { organization: ORG_A, projet: P_A1 } }
    await expect(runWithTenant(unknownLevel, () => f.prisma.organizationMembership.findMany({ where: { orgId: ORG_A } }))).rejects.toMatchObject({ path: 'context' })
    expect(f.lines.filter((l) => l.msg === 'TENANT_VIOLATION').map((l) => [l.model, l.path, l.tenantLevel])).toEqual([
      ['Project', 'context', 'project'],
      ['Project', 'context', 'project'],
    ])
    f.close()
  })
})
