// Load a user's tenantfence.config.ts (or .js/.mjs/.cjs/.json) from the CLI. TypeScript configs
// are imported through jiti (ts-import.ts) so users need no build step for their config, in an
// ESM or a CommonJS project alike.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ensureConfig, TenantConfigError } from './define.ts'
import type { TenantFenceConfig } from './schema.ts'

export const DEFAULT_CONFIG_FILES = ['tenantfence.config.ts', 'tenantfence.config.mts', 'tenantfence.config.cts', 'tenantfence.config.mjs', 'tenantfence.config.js', 'tenantfence.config.cjs', 'tenantfence.config.json']

export async function loadConfig(path?: string, cwd = process.cwd()): Promise<TenantFenceConfig> {
  const file = path ? resolve(cwd, path) : DEFAULT_CONFIG_FILES.map((f) => resolve(cwd, f)).find((f) => existsSync(f))
  if (!file) {
    const next = 'run `npx tenantfence init` to write one from the Prisma schema, or pass --config <path>'
    throw new TenantConfigError(`no config found: looked for ${DEFAULT_CONFIG_FILES.join(', ')} in ${cwd}; ${next}`)
  }
  if (!existsSync(file)) throw new TenantConfigError(`config file not found: ${file}`)
  let mod: { default?: unknown }
  try {
    if (file.endsWith('.json')) {
      const { readFile } = await import('node:fs/promises')
      mod = { default: JSON.parse(await readFile(file, 'utf8')) }
    } else if (/\.[mc]?ts$/.test(file)) {
      const { importTypeScript } = await import('./ts-import.ts')
      mod = await importTypeScript(file)
    } else {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
    }
  } catch (err) {
    if (err instanceof TenantConfigError) throw err
    throw new TenantConfigError(`could not load ${file}: ${(err as Error).message}`)
  }
  // A CommonJS config (`module.exports = defineConfig(...)`, or TypeScript compiled to CommonJS)
  // arrives wrapped once more: unwrap a nested default.
  let value = mod.default
  if (value && typeof value === 'object' && 'default' in value && !('models' in value)) value = (value as { default: unknown }).default
  if (!value) throw new TenantConfigError(`${file} has no default export; export default defineConfig({ ... })`)
  return ensureConfig(value as TenantFenceConfig)
}
