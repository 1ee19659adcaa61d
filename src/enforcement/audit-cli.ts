// `tenantfence audit [--config FILE] [--schema FILE|DIR]`
import { relative } from 'node:path'
import { parseCommandLine } from '../cli-args.ts'
import { loadConfig } from '../config/load.ts'
import { findSchema } from '../config/schema-files.ts'
import { auditModels } from './audit.ts'
import { parseSchema } from './datamodel.ts'

export const summary = 'list schema models the config does not classify, and config entries the schema lacks'

const HELP = `tenantfence audit [--config FILE] [--schema FILE|DIR]

Lists schema models that look tenant-owned (a tenant field, or a relation to a tenant-owned model)
but are neither in "models" nor in "globalModels", and config entries naming models the schema
does not have (stale). Exit 0 when there are none, 1 otherwise.

  --config FILE       the config (default: tenantfence.config.ts, .mts, .cts, .mjs, .js, .cjs or .json)
  --schema FILE|DIR   the Prisma schema: a file, or a folder of .prisma files (default: where Prisma
                      finds it: prisma.config.ts "schema", package.json "prisma.schema",
                      prisma/schema.prisma, schema.prisma, prisma/schema/)`

export async function run(argv: string[]): Promise<number> {
  const values = parseCommandLine(argv, { config: { type: 'string' }, schema: { type: 'string' }, help: { type: 'boolean' } }, HELP)
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const config = await loadConfig(values.config as string | undefined)
  const source = await findSchema({ schema: values.schema as string | undefined })
  const where = `${relative(process.cwd(), source.path) || source.path}${source.files.length > 1 ? ` (${source.files.length} files)` : ''}`
  const findings = auditModels(config, parseSchema(source.text))
  if (findings.length === 0) {
    console.log(`audit: every model of ${where} is classified (tenant-owned or global).`)
    return 0
  }
  console.log(`audit: ${findings.length} problem(s) with ${where}:`)
  for (const f of findings) {
    const fix = f.kind === 'stale' ? 'Remove it, or rename it to the model it became.' : 'Add it to "models" (with a severity) or to "globalModels".'
    console.log(`  - ${f.model} ${f.reason}. ${fix}`)
  }
  return 1
}
