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
  // moduleCache off: `generate --check` after an edit must see the file as it is now.
  const jiti = createJiti(pathToFileURL(file).href, { moduleCache: false, fsCache: false, interopDefault: false })
  return (await jiti.import(file)) as Record<string, unknown>
}
