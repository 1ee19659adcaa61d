// `prisma generate` offline. The Prisma CLI insists on downloading a schema-engine binary
// before it generates, although generate never runs it. Pointing PRISMA_SCHEMA_ENGINE_BINARY
// at any existing executable skips the download; users with network access can run
// `npx prisma generate` directly. `--if-missing`: only when the client is not there yet (the
// pretest/predemo/pretypecheck hooks; the package has no `prepare`, which would run for users).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

if (process.argv.includes('--if-missing') && existsSync('src/demo/generated/prisma/client.ts')) process.exit(0)

const env = { ...process.env }
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = existsSync('/bin/true') ? '/bin/true' : process.execPath
env.PRISMA_HIDE_UPDATE_MESSAGE = '1'
env.CHECKPOINT_DISABLE = '1'
const result = spawnSync(process.execPath, ['node_modules/prisma/build/index.js', 'generate'], { stdio: 'inherit', env })
process.exit(result.status ?? 1)
