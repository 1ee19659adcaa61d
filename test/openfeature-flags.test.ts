// Flags from a flag service through OpenFeature (tenantfence/openfeature), on a real client: the
// SDK's own InMemoryProvider follows a rollback through its change event; providers that fail,
// return bad values or never answer keep the last good flags, are counted in
// tenant_flag_errors_total, and never hold up a query.
import { randomUUID } from 'node:crypto'
import { InMemoryProvider, NOOP_PROVIDER, OpenFeature, ProviderEvents, type JsonValue, type Provider, type ResolutionDetails } from '@openfeature/server-sdk'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { runWithTenant, tenantEnforcement } from '../src/index.ts'
import { MAX_UNANSWERED, openFeatureFlags, type OpenFeatureFlagsOptions } from '../src/openfeature/index.ts'
import { captureLogger, config, seed } from './helpers/fence.ts'
import { seededDatabase } from './helpers/sqlite-copy.ts'
import { TestProvider } from './helpers/openfeature-provider.ts'
import { flagLabel } from '../src/config/flags.ts'

// generous: the machine runs many suites at once
const POLL = { timeout: 10_000, interval: 10 }
let cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c()
  cleanup = []
})

/** InMemoryProvider's flag shape: one variant, always served. */
function served(flags: Record<string, string | boolean | number>) {
  return Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, { variants: { on: v }, defaultVariant: 'on', disabled: false }]))
}

type Behaviour = 'answer' | 'throw' | 'hang'
/** A provider under the test's control: answers from `values`, throws, or never answers; emits change events on demand. */
class ControlledProvider extends TestProvider {
  readonly metadata = { name: 'controlled' }
  behaviour: Behaviour = 'answer'
  pending = 0
  constructor(public values: Record<string, JsonValue>) {
    super()
  }
  changed() {
    this.events.emit(ProviderEvents.ConfigurationChanged)
  }
  protected resolve<T>(key: string, fallback: T): Promise<ResolutionDetails<T>> {
    if (this.behaviour === 'throw') return Promise.reject(new Error('connection refused by flags.internal:8013?token=s3cr3t'))
    if (this.behaviour === 'hang') {
      this.pending++
      return new Promise<never>(() => {})
    }
    return this.answer(this.values, key, fallback)
  }
}

/** A provider set in a domain of its own (OpenFeature's API is a singleton) and its client. */
async function clientOf(provider: Provider) {
  const domain = `tf-${randomUUID()}`
  await OpenFeature.setProviderAndWait(domain, provider)
  cleanup.push(() => OpenFeature.setProviderAndWait(domain, NOOP_PROVIDER)) // releases this test's provider
  return OpenFeature.getClient(domain)
}

/** A seeded database and a tenantfence client whose flags come from `provider`. */
async function featureFenced(provider: Provider, options: Partial<OpenFeatureFlagsOptions> = {}) {
  const client = await clientOf(provider)
  const db = await seededDatabase(seed) // a copy of a seeded file: cheap
  cleanup.push(() => db.close())
  const { logger, lines } = captureLogger()
  const registry = new Registry()
  const fence = tenantEnforcement({ config, logger, registry, flags: { source: await openFeatureFlags({ client, timeoutMs: 1000, ...options }) } })
  cleanup.push(() => fence.close())
  const prisma = db.prisma.$extends(fence)
  const invalid = () => lines.filter((l) => String(l.msg).startsWith('TENANT_FLAG_INVALID'))
  const flagErrors = async (flag: string) => (await registry.getSingleMetricAsString('tenant_flag_errors_total')).split('\n').filter((l) => l.startsWith(`tenant_flag_errors_total{flag="${flag}"}`)).map((l) => Number(l.split(' ')[1]))[0] ?? 0
  const unscopedUser = () => runWithTenant({ tenantId: 1 }, () => prisma.user.findMany()).then(() => 'allowed', (e: { code?: string }) => e.code)
  return { client, fence, registry, lines, invalid, flagErrors, unscopedUser }
}

