// npm run build: ESM JavaScript + type declarations in dist/, the CLI executable.
// The demo app (src/demo) is not part of the published package.
import { spawnSync } from 'node:child_process'
import { chmodSync, rmSync } from 'node:fs'

rmSync('dist', { recursive: true, force: true })
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
if (tsc.status !== 0) process.exit(tsc.status ?? 1)
chmodSync('dist/cli.js', 0o755)
console.log('built dist/ (ESM + .d.ts)')
