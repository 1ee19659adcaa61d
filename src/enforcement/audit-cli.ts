import { readFile } from 'node:fs/promises'
import { loadConfig } from '../config/load.ts'
import { CliError, parseArgs } from '../cli-error.ts'
import { auditModels } from './audit.ts'
import { parseSchema } from './datamodel.ts'

export const summary = 'list schema models the config does not classify'

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs(argv, { strings: ['config', 'schema'] })
  const config = await loadConfig(values.config)
  const schemaPath = values.schema ?? 'prisma/schema.prisma'
  const text = await readFile(schemaPath, 'utf8').catch(() => {
    throw new CliError(`cannot read the Prisma schema at ${schemaPath}; pass --schema <path>`)
  })
  const findings = auditModels(config, parseSchema(text))
  if (findings.length === 0) {
    console.log(`audit: every model of ${schemaPath} is classified (tenant-owned or global).`)
    return 0
  }
  console.log(`audit: ${findings.length} model(s) of ${schemaPath} are not classified by the config:`)
  for (const f of findings) console.log(`  - ${f.model}: ${f.reason}. Add it to "models" (with a severity) or to "globalModels".`)
  return 1
}
