// `tenantfence init`: a starter tenantfence.config.ts from the app's Prisma schema.
import { existsSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { relative, resolve } from 'node:path'
import { parseCommandLine } from '../cli-args.ts'
import { CliError } from '../cli-error.ts'
import { findSchema } from '../config/schema-files.ts'
import { parseSchema } from '../enforcement/datamodel.ts'
import { describeCandidate, InitError, proposeConfig, TenantUnclearError, type Proposal, type TenantCandidate } from './propose.ts'
import { renderConfig } from './render.ts'

export const summary = 'write a starter tenantfence.config.ts from the Prisma schema'

const HELP = `tenantfence init [--schema FILE|DIR] [--out FILE] [--tenant-model M] [--tenant-field F] [--force]

Reads the Prisma schema and writes a starter config: models with the tenant field, models that
reach them through a relation (with "via", read from the relation's foreign key, or the back side
of a one-to-one whose unique key a tenant-owned model holds), the rest as global candidates to
review. Severities start at 'TO_REVIEW' for your team to set (audit lists them until you do).

The tenant model is read from the relations: it prints the candidates ranked by how many models
reach each through required keys, and refuses (exit 1, with the line to run) when the choice is
not clear: an organization above the model the data is keyed on, a runner-up close behind, or
two candidates joined by a membership.

  --schema FILE|DIR    the Prisma schema (default: where Prisma finds it, as in \`tenantfence audit\`)
  --out FILE           where to write (default: tenantfence.config.ts)
  --tenant-model M     the tenant model (default: the best-supported candidate, when it is clear)
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
  let proposal: Proposal
  try {
    proposal = proposeConfig(parseSchema(source.text), given)
  } catch (err) {
    if (!(err instanceof TenantUnclearError)) throw err
    // The same command with the tenant named: every other option as the user gave it.
    const rest = argv.filter((a, i) => a !== '--tenant-model' && argv[i - 1] !== '--tenant-model' && !a.startsWith('--tenant-model='))
    const lines = err.candidates.map((c) => `  npx tenantfence init ${[...rest, '--tenant-model', c].join(' ')}`)
    throw new InitError(
      `${err.message}.\nCandidates (models reaching each through required keys):\n${ranking(err.ranking, 8)}\n` +
        `Say which model isolates your data (it is a judgment about your app, not the schema's to make):\n${lines.join('\n')}`,
    )
  }
  const schemaName = relative(cwd, source.path) || source.path
  await writeFile(out, renderConfig(proposal, { schema: schemaName, appName: appName(cwd) }))
  const { tenant, fieldScoped, ownFields, relationScoped, globalCandidates } = proposal
  console.log(`init: wrote ${relative(cwd, out)} from ${schemaName}${source.files.length > 1 ? ` (${source.files.length} files)` : ''}`)
  console.log(`  tenant: ${tenant.model}.${tenant.idField}, field "${tenant.field}"${given.tenantModel ? ' (--tenant-model)' : ''}`)
  console.log(`  candidates (models reaching each through required keys):\n${ranking(proposal.ranking, 5)}`)
  console.log(`  ${fieldScoped.length} model(s) with ${tenant.field}: ${fieldScoped.map((m) => (ownFields[m] ? `${m} (${ownFields[m]})` : m)).join(', ') || '-'}`)
  console.log(`  ${relationScoped.length} through a relation: ${relationScoped.map((r) => `${r.model} via ${r.via}${r.ownerKey ? ` (one-to-one held by ${r.target}: review)` : ''}`).join(', ') || '-'}`)
  console.log(`  ${globalCandidates.length} global candidate(s) to review: ${globalCandidates.map((g) => g.model).join(', ') || '-'}`)
  console.log("Next: set each severity ('TO_REVIEW'), review globalModels, then `npx tenantfence audit`.")
  return 0
}

function ranking(candidates: readonly TenantCandidate[], limit = candidates.length): string {
  return candidates.slice(0, limit).map((c) => `    ${describeCandidate(c)}`).join('\n')
}

function appName(cwd: string): string {
  try {
    const name = (JSON.parse(readFileSync(resolve(cwd, 'package.json'), 'utf8')) as { name?: unknown }).name
    return typeof name === 'string' && name ? name : 'my app'
  } catch {
    return 'my app'
  }
}
