// The test-time guard's core, shared by the vitest and Jest setup files: run the app's test suite
// with tenantfence in log_only, collect every violation the extension reports (through its
// diagnostics channel, so the app builds its client as it always does), and fail the test that
// caused it, naming the query and its call site. Violations outside any test (a beforeAll seed)
// fail the file at its end.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { VIOLATION_CHANNEL, type ViolationEvent } from '../../telemetry/violation-channel.ts'

/** Which violations a test means to produce (a test of the app's 403 path, say). */
export interface Allowance {
  model?: string
  violation?: ViolationEvent['violation']
}

export interface TenantGuard {
  /** a test starts: violations from now on are its own */
  beginTest(): void
  /** the test ended: throws a TenantViolationError naming what it ran, unless allowed */
  endTest(testName: string | undefined): void
  /** let this test produce violations (all of them, or those matching) */
  allow(match?: Allowance): void
  /** stop listening; throws when violations happened outside any test */
  close(): void
}

export class TenantViolationError extends Error {
  constructor(
    message: string,
    readonly violations: readonly ViolationEvent[],
  ) {
    super(message)
    this.name = 'TenantViolationError'
  }
}

/** The flags of the guarded run; TENANTFENCE_GUARD_FLAGS=keep leaves the environment's own. */
export function applyGuardFlags(env: NodeJS.ProcessEnv = process.env): void {
  if (env.TENANTFENCE_GUARD_FLAGS === 'keep') return
  env.TENANT_ENFORCEMENT_ENABLED = 'true'
  env.TENANT_ENFORCEMENT_MODE = 'log_only'
  env.TENANT_ENFORCEMENT_MODELS = 'all'
}

const ACTIVE = Symbol.for('tenantfence.guard')
type GlobalWithGuard = typeof globalThis & { [ACTIVE]?: TenantGuard }

export function installGuard(): TenantGuard {
  let events: ViolationEvent[] = []
  let outside: ViolationEvent[] = []
  let inTest = false
  let allowances: Allowance[] = []
  const listener = (message: unknown) => {
    const e = message as ViolationEvent
    if (inTest) events.push(e)
    else outside.push(e)
  }
  subscribe(VIOLATION_CHANNEL, listener)
  const guard: TenantGuard = {
    beginTest() {
      // Stragglers of the previous test's unawaited queries land here, outside any test.
      inTest = true
      events = []
      allowances = []
    },
    endTest(testName) {
      inTest = false
      const allowed = (e: ViolationEvent) => allowances.some((a) => (a.model ?? e.model) === e.model && (a.violation ?? e.violation) === e.violation)
      const seen = events.filter((e) => !allowed(e))
      events = []
      allowances = []
      if (seen.length) throw new TenantViolationError(describe(seen, testName ? `the test "${testName}"` : 'this test'), seen)
    },
    allow(match = {}) {
      allowances.push(match)
    },
    close() {
      unsubscribe(VIOLATION_CHANNEL, listener)
      if ((globalThis as GlobalWithGuard)[ACTIVE] === guard) delete (globalThis as GlobalWithGuard)[ACTIVE]
      const left = outside
      outside = []
      if (left.length) throw new TenantViolationError(describe(left, 'code outside any test (a beforeAll/afterAll hook, or a query a test did not await)'), left)
    },
  }
  ;(globalThis as GlobalWithGuard)[ACTIVE] = guard
  return guard
}

/**
 * In a test that means to produce violations (it checks the app's 403, say): the guard lets
 * them through, all of them or those matching.
 */
export function allowTenantViolations(match?: Allowance): void {
  const guard = (globalThis as GlobalWithGuard)[ACTIVE]
  if (!guard) throw new Error('allowTenantViolations(): the tenantfence guard is not installed; add tenantfence\'s vitest or Jest setup file to the test config')
  guard.allow(match)
}

function describe(vs: readonly ViolationEvent[], who: string): string {
  const query = (v: ViolationEvent) => `${v.model === '$raw' ? 'raw SQL' : v.model}.${v.operation}`
  const lines = vs.slice(0, 10).map((v) => `  - ${query(v)}: ${v.violation} (${v.severity}, ${v.decision}) at ${callSite(v.stack)}`)
  if (vs.length > 10) lines.push(`  … and ${vs.length - 10} more`)
  return [
    `tenantfence: ${who} ran ${vs.length === 1 ? '1 query that breaks' : `${vs.length} queries that break`} tenant isolation:`,
    ...lines,
    'Pin the request\'s tenant in the query (see docs/isolation.md), or call allowTenantViolations() in a test that means to produce one.',
  ].join('\n')
}

/** `test/users.test.ts:12:5` from the first app frame of a cleaned stack. */
export function callSite(stack: string): string {
  const first = stack.split('\n')[0]?.trim()
  if (!first) return 'a call site Prisma did not record (it records none for raw SQL)'
  const m = first.match(/\(?((?:\.\/|\/)?[^\s()]+:\d+:\d+)\)?$/)
  return (m?.[1] ?? first.replace(/^at\s+/, '')).replace(/^\.\//, '')
}
