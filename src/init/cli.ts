// `tenantfence init`: a starter tenantfence.config.ts from the app's Prisma schema.
import { existsSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { relative, resolve } from 'node:path'
import { parseCommandLine } from '../cli-args.ts'
import { CliError } from '../cli-error.ts'
import { findSchema } from '../config/schema-files.ts'
import { parseSchema } from '../enforcement/datamodel.ts'
import { proposeConfig } from './propose.ts'
import { renderConfig } from './render.ts'

export const summary = 'write a starter tenantfence.config.ts from the Prisma schema'

const HELP = `tenantfence init [--schema FILE|DIR] [--out FILE] [--tenant-model M] [--tenant-field F] [--force]

Reads the Prisma schema and writes a starter config: models with the tenant field, models that
reach them through a relation (with "via", read from the relation's foreign key), the rest as
global candidates to review. Severities are left for your team to set.

  --schema FILE|DIR    the Prisma schema (default: where Prisma finds it, as in \`tenantfence audit\`)
  --out FILE           where to write (default: tenantfence.config.ts)
  --tenant-model M     the tenant model (default: the model most others point at with a foreign key)
  --tenant-field F     the tenant field (default: the name those foreign keys share most)
  --force              overwrite an existing file`

export async function run(argv: string[]): Promise<number> {
  const text = { type: 'string' } as const
  const flag = { type: 'boolean' } as const
  const options = { schema: text, out: text, 'tenant-model': text, 'tenant-field': text, force: flag, help: flag }
  const values = parseCommandLine(argv, options, HELP)
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const cwd = process.cwd()
  const out = resolve(cwd, (values.out as string | undefined) ?? 'tenantfence.config.ts')
  if (existsSync(out) && !values.force) throw new CliError(`${relative(cwd, out)} already exists; pass --force to overwrite it`)
  const source = await findSchema({ schema: values.schema as string | undefined, cwd })
  const given = { tenantModel: values['tenant-model'] as string | undefined, tenantField: values['tenant-field'] as string | undefined }
  const proposal = proposeConfig(parseSchema(source.text), given)
  const schemaName = relative(cwd, source.path) || source.path
  await writeFile(out, renderConfig(proposal, { schema: schemaName, appName: appName(cwd) }))
  const { tenant, fieldScoped, relationScoped, globalCandidates } = proposal
  console.log(`init: wrote ${relative(cwd, out)} from ${schemaName}${source.files.length > 1 ? ` (${source.files.length} files)` : ''}`)
  console.log(`  tenant: ${tenant.model}.${tenant.idField}, field "${tenant.field}"`)
  console.log(`  ${fieldScoped.length} model(s) with ${tenant.field}: ${fieldScoped.join(', ') || '-'}`)
  console.log(`  ${relationScoped.length} through a relation: ${relationScoped.map((r) => `${r.model} via ${r.via}`).join(', ') || '-'}`)
  console.log(`  ${globalCandidates.length} global candidate(s) to review: ${globalCandidates.map((g) => g.model).join(', ') || '-'}`)
  console.log('Next: set each severity (TO_REVIEW), review globalModels, then `npx tenantfence audit`.')
  return 0
}

function appName(cwd: string): string {
  try {
    const name = (JSON.parse(readFileSync(resolve(cwd, 'package.json'), 'utf8')) as { name?: unknown }).name
    return typeof name === 'string' && name ? name : 'my app'
  } catch {
    return 'my app'
  }
}
