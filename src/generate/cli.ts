// `tenantfence generate [--check] [--config FILE] [--out DIR]`
import { existsSync, readFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { parseCommand } from '../cli-args.ts'
import { CliError } from '../cli-error.ts'
import { DEFAULT_CONFIG_FILES, loadConfig } from '../config/load.ts'
import { generateFiles } from './files.ts'
import { REGENERATE_COMMAND } from './notice.ts'
import { checkGenerated, isClean, writeGenerated } from './write.ts'

export const summary = 'write (or check) dashboards/ and alerts/ from the config'

const HELP = `tenantfence generate [--check] [--config FILE] [--out DIR] [--schema FILE]

Writes <out>/dashboards (Grafana JSON) and <out>/alerts (Prometheus rule files per phase,
promtool tests, runbooks) from the typed config; with \`rls\` in the config, also the PostgreSQL
row-level security SQL (<out>/<rls.dir>/migration.sql and rollback.sql) from the Prisma schema.

  --config FILE   the config (default: tenantfence.config.ts, .mjs, .js or .json in the current directory)
  --out DIR       where dashboards/ and alerts/ go (default: the current directory)
  --schema FILE   the Prisma schema, for rls (default: prisma/schema.prisma)
  --check         write nothing; exit 1 naming every file that differs, is missing or is extra`

export async function run(argv: string[]): Promise<number> {
  const text = { type: 'string' } as const
  const parsed = parseCommand(argv, { config: text, out: text, schema: text, check: { type: 'boolean' } }, HELP).values
  if (parsed.help) {
    console.log(HELP)
    return 0
  }
  const values = parsed as { config?: string; out?: string; schema?: string }
  const bools = { check: parsed.check === true }
  const cwd = process.cwd()
  const config = await loadConfig(values.config, cwd)
  const configFile = values.config ?? DEFAULT_CONFIG_FILES.find((f) => existsSync(resolve(cwd, f)))!
  const outDir = resolve(cwd, values.out ?? '.')
  const schemaFile = resolve(cwd, values.schema ?? 'prisma/schema.prisma')
  if (config.rls && !existsSync(schemaFile)) throw new CliError(`the config has rls, which is generated from the Prisma schema: ${schemaFile} does not exist; pass --schema <file>`)
  const schema = config.rls ? readFileSync(schemaFile, 'utf8') : undefined
  const files = generateFiles(config, { configName: basename(configFile), schema })

  if (bools.check) {
    const result = await checkGenerated(outDir, files)
    if (isClean(result)) {
      console.log(`generate --check: ${files.length} files up to date in ${outDir}`)
      return 0
    }
    const lines = [
      ...result.changed.map((c) => `  changed: ${c.path} (first difference at line ${c.line})`),
      ...result.missing.map((p) => `  missing: ${p}`),
      ...result.extra.map((p) => `  extra:   ${p} (not generated from the config)`),
    ]
    const again = `${REGENERATE_COMMAND}${values.config ? ` --config ${values.config}` : ''}${values.out ? ` --out ${values.out}` : ''}`
    console.error(`generate --check: generated files are out of date in ${outDir}:\n${lines.join('\n')}\nRun \`${again}\` and commit the result.`)
    return 1
  }

  const result = await writeGenerated(outDir, files)
  for (const p of result.written) console.log(`  wrote    ${p}`)
  for (const p of result.removed) console.log(`  removed  ${p} (no longer generated)`)
  for (const p of result.foreign) console.warn(`  warning: ${p} is in a generated folder but was not generated; --check will report it`)
  console.log(`generate: ${result.written.length} written, ${result.unchanged.length} unchanged, ${result.removed.length} removed in ${outDir}`)
  return 0
}
