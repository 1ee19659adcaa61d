// The pure core, table by table, without Prisma: shapes a client would refuse or that are easier
// to state here, and the answers that matter most (null = scoped to the request's tenant).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { compilePolicy, decide, inspect, parseSchema } from '../src/index.ts'
import { parseConfig } from '../src/config/index.ts'
import config from '../tenantfence.config.ts'

const policy = compilePolicy(config, parseSchema(readFileSync('prisma/schema.prisma', 'utf8')))
const kind = (model: string, operation: string, args: unknown, tenantId: unknown = 1) => inspect(policy, model, operation, args, tenantId)?.findings[0]?.violation ?? null

describe('inspect', () => {
  it.each([
    ['AND pins two different tenants', 'User', 'findMany', { where: { AND: [{ tenantId: 1 }, { tenantId: 2 }] } }, 'tenant_mismatch'],
    ['in with the same tenant twice', 'User', 'findMany', { where: { tenantId: { in: [1, 1] } } }, null],
    ['an empty in list pins nothing', 'User', 'findMany', { where: { tenantId: { in: [] } } }, 'missing_tenant_id'],
    ['OR branches naming different tenants', 'User', 'findMany', { where: { OR: [{ tenantId: 1 }, { tenantId: 2 }] } }, 'tenant_mismatch'],
    ['string and number forms of the same tenant', 'User', 'findMany', { where: { tenantId: '1' } }, null],
    ['a field reference never scopes', 'User', 'findMany', { where: { tenantId: { equals: { _ref: 'tenantId', _container: 'User' } } } }, 'missing_tenant_id'],
    ['null never scopes', 'User', 'findMany', { where: { tenantId: null } }, 'missing_tenant_id'],
    ['is: null on the scoping relation', 'RefreshToken', 'findMany', { where: { user: { is: null } } }, 'missing_relation_filter'],
    ['two hops through relations (RolePermission → role → tenantId)', 'RolePermission', 'findMany', { where: { role: { is: { AND: [{ tenantId: 1 }] } } } }, null],
    ['a compound key whose name does not list the field', 'User', 'findUnique', { where: { xtenantId_email: { tenantId: 1 } } }, 'missing_tenant_id'],
    ['an operation this version does not know', 'User', 'findManyAndDance', { where: { tenantId: 1 } }, 'unknown_operation'],
    ['createMany with an empty list writes nothing', 'AuditLog', 'createMany', { data: [] }, null],
    ['a global model without nested reads', 'Permission', 'findMany', { where: { key: 'x' } }, null],
    ['a model the schema has but the policy does not know', 'Nope', 'findMany', {}, null],
  ])('%s', (_name, model, operation, args, expected) => {
    expect(kind(model, operation, args)).toBe(expected)
  })

  it('outside a request, a query pinning one tenant passes and one pinning none does not', () => {
    const noRequest = (args: unknown) => inspect(policy, 'User', 'findMany', args, undefined)?.findings[0]?.violation ?? null
    expect(noRequest({ where: { tenantId: 2 } })).toBeNull()
    expect(noRequest({ where: {} })).toBe('missing_tenant_id')
    // two tenants named: no one tenant plays the request's part
    expect(noRequest({ where: { OR: [{ tenantId: 1 }, { tenantId: 2 }] } })).toBe('tenant_mismatch')
  })

  it('names the tenant the query stated, for the log line', () => {
    expect(inspect(policy, 'User', 'findMany', { where: { tenantId: 2 } }, 1)?.findings).toEqual([{ model: 'User', severity: 'CRITICAL', violation: 'tenant_mismatch', queryTenantIds: ['2'], path: 'where' }])
  })

  it('walks a query on a global model that reaches tenant rows only through another global model', () => {
    const chain = parseSchema(`
      model Plan { id String @id
        features Feature[] }
      model Feature { id String @id
        planId String
        plan Plan @relation(fields: [planId], references: [id])
        notes Note[] }
      model Note { id String @id
        tenantId String
        featureId String
        feature Feature @relation(fields: [featureId], references: [id]) }`)
    const p = compilePolicy(parseConfig({ models: { Note: { severity: 'HIGH' } }, globalModels: ['Plan', 'Feature'] }), chain)
    expect(inspect(p, 'Plan', 'findMany', { include: { features: { include: { notes: true } } } }, 1)?.findings).toEqual([
      { model: 'Note', severity: 'HIGH', violation: 'unscoped_nested_read', path: 'include.features.include.notes' },
    ])
    expect(inspect(p, 'Plan', 'findMany', { include: { features: { include: { notes: { where: { tenantId: 1 } } } } } }, 1)).toBeNull()
  })
})

describe('decide', () => {
  const finding = { model: 'User', severity: 'CRITICAL' as const, violation: 'missing_tenant_id' as const, path: 'where' }
  it.each([
    [null, 'block', 'allow'],
    [finding, 'off', 'allow'],
    [finding, 'log', 'log'],
    [finding, 'block', 'block'],
  ] as const)('%j with action %s → %s', (f, action, expected) => {
    expect(decide(f, action)).toBe(expected)
  })
})
