// The typed config: validated once, with messages that name the bad value; the audit of
// schema models the config forgot; the policy compiled against the schema.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { auditModels, compilePolicy, defineConfig, parseSchema, type TenantFenceConfigInput } from '../src/index.ts'
import * as mainEntry from '../src/index.ts'
import { dataModelOfClient, type DataModel } from '../src/enforcement/datamodel.ts'
import config from '../tenantfence.config.ts'
import { rollbackCommand, rollbackLines } from '../src/generate/rollback.ts'
import { runCli } from './helpers/cli.ts'

const schema = parseSchema(readFileSync('prisma/schema.prisma', 'utf8'))
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit the parsed config freely
const clone = (): any => structuredClone(config)

describe('defineConfig', () => {
  it('accepts the demo config and classifies the rollout document severities', () => {
    expect(Object.entries(config.models).filter(([, m]) => m.severity === 'CRITICAL').map(([n]) => n)).toEqual(['User', 'RefreshToken', 'PasswordResetToken', 'MfaBackupCode', 'AuditLog'])
    expect(config.models.RolePermission).toMatchObject({ severity: 'MEDIUM', via: 'role' })
    expect(config.phases.map((p) => p.mode)).toEqual(['disabled', 'log_only', 'selective', 'enforce', 'hardened'])
  })

  it('names a bad severity and the valid ones', () => {
    const c = clone()
    ;(c.models.User as { severity: string }).severity = 'CRITCAL'
    expect(() => defineConfig(c)).toThrow(/models\.User\.severity: .*"CRITCAL": did you mean "CRITICAL"\? Valid: CRITICAL, HIGH, MEDIUM, LOW/)
  })

  it('tenant.createInRequest: allow by default; a bad value or a misspelt key is named with the valid ones', () => {
    expect(config.tenant.createInRequest).toBe('allow')
    const bad = clone()
    bad.tenant.createInRequest = 'yes'
    expect(() => defineConfig(bad)).toThrow(/tenant\.createInRequest: .*"yes"\. Valid: allow, violation/)
    const typo = clone()
    typo.tenant = { ...typo.tenant, createInRequests: 'allow' }
    expect(() => defineConfig(typo)).toThrow(/"createInRequests" \(did you mean "createInRequest"\?\)/)
  })

  it('names a typo in a phase flag with a suggestion', () => {
    const c = clone()
    c.phases[2]!.flags = { ...c.phases[2]!.flags, TENANT_ENFORCEMENT_ENFORCE_MODELS: 'User,RefreshTokn' }
    expect(() => defineConfig(c)).toThrow(/phases\[2\]\.flags: .*"RefreshTokn": did you mean "RefreshToken"/)
  })

  it('names an unknown flag name', () => {
    const c = clone()
    c.phases[1]!.flags = { ...c.phases[1]!.flags, TENANT_ENFORCEMENT_MOD: 'log_only' }
    expect(() => defineConfig(c)).toThrow(/flag names "TENANT_ENFORCEMENT_MOD": did you mean "TENANT_ENFORCEMENT_MODE"/)
  })

  it('refuses thresholds in the wrong order (top level and per phase) and phases out of order', () => {
    expect(() => defineConfig({ ...minimal, thresholds: { errorRateRollback: 0.0001 } })).toThrow(/thresholds\.errorRateRollback: errorRateRollback \(0\.0001\) must be above errorRate \(0\.001\)/)
    expect(() => defineConfig({ ...minimal, phases: { 3: { thresholds: { errorRate: 0.02 } } } })).toThrow(/phases\[3\]\.thresholds\.errorRateRollback: errorRateRollback \(0\.01\) must be above errorRate \(0\.02\)/)
    const d = clone()
    d.phases = [d.phases[1]!, d.phases[0]!, ...d.phases.slice(2)]
    expect(() => defineConfig(d)).toThrow(/phases must be listed 0..4 in order/)
  })

  it('refuses an unknown alert name, criterion kind or threshold, naming the valid ones', () => {
    const c = clone()
    ;(c.phases[1]!.alerts as string[]).push('TenantViolationSpik')
    expect(() => defineConfig(c)).toThrow(/TenantViolationSpike/)
    expect(() => defineConfig({ ...minimal, thresholds: { errorRat: 0.01 } as never })).toThrow(/thresholds: unknown key\(s\) "errorRat" \(did you mean "errorRate"\?\)\. Valid: violationSummaryFor, .*errorRate,/)
    // A key an older version accepted names what replaced it (edit distance alone finds nothing here).
    expect(() => defineConfig({ ...minimal, thresholds: { errorRateWarning: 0.01 } as never })).toThrow(
      /thresholds: unknown key\(s\) "errorRateWarning" \(renamed to "errorRate" \(blocked requests as a share of users' requests; per phase in phases\[n\]\.thresholds\)\)/,
    )
    expect(() => defineConfig({ ...minimal, phases: { 2: { thresholds: { errorRateWarning: 0.01 } } } } as never)).toThrow(/phases\[2\]\.thresholds: unknown key\(s\) "errorRateWarning" \(renamed to "errorRate"/)
    expect(() => defineConfig({ ...minimal, phases: { 2: { successCriteria: [{ kind: 'errorRat', below: 1, window: '1h', description: 'x' }] } } } as never)).toThrow(/phases\[2\]\.successCriteria\[0\]\.kind: .*"errorRat": did you mean "errorRate"/)
  })

  it('a criterion gives exactly one of max (at most) and below (strictly less)', () => {
    const both = { kind: 'violations', max: 0, below: 1, window: '24h', description: 'x' } as const
    expect(() => defineConfig({ ...minimal, phases: { 1: { successCriteria: [both] } } })).toThrow(/give exactly one of "max" \(at most\) or "below" \(strictly less than\)/)
  })
})

/** The README's quick-start config (docs/config.md has the rest), with Role: no app, no thresholds, no phases. */
const minimal: TenantFenceConfigInput = {
  tenant: { field: 'tenantId', model: 'Tenant' },
  models: { User: { severity: 'CRITICAL' }, RefreshToken: { severity: 'CRITICAL', via: 'user' }, Role: { severity: 'HIGH' }, RolePermission: { severity: 'MEDIUM', via: 'role' } },
  globalModels: ['Permission'],
}

describe('rollout.flags: how flags reach the app (what every printed rollback uses)', () => {
  const minimal = { models: { User: { severity: 'CRITICAL' as const } } }
  it('accepts a flag file, a Kubernetes deployment or the environment; none is the default', () => {
    expect(defineConfig(minimal).rollout).toBeUndefined()
    expect(defineConfig({ ...minimal, rollout: { flags: { source: 'file', path: '/etc/tenantfence/flags.env' } } }).rollout?.flags).toEqual({ source: 'file', path: '/etc/tenantfence/flags.env' })
    const k8s = { source: 'kubernetes', deployment: 'api', namespace: 'shop', container: 'app' } as const
    expect(defineConfig({ ...minimal, rollout: { flags: k8s } }).rollout?.flags).toEqual(k8s)
    expect(defineConfig({ ...minimal, rollout: { flags: { source: 'env' } } }).rollout?.flags).toEqual({ source: 'env' })
    const service = { source: 'service', name: 'flagd, flags.json in the platform repo', keys: { TENANT_ENFORCEMENT_MODE: 'tenant-mode' } } as const
    expect(defineConfig({ ...minimal, rollout: { flags: service } }).rollout?.flags).toEqual(service)
  })

  it('a flag service: the rollback says where and which keys, no command to guess', () => {
    const c = defineConfig({ ...minimal, rollout: { flags: { source: 'service', name: 'LaunchDarkly, project shop', keys: { TENANT_ENFORCEMENT_MODE: 'tenant-mode' } } } })
    expect(rollbackLines(c)).toEqual(['# set these flags in LaunchDarkly, project shop: the app follows the flag service\'s change, no restart', '#   tenant-mode = log_only'])
    expect(rollbackCommand(c)).toBe('set tenant-mode = log_only in LaunchDarkly, project shop (the app follows the change, no restart)')
    expect(() => defineConfig({ ...minimal, rollout: { flags: { source: 'service', name: 'x', keys: { TENANT_ENFORCEMENT_MOD: 'm' } } } })).toThrow(/rollout\.flags\.keys: .*"TENANT_ENFORCEMENT_MOD".*did you mean "TENANT_ENFORCEMENT_MODE"/)
  })

  it.each([
    ['a source typo', { source: 'files' }, /rollout\.flags\.source: source names "files": did you mean "file"\? Valid: file, kubernetes, env, service/],
    ['a service without its name', { source: 'service' }, /rollout\.flags\.name: source "service" needs name/],
    ['a service name on two lines', { source: 'service', name: 'a\nb' }, /rollout\.flags\.name: must be one line/],
    ['a file without its path', { source: 'file' }, /rollout\.flags\.path: source "file" needs path/],
    ['a relative path (relative to what?)', { source: 'file', path: 'flags.env' }, /rollout\.flags\.path: must be the absolute path of the flag file the app watches/],
    ['a deployment without its namespace', { source: 'kubernetes', deployment: 'api' }, /rollout\.flags\.namespace: source "kubernetes" needs namespace/],
    ['a name kubectl refuses', { source: 'kubernetes', deployment: 'My_App', namespace: 'shop' }, /rollout\.flags\.deployment: must be a Kubernetes name/],
    ['a key of another source', { source: 'env', path: '/x' }, /rollout\.flags: unknown key\(s\) "path"/],
  ])('refuses %s with a message that names it', (_name, flags, message) => {
    expect(() => defineConfig({ ...minimal, rollout: { flags } } as unknown as TenantFenceConfigInput)).toThrow(message)
  })

  it('names a typo in rollout itself', () => {
    expect(() => defineConfig({ ...minimal, rollout: { flag: { source: 'env' } } } as unknown as TenantFenceConfigInput)).toThrow(/rollout: unknown key\(s\) "flag" \(did you mean "flags"\?\)/)
  })
})

describe('a minimal config is complete (the rollout document\'s defaults)', () => {
  const c = defineConfig(minimal)

  it('has an app, the five phases with their flags, alerts and criteria, thresholds and a rollback', () => {
    expect(c.app).toEqual({ name: 'app', probeRoutes: ['/healthz', '/metrics'] })
    expect(c.phases.map((p) => [p.phase, p.mode, p.alerts.length > 0, p.successCriteria.length > 0])).toEqual([
      [0, 'disabled', true, true],
      [1, 'log_only', true, true],
      [2, 'selective', true, true],
      [3, 'enforce', true, true],
      [4, 'hardened', true, true],
    ])
    expect(c.rollback.flags).toEqual({ TENANT_ENFORCEMENT_MODE: 'log_only' })
    expect(c.bypass.reasons).toEqual([])
  })

  it('phase 2 blocks the config\'s CRITICAL models and logs the rest (the tenant model included)', () => {
    expect(c.phases[2]!.flags).toMatchObject({ TENANT_ENFORCEMENT_MODE: 'selective', TENANT_ENFORCEMENT_ENFORCE_MODELS: 'User,RefreshToken', TENANT_ENFORCEMENT_LOG_MODELS: 'Role,RolePermission,Tenant' })
    const allCritical = defineConfig({ models: { User: { severity: 'CRITICAL' } } })
    expect(allCritical.phases[2]!.flags).not.toHaveProperty('TENANT_ENFORCEMENT_LOG_MODELS')
  })

  it('per-phase thresholds and severities as the document gives them', () => {
    const t = (n: number) => c.phases[n]!.thresholds
    expect([t(2).errorRate, c.phases[2]!.severities.TenantEnforcementErrors]).toEqual([0.001, 'warning'])
    expect([t(3).errorRate, c.phases[3]!.severities.TenantEnforcementErrors]).toEqual([0.0001, 'critical'])
    expect(c.phases.map((p) => [p.thresholds.errorRateRollback, p.thresholds.bypassPerHour])).toEqual(Array(5).fill([0.01, 5]))
    expect(c.phases[1]!.alerts).toContain('TenantViolationSummary')
    expect(c.phases[2]!.alerts).toEqual(expect.arrayContaining(['TenantViolationSpike', 'TenantEnforcementErrors', 'TenantEnforcementRollback', 'TenantJobQueriesBlocked']))
  })

  it('the document\'s success criteria, strict where it says "<"', () => {
    const crit = (n: number) => c.phases[n]!.successCriteria.map(({ kind, max, below, window, decision }) => ({ kind, max, below, window, decision }))
    expect(crit(1)).toEqual(expect.arrayContaining([{ kind: 'criticalViolations', max: 0, window: '24h' }, { kind: 'violationsPerHour', below: 10, window: '24h' }]))
    expect(crit(2)).toEqual(expect.arrayContaining([{ kind: 'errorRate', below: 0.001, window: '24h' }, { kind: 'violationsPerHour', decision: 'logged', below: 5, window: '24h' }]))
    expect(crit(3)).toEqual(expect.arrayContaining([{ kind: 'errorRate', below: 0.0001, window: '7d' }, { kind: 'bypassesPerDay', below: 5, window: '7d' }]))
  })

  it('the demo config writes only what a team must: its phases are the defaults for its models', () => {
    const { app, tenant, models, globalModels, bypass, rls, rollout } = config
    expect(defineConfig({ app, tenant, models, globalModels, bypass, rls, rollout })).toEqual(config)
    const source = readFileSync('tenantfence.config.ts', 'utf8')
    for (const key of ['phases:', 'thresholds:', 'rollback:', 'successCriteria']) expect(source).not.toContain(key)
  })

  it('any part can be overridden: objects merge key by key, null removes a flag, lists replace', () => {
    const o = defineConfig({
      ...minimal,
      app: { job: 'api', runbookBaseUrl: 'https://wiki.test/rb' },
      thresholds: { bypassPerHour: 20 },
      phases: {
        2: { thresholds: { errorRate: 0.002 }, severities: { TenantEnforcementErrors: 'critical' }, flags: { TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: 0.5, TENANT_ENFORCEMENT_ALLOW_BYPASS: null }, alerts: ['TenantEnforcementRollback'] },
      },
    })
    expect(o.app).toEqual({ name: 'app', job: 'api', runbookBaseUrl: 'https://wiki.test/rb', probeRoutes: ['/healthz', '/metrics'] })
    const p2 = o.phases[2]!
    expect(p2.thresholds).toMatchObject({ errorRate: 0.002, errorRateRollback: 0.01, bypassPerHour: 20 })
    expect(p2.severities).toMatchObject({ TenantEnforcementErrors: 'critical', TenantEnforcementRollback: 'critical' })
    expect(p2.flags).toEqual({ TENANT_ENFORCEMENT_ENABLED: true, TENANT_ENFORCEMENT_MODE: 'selective', TENANT_ENFORCEMENT_ENFORCE_MODELS: 'User,RefreshToken', TENANT_ENFORCEMENT_LOG_MODELS: 'Role,RolePermission,Tenant', TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: 0.5, TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON: true })
    expect(p2.alerts).toEqual(['TenantEnforcementRollback'])
    expect(p2.successCriteria).toEqual(c.phases[2]!.successCriteria)
    // top-level thresholds reach every phase, a phase's own default still wins (phase 3: 0.01 %)
    expect(o.phases.map((p) => p.thresholds.bypassPerHour)).toEqual(Array(5).fill(20))
    expect(o.phases[3]!.thresholds.errorRate).toBe(0.0001)
    expect({ ...o.phases[1], thresholds: undefined }).toEqual({ ...c.phases[1], thresholds: undefined })
  })

  it('the list form merges entry i over phase i', () => {
    const l = defineConfig({ ...minimal, phases: [{}, { name: 'Watch', duration: '3 weeks' }] })
    expect(l.phases[1]).toEqual({ ...c.phases[1], name: 'Watch', duration: '3 weeks' })
    expect(l.phases.slice(2)).toEqual(c.phases.slice(2))
  })
})

describe('the policy against the schema', () => {
  it('names a config model missing from the schema, with a suggestion', () => {
    const c = clone()
    c.models.Usr = { severity: 'HIGH' }
    expect(() => compilePolicy(defineConfig(c), schema)).toThrow(/"Usr": did you mean "User"/)
  })

  it('names a bad via relation', () => {
    const c = clone()
    c.models.RefreshToken = { severity: 'CRITICAL', via: 'usr' }
    expect(() => compilePolicy(defineConfig(c), schema)).toThrow(/models\.RefreshToken\.via: .*"usr": did you mean "user"/)
  })

  it('refuses a field-scoped model without the tenant field', () => {
    const c = clone()
    c.models.RefreshToken = { severity: 'CRITICAL' }
    expect(() => compilePolicy(defineConfig(c), schema)).toThrow(/models\.RefreshToken: has no field "tenantId"/)
  })
})

describe('audit', () => {
  it('the demo config classifies every model of the demo schema', () => {
    expect(auditModels(config, schema)).toEqual([])
  })

  it('names models with a tenant field or a relation to tenant-owned data that the config forgot', () => {
    const c = clone()
    const forgotten = ['SecurityAlert', 'MfaBackupCode']
    for (const m of forgotten) delete c.models[m]
    for (const p of c.phases) for (const [k, v] of Object.entries(p.flags)) if (typeof v === 'string') p.flags[k] = v.split(',').filter((m) => !forgotten.includes(m)).join(',')
    expect(auditModels(defineConfig(c), schema)).toEqual([
      { model: 'SecurityAlert', kind: 'unclassified', reason: 'has a "tenantId" field' },
      { model: 'MfaBackupCode', kind: 'unclassified', reason: 'relates to tenant-owned User (user)' },
    ])
  })

  it('`tenantfence audit` exits 0 on the demo and 1 with a forgotten model', async () => {
    const clean = await runCli(['audit'])
    expect(clean.code).toBe(0)
    expect(clean.stdout).toContain('every model of prisma/schema.prisma is classified')
    const forgetful = await runCli(['audit', '--config', 'test/fixtures/config/forgetful.config.ts'])
    expect(forgetful.code).toBe(1)
    expect(forgetful.stdout).toContain('SecurityAlert has a "tenantId" field')
  })
})

describe('start-up audit', () => {
  it('warns (TENANT_AUDIT) when the client is extended with a config that forgot a tenant-owned model', async () => {
    const { openDatabase } = await import('../src/demo/db.ts')
    const { tenantEnforcement } = await import('../src/index.ts')
    const { captureLogger } = await import('./helpers/fence.ts')
    const { default: forgetful } = await import('./fixtures/config/forgetful.config.ts')
    const db = await openDatabase()
    try {
      const { logger, lines } = captureLogger()
      db.prisma.$extends(tenantEnforcement({ config: forgetful, logger }))
      expect(lines.filter((l) => String(l.msg).startsWith('TENANT_AUDIT'))).toEqual([
        expect.objectContaining({ msg: expect.stringContaining('SecurityAlert'), models: [{ model: 'SecurityAlert', kind: 'unclassified', reason: 'has a "tenantId" field' }] }),
      ])
      const quiet = captureLogger()
      db.prisma.$extends(tenantEnforcement({ config, logger: quiet.logger }))
      expect(quiet.lines.filter((l) => String(l.msg).startsWith('TENANT_AUDIT'))).toEqual([])
    } finally {
      await db.close()
    }
  })
})

describe('exports that live on a subpath', () => {
  it('taken from the main entry, they do not type-check as calls, and a call names the subpath', () => {
    // @ts-expect-error the stub takes no argument: an adapter call from the main entry does not compile
    expect(() => mainEntry.tenantContext({ claims: () => ({ tenantId: 1 }) })).toThrow(
      `"tenantContext" is not exported by 'tenantfence': import { tenantContext } from 'tenantfence/express'`,
    )
    expect(() => mainEntry.webTenantContext()).toThrow("import { webTenantContext } from 'tenantfence/web'")
    expect(() => mainEntry.fastifyRoute()).toThrow("import { fastifyRoute } from 'tenantfence/fastify'")
    expect(() => mainEntry.allowTenantViolations()).toThrow("import { allowTenantViolations } from 'tenantfence/vitest' (or 'tenantfence/jest')")
    let thrown: unknown
    try {
      mainEntry.tenantErrorHandler()
    } catch (err) {
      thrown = err
    }
    expect(thrown).toMatchObject({ code: 'TENANTFENCE_MOVED_EXPORT', exportName: 'tenantErrorHandler', subpath: 'tenantfence/express' })
  })
})

describe('the data model of a Prisma 6 client on the Rust engine', () => {
  it('reads unique keys from the schema text when the runtime data model is the full DMMF (prisma-client-js, no adapter)', () => {
    const parsed = parseSchema(readFileSync('prisma/schema.prisma', 'utf8'))
    // What 6.19's prisma-client-js generator writes for the library engine (dmmfToRuntimeDataModel, not
    // pruned): DMMF models with relation keys, the primary key as an object, unique keys as
    // uniqueFields/uniqueIndexes, and no \`uniques\`.
    const dmmf = {
      models: Object.fromEntries(
        Object.entries(parsed.models).map(([name, m]) => [
          name,
          {
            dbName: m.dbName ?? null,
            fields: m.fields,
            primaryKey: m.primaryKey && m.primaryKey.length > 1 ? { name: null, fields: m.primaryKey } : null,
            uniqueFields: (m.uniques ?? []).filter((u) => u.fields.length > 1).map((u) => u.fields),
            uniqueIndexes: (m.uniques ?? []).filter((u) => u.fields.length > 1).map((u) => ({ name: null, fields: u.fields })),
          },
        ]),
      ),
    } as unknown as DataModel
    const client = { _runtimeDataModel: dmmf, _engineConfig: { inlineSchema: readFileSync('prisma/schema.prisma', 'utf8') } }
    const read = dataModelOfClient(client)!
    for (const [name, m] of Object.entries(parsed.models)) {
      expect(read.models[name]!.uniques, name).toEqual(m.uniques)
      expect(read.models[name]!.primaryKey, name).toEqual(m.primaryKey)
    }
    // so the policy knows the same compound keys that hold the tenant (User's tenantId_email)
    expect(compilePolicy(config, read).models.get('User')!.tenantKeys).toEqual(compilePolicy(config, parsed).models.get('User')!.tenantKeys)
    expect(compilePolicy(config, read).models.get('User')!.tenantKeys).toEqual(['tenantId_email'])
  })
})
