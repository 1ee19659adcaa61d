// `prisma generate` offline, for both demo clients. The Prisma CLI insists on downloading a
// schema-engine binary before it generates, although generate never runs it. Pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any existing executable skips the download; users with network
// access can run `npx prisma generate` directly. `--if-missing`: only when a client is not there
// yet (the pretest/predemo/pretypecheck hooks; the package has no `prepare`, which would run for users).
//
// Two clients from one schema: prisma/schema.prisma (SQLite, the embedded demo) is the only
// hand-written schema. Its PostgreSQL twin, prisma/postgres/schema.prisma, is derived here
// (provider and output changed, models copied verbatim) and git-ignored, so the two cannot drift;
// prisma/postgres/prisma.config.ts points `prisma migrate deploy` at it and at the PostgreSQL
// migrations beside it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

const SOURCE = 'prisma/schema.prisma'
const PG_SCHEMA = 'prisma/postgres/schema.prisma'
const CLIENTS = ['src/demo/generated/prisma/client.ts', 'src/demo/generated/prisma-pg/client.ts']

/** The PostgreSQL schema: the same models, provider postgresql, its client in src/demo/generated/prisma-pg. */
export function derivePostgresSchema(text) {
  const datasource = /(datasource\s+\w+\s*\{[^}]*?provider\s*=\s*)"sqlite"/
  const output = /(generator\s+client\s*\{[^}]*?output\s*=\s*)"[^"]*"/
  if (!datasource.test(text)) throw new Error(`${SOURCE}: expected a datasource with provider = "sqlite"`)
  if (!output.test(text)) throw new Error(`${SOURCE}: expected a generator client with an output`)
  const header = `// DO NOT EDIT: derived from prisma/schema.prisma by scripts/prisma-generate.mjs (npm run prisma:generate).\n`
  return header + text.replace(datasource, '$1"postgresql"').replace(output, '$1"../../src/demo/generated/prisma-pg"')
}

function generate(args) {
  const env = { ...process.env }
  if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = existsSync('/bin/true') ? '/bin/true' : process.execPath
  env.PRISMA_HIDE_UPDATE_MESSAGE = '1'
  env.CHECKPOINT_DISABLE = '1'
  const result = spawnSync(process.execPath, ['node_modules/prisma/build/index.js', 'generate', ...args], { stdio: 'inherit', env })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // the derived schema counts as part of the PostgreSQL client: tests and migrations read it
  if (process.argv.includes('--if-missing') && [...CLIENTS, PG_SCHEMA].every((c) => existsSync(c))) process.exit(0)
  generate([])
  mkdirSync('prisma/postgres', { recursive: true })
  const derived = derivePostgresSchema(readFileSync(SOURCE, 'utf8'))
  if (!existsSync(PG_SCHEMA) || readFileSync(PG_SCHEMA, 'utf8') !== derived) writeFileSync(PG_SCHEMA, derived)
  generate(['--config', 'prisma/postgres/prisma.config.ts'])
}
