// A second Prisma client, generated with Prisma 6, for the enforcement tests against Prisma 6
// (test/prisma6-enforcement.test.ts). test/prisma6 has its own package.json and node_modules, so
// Prisma 6 and 7 never share a @prisma/client. The schema is the demo's own (prisma/schema.prisma)
// with the generator Prisma 6 needs to run offline on a driver adapter (engineType "client").
// Usage: node scripts/prisma6-install.mjs [--if-missing]   (.ci/run calls it without the flag)
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const dir = join(root, 'test', 'prisma6')
const ifMissing = process.argv.includes('--if-missing')

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: dir, stdio: 'inherit', env })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

if (!ifMissing || !existsSync(join(dir, 'node_modules', 'prisma'))) run('npm', ['ci', '--no-audit', '--no-fund'])

const generator = ['generator client {', '  provider     = "prisma-client"', '  output       = "./generated"', '  moduleFormat = "esm"', '  engineType   = "client"', '}'].join('\n')
const demo = readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8')
// Prisma 6 wants a url in the schema (7 reads it from prisma.config.ts); the tests open their own databases.
const schema = demo.replace(/generator client \{[^}]*\}/, generator).replace(/(datasource db \{[^}]*provider\s*=\s*"sqlite")/, '$1\n  url      = "file:./unused.db"')
if (!schema.includes('engineType') || !schema.includes('unused.db')) throw new Error('prisma6-install: prisma/schema.prisma lacks the generator or datasource block this script rewrites')
writeFileSync(join(dir, 'schema.prisma'), `// Written by scripts/prisma6-install.mjs from prisma/schema.prisma. DO NOT EDIT.\n${schema}`)

if (!ifMissing || !existsSync(join(dir, 'generated', 'client.ts'))) {
  // generate never runs the schema engine, but the CLI downloads one unless told where it is (ENVIRONMENT: Prisma 6)
  const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: existsSync('/bin/true') ? '/bin/true' : process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' }
  run(process.execPath, ['node_modules/prisma/build/index.js', 'generate', '--schema', 'schema.prisma'], env)
}
