export * from './schema.ts'
export * from './flags.ts'
export { defineConfig, parseConfig, ensureConfig, phaseFlags, stringifyFlags, TenantConfigError } from './define.ts'
export { closest, describeInvalid } from './suggest.ts'
