// tenantfence's own version, for reports (read once from the package's package.json, in src/ and dist/ alike).
import { createRequire } from 'node:module'

export const TENANTFENCE_VERSION: string = (() => {
  try {
    return String((createRequire(import.meta.url)('../../package.json') as { version?: unknown }).version ?? '0.0.0')
  } catch {
    return '0.0.0'
  }
})()
