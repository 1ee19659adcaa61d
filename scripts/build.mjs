// npm run build: the published package in dist/.
// - JavaScript: esbuild bundles src into ESM entries (index, express, fastify, web, the vitest and
//   Jest guards, openfeature, cli) with shared chunks, so every entry sees one copy of the tenant context
//   (AsyncLocalStorage). The runtime's dependencies stay external (installed with the package),
//   and so do the optional peers (typescript for `tenantfence scan`, vitest for the guard); what
//   only the CLI uses (the Grafana SDK, yaml, jiti) is bundled into chunks the CLI loads on
//   demand, so a production install of the runtime does not pull them. ESM only: Node ≥ 20.19
//   require()s it from CommonJS.
// - Types: tsc declarations in dist/types. No source maps: they would point at src/, which is
//   not shipped.
// The demo app (src/demo, and the scan's demo line and measuring script) is not part of the package.
import { spawnSync } from 'node:child_process'
import { chmodSync, readFileSync, rmSync } from 'node:fs'
import { build } from 'esbuild'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
// Installed with the package, or provided by the app: never bundled.
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})].flatMap((name) => [name, `${name}/*`])

rmSync('dist', { recursive: true, force: true })
await build({
  entryPoints: {
    index: 'src/index.ts',
    express: 'src/http/index.ts',
    fastify: 'src/fastify/index.ts',
    web: 'src/web/index.ts',
    vitest: 'src/scan/guard/vitest.ts',
    jest: 'src/scan/guard/jest.ts',
    openfeature: 'src/openfeature/index.ts',
    cli: 'src/cli.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external,
  // jiti's ESM entry require()s its dist files relative to itself; its CommonJS entry is bundleable.
  alias: { jiti: './node_modules/jiti/lib/jiti.cjs' },
  // Bundled CommonJS (jiti) calls require(): give ESM chunks one.
  banner: { js: "import { createRequire as __tfCreateRequire } from 'node:module'; const require = __tfCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'warning',
})
chmodSync('dist/cli.js', 0o755)

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
if (tsc.status !== 0) process.exit(tsc.status ?? 1)
console.log('built dist/ (ESM entries + chunks, dist/types/*.d.ts)')
