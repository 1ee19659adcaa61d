// The typed config: validated once, with messages that name the bad value; the audit of
// schema models the config forgot; the policy compiled against the schema.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { auditModels, compilePolicy, defineConfig, parseSchema, type TenantFenceConfigInput } from '../src/index.ts'
import config from '../tenantfence.config.ts'
import { runCli } from './helpers/cli.ts'

const schema = parseSchema(readFileSync('prisma/schema.prisma', 'utf8'))
const clone = (): TenantFenceConfigInput => structuredClone(config) as TenantFenceConfigInput

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

  it('refuses thresholds in the wrong order and phases out of order', () => {
    const c = clone()
    c.thresholds.errorRateRollback = 0.0001
    expect(() => defineConfig(c)).toThrow(/errorRateRollback must be above errorRateWarning/)
    const d = clone()
    d.phases = [d.phases[1]!, d.phases[0]!, ...d.phases.slice(2)]
    expect(() => defineConfig(d)).toThrow(/phases must be listed 0..4 in order/)
  })

  it('refuses an unknown alert name or criterion kind', () => {
    const c = clone()
    ;(c.phases[1]!.alerts as string[]).push('TenantViolationSpik')
    expect(() => defineConfig(c)).toThrow(/TenantViolationSpike/)
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
      { model: 'SecurityAlert', reason: 'has a "tenantId" field' },
      { model: 'MfaBackupCode', reason: 'relates to tenant-owned User (user)' },
    ])
  })

  it('`tenantfence audit` exits 0 on the demo and 1 with a forgotten model', async () => {
    const clean = await runCli(['audit'])
    expect(clean.code).toBe(0)
    expect(clean.stdout).toContain('every model of prisma/schema.prisma is classified')
    const forgetful = await runCli(['audit', '--config', 'test/fixtures/config/forgetful.config.ts'])
    expect(forgetful.code).toBe(1)
    expect(forgetful.stdout).toContain('SecurityAlert: has a "tenantId" field')
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
        expect.objectContaining({ msg: expect.stringContaining('SecurityAlert'), models: [{ model: 'SecurityAlert', reason: 'has a "tenantId" field' }] }),
      ])
      const quiet = captureLogger()
      db.prisma.$extends(tenantEnforcement({ config, logger: quiet.logger }))
      expect(quiet.lines.filter((l) => String(l.msg).startsWith('TENANT_AUDIT'))).toEqual([])
    } finally {
      await db.close()
    }
  })
})