describe('OpenFeature: the SDK in-memory provider', () => {
  it('a rollback in the flag service reaches the next queries through the change event, no restart', async () => {
    const provider = new InMemoryProvider(served({ TENANT_ENFORCEMENT_MODE: 'enforce' }))
    const f = await featureFenced(provider, { refreshMs: 0 }) // events only: the change event alone carries it
    expect(await f.unscopedUser()).toBe('TENANT_CONTEXT_REQUIRED')
    provider.putConfiguration(served({ TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_MODELS: 'User' }))
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('log_only')
    expect(await f.unscopedUser()).toBe('allowed')
    expect(f.fence.currentFlags().flags.models).toEqual(['User'])
    const mode = (await f.registry.getSingleMetric('tenant_enforcement_mode')!.get()).values.find((v) => v.value === 1)
    expect(mode?.labels.mode).toBe('log_only')
    expect(f.invalid()).toEqual([])
  })

  it('maps the service keys to the flags, booleans and the sample rate as their own types', async () => {
    const provider = new InMemoryProvider(served({ 'tenant-mode': 'selective', 'tenant-enforce': 'User', 'tenant-enabled': false, 'tenant-sample': 0.5 }))
    const keys = { TENANT_ENFORCEMENT_MODE: 'tenant-mode', TENANT_ENFORCEMENT_ENFORCE_MODELS: 'tenant-enforce', TENANT_ENFORCEMENT_ENABLED: 'tenant-enabled', TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: 'tenant-sample' }
    const f = await featureFenced(provider, { keys })
    expect(f.fence.currentFlags()).toMatchObject({ mode: 'disabled', flags: { enabled: false, mode: 'selective', enforceModels: ['User'], logSampleRate: 0.5 } })
    provider.putConfiguration(served({ 'tenant-mode': 'selective', 'tenant-enforce': 'User', 'tenant-enabled': true, 'tenant-sample': 0.5 }))
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('selective')
    expect(await f.unscopedUser()).toBe('TENANT_CONTEXT_REQUIRED')
  })

  it('a bad value keeps the last good flags, counted under the flag with a did-you-mean', async () => {
    const provider = new InMemoryProvider(served({ TENANT_ENFORCEMENT_MODE: 'enforce' }))
    const f = await featureFenced(provider)
    provider.putConfiguration(served({ TENANT_ENFORCEMENT_MODE: 'enforced' }))
    await expect.poll(() => f.invalid().length, POLL).toBe(1)
    expect(await f.flagErrors('TENANT_ENFORCEMENT_MODE')).toBe(1)
    expect(JSON.stringify(f.invalid()[0])).toContain('did you mean \\"enforce\\"')
    expect(await f.unscopedUser()).toBe('TENANT_CONTEXT_REQUIRED')
    // A boolean flag stored as text is a type mismatch, refused the same way.
    provider.putConfiguration(served({ TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_ENABLED: 'yes' }))
    await expect.poll(() => f.flagErrors('TENANT_ENFORCEMENT_ENABLED'), POLL).toBe(1)
    expect(f.fence.currentFlags().mode).toBe('enforce')
  })

  it('MODE deleted in the service, or selective without ENFORCE_MODELS, is refused: never enforcement off', async () => {
    const provider = new InMemoryProvider(served({ TENANT_ENFORCEMENT_MODE: 'enforce' }))
    const f = await featureFenced(provider)
    provider.putConfiguration(served({}))
    await expect.poll(() => f.flagErrors('TENANT_ENFORCEMENT_MODE'), POLL).toBe(1)
    provider.putConfiguration(served({ TENANT_ENFORCEMENT_MODE: 'selective' }))
    await expect.poll(() => f.flagErrors('TENANT_ENFORCEMENT_ENFORCE_MODELS'), POLL).toBe(1)
    expect(f.fence.currentFlags().mode).toBe('enforce')
    expect(await f.unscopedUser()).toBe('TENANT_CONTEXT_REQUIRED')
  })

  it('a change made between the first read and the client\'s creation is caught up at once', async () => {
    const provider = new InMemoryProvider(served({ TENANT_ENFORCEMENT_MODE: 'enforce' }))
    const client = await clientOf(provider)
    const factory = await openFeatureFlags({ client, refreshMs: 0 })
    const delivered = new Promise<void>((ok) => client.addHandler(ProviderEvents.ConfigurationChanged, () => ok()))
    provider.putConfiguration(served({ TENANT_ENFORCEMENT_MODE: 'log_only' }))
    await delivered // the change event is gone before tenantfence subscribes
    const fence = tenantEnforcement({ config, registry: new Registry(), logger: captureLogger().logger, flags: { source: factory } })
    cleanup.push(() => fence.close())
    await expect.poll(() => fence.currentFlags().mode, POLL).toBe('log_only')
  })

  it('refuses to start on a first read that fails, lacks MODE or does not answer', async () => {
    const bad = await clientOf(new InMemoryProvider(served({ TENANT_ENFORCEMENT_MODE: 'enforced' })))
    const factory = await openFeatureFlags({ client: bad })
    expect(() => tenantEnforcement({ config, registry: new Registry(), flags: { source: factory } })).toThrow(/did you mean "enforce"/)
    const empty = await clientOf(new InMemoryProvider({}))
    await expect(openFeatureFlags({ client: empty })).rejects.toMatchObject({ code: 'TENANT_FLAG_INVALID', message: expect.stringContaining('lacks TENANT_ENFORCEMENT_MODE') })
    const hung = new ControlledProvider({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const hungClient = await clientOf(hung)
    hung.behaviour = 'hang'
    await expect(openFeatureFlags({ client: hungClient, timeoutMs: 50 })).rejects.toMatchObject({ message: expect.stringContaining('no answer for') })
    // a mapping for a flag that does not exist is refused, with a suggestion
    await expect(openFeatureFlags({ client: empty, keys: { TENANT_ENFORCEMENT_MOD: 'mode' } as never })).rejects.toThrow(/keys names "TENANT_ENFORCEMENT_MOD": did you mean "TENANT_ENFORCEMENT_MODE"/)
  })
})

describe('OpenFeature: providers that misbehave', () => {
  it('a provider that throws keeps the last good flags, counted once, its message (a URL, a token) never logged', async () => {
    const provider = new ControlledProvider({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const f = await featureFenced(provider)
    provider.behaviour = 'throw'
    provider.changed()
    await expect.poll(() => f.invalid().length, POLL).toBe(1)
    provider.changed() // the same failure again: not a second error
    provider.changed()
    expect(await f.unscopedUser()).toBe('TENANT_CONTEXT_REQUIRED')
    expect(await f.flagErrors('TENANT_ENFORCEMENT_ENABLED')).toBe(1) // the first flag asked
    expect(JSON.stringify(f.lines)).not.toContain('s3cr3t')
    expect(JSON.stringify(f.invalid()[0])).toContain('GENERAL')
    provider.behaviour = 'answer'
    provider.values = { TENANT_ENFORCEMENT_MODE: 'log_only' }
    provider.changed()
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('log_only')
    expect(f.invalid()).toHaveLength(1)
  })

  it('an evaluation that throws is the flag service\'s error (label service), not a flag file\'s', async () => {
    const broken = new Proxy({}, { get: () => () => { throw new Error('client torn down') } }) as never
    await expect(openFeatureFlags({ client: broken, refreshMs: 0 })).rejects.toMatchObject({ flag: 'service', message: expect.stringContaining('the evaluation threw') })
    expect(flagLabel('service')).toBe('service')
    expect(flagLabel('openfeature')).toBe('file')
  })

  it('a provider that never answers: queries run on the last good flags meanwhile, the hang is counted, and the next round still runs', async () => {
    const provider = new ControlledProvider({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const f = await featureFenced(provider, { timeoutMs: 500 })
    provider.behaviour = 'hang'
    provider.changed()
    await expect.poll(() => provider.pending, POLL).toBeGreaterThan(0)
    // Evaluations are hanging now, and for good (these never answer): a query that waited for
    // one would never return. It is answered at once, on the last good flags.
    expect(await f.unscopedUser()).toBe('TENANT_CONTEXT_REQUIRED')
    await expect.poll(() => f.invalid().length, POLL).toBe(1)
    expect(JSON.stringify(f.invalid()[0])).toContain('no answer for')
    expect(await f.flagErrors('TENANT_ENFORCEMENT_ENABLED')).toBe(1)
    provider.behaviour = 'answer'
    provider.values = { TENANT_ENFORCEMENT_MODE: 'log_only' }
    provider.changed()
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('log_only')
    expect(await f.unscopedUser()).toBe('allowed')
  })

  it('a provider hung for good: evaluations left pending are bounded, then no new round starts (refused as the service\'s)', async () => {
    const provider = new ControlledProvider({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const f = await featureFenced(provider, { timeoutMs: 1 })
    provider.behaviour = 'hang'
    // Each change starts a round (one at a time) that ends at timeoutMs with every ask still pending:
    // changes until the bound is reached (however slow the machine), with a ceiling far above it.
    const refusedAtBound = () => f.invalid().some((l) => JSON.stringify(l).includes('were never answered'))
    for (let i = 0; i < 20 * MAX_UNANSWERED && !refusedAtBound(); i++) {
      provider.changed()
      await new Promise((r) => setTimeout(r, 2))
    }
    expect(refusedAtBound()).toBe(true)
    expect(provider.pending).toBe(MAX_UNANSWERED)
    const before = provider.pending
    provider.changed()
    await new Promise((r) => setTimeout(r, 20))
    expect(provider.pending).toBe(before) // no new asks
    expect(await f.flagErrors('service')).toBeGreaterThanOrEqual(1)
    expect(f.fence.currentFlags().mode).toBe('enforce') // the last good flags
  })

  it('without change events, the refresh picks a change up; close() removes its event handlers', async () => {
    const provider = new ControlledProvider({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const f = await featureFenced(provider, { refreshMs: 20 })
    provider.values = { TENANT_ENFORCEMENT_MODE: 'log_only' } // no event emitted
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('log_only')
    const handlers = () => f.client.getHandlers(ProviderEvents.ConfigurationChanged).length + f.client.getHandlers(ProviderEvents.Ready).length
    expect(handlers()).toBe(2)
    f.fence.close()
    expect(handlers()).toBe(0)
    provider.values = { TENANT_ENFORCEMENT_MODE: 'enforce' }
    provider.changed()
    expect(f.fence.currentFlags().mode).toBe('log_only')
  })
})
