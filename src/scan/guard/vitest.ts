// The test-time guard for vitest: add this file to `test.setupFiles`. Every test that runs a query
// tenantfence reports (in log_only, so nothing is blocked) fails, naming the query and its call site.
//   export default defineConfig({ test: { setupFiles: ['tenantfence/vitest'] } })
import { afterAll, afterEach, beforeEach } from 'vitest'
import { applyGuardFlags, installGuard } from './collector.ts'

export { allowTenantViolations, TenantViolationError, type Allowance } from './collector.ts'

applyGuardFlags()
const guard = installGuard()
beforeEach(() => guard.beginTest())
afterEach((ctx) => guard.endTest(ctx.task.name))
afterAll(() => guard.close())
