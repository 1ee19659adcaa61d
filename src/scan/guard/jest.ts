// The test-time guard for Jest: add this file to `setupFilesAfterEnv`. Every test that runs a query
// tenantfence reports (in log_only, so nothing is blocked) fails, naming the query and its call site.
//   export default { setupFilesAfterEnv: ['tenantfence/jest'] }
// Jest's hooks are globals (injectGlobals, the default), so this file needs no Jest import.
import { applyGuardFlags, installGuard } from './collector.ts'

export { allowTenantViolations, TenantViolationError, type Allowance } from './collector.ts'

interface JestGlobals {
  beforeEach(fn: () => void): void
  afterEach(fn: () => void): void
  afterAll(fn: () => void): void
  expect: { getState(): { currentTestName?: string } }
}

const jest = globalThis as unknown as Partial<JestGlobals>
if (typeof jest.afterEach !== 'function' || !jest.expect) {
  throw new Error('tenantfence/jest: Jest globals are missing; list this file in setupFilesAfterEnv (and keep injectGlobals on)')
}
const { beforeEach, afterEach, afterAll, expect } = jest as JestGlobals

applyGuardFlags()
const guard = installGuard()
beforeEach(() => guard.beginTest())
afterEach(() => guard.endTest(expect.getState().currentTestName))
afterAll(() => guard.close())
