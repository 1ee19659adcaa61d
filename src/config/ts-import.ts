// Import a TypeScript (or ESM/CJS JavaScript) file at run time, for the user's
// tenantfence.config.ts and prisma.config.ts. jiti transpiles in process, in either kind of
// project (a `"type": "module"` one or a plain CommonJS one), with no build step and no native
// binary; it is loaded only when a config is read, so the runtime never pulls it in.
import { pathToFileURL } from 'node:url'

/** The module's exports (its namespace; `default` is the default export). */
export async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  const jiti_ = await import('jiti')
  // Bundled into the CLI from jiti's CommonJS entry, the named export may only be on the default.
  const createJiti = typeof jiti_.createJiti === 'function' ? jiti_.createJiti : jiti_.default
  // fsCache: transpiled files are kept by content hash (node_modules/.cache/jiti), so an edited config
  // is transpiled again and an unchanged one loads in a few milliseconds the next time.
  const jiti = createJiti(pathToFileURL(file).href, { fsCache: true, interopDefault: false })
  return (await jiti.import(file)) as Record<string, unknown>
}
