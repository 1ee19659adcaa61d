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

const HELP = `tenantfence init [--schema FILE|DIR] [--out FILE] [--tenant-model M] [--tenant-field F] [--levels U,L] [--force]

Reads the Prisma schema and writes a starter config: models with the tenant field, models that
reach them through a relation (with "via", read from the relation's foreign key, or the back side
of a one-to-one whose unique key a tenant-owned model holds), the rest as global candidates to
review. Severities start at 'TO_REVIEW' for your team to set (audit lists them until you do).

The tenant model is read from the relations: it prints the candidates ranked by how many models
reach each through required keys, and refuses (exit 1, with the line to run) when the choice is
not clear: a runner-up close behind, two candidates joined by a membership, or an organization
above more than one model the data is keyed on.

Two levels of tenancy: when the top candidate sits above the one model the data is keyed on, and
that model holds a required key to it (Organization ← Project), init proposes both as levels
(upper first, the lower with its parent relation) and gives every model a level: rows holding the
lower level's key (or reaching it through required keys) belong to the lower level, rows holding
only the upper key to the upper one; rows holding both go to the lower level, marked for review.

  --schema FILE|DIR    the Prisma schema (default: where Prisma finds it, as in \`tenantfence audit\`)
  --out FILE           where to write (default: tenantfence.config.ts)
  --tenant-model M     the tenant model (default: the best-supported candidate, when it is clear)
  --tenant-field F     the tenant field (default: the name those foreign keys share most)
  --levels U,L         two levels: the upper model, then the lower one (it must hold a key to U);
                       --tenant-model keeps one level where init would propose two
  --force              overwrite an existing file`

export async function run(argv: string[]): Promise<number> {
  const text = { type: 'string' } as const
  const flag = { type: 'boolean' } as const
  const options = { schema: text, out: text, 'tenant-model': text, 'tenant-field': text, levels: text, force: flag, help: flag }
  const values = parseCommandLine(argv, options, HELP)
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const cwd = process.cwd()
  const out = resolve(cwd, (values.out as string | undefined) ?? 'tenantfence.config.ts')
  if (existsSync(out) && !values.force) throw new CliError(`${relative(cwd, out)} already exists; pass --force to overwrite it`)
  const source = await findSchema({ schema: values.schema as string | undefined, cwd })
  const levelsFlag = values.levels as string | undefined
  const given = {
    tenantModel: values['tenant-model'] as string | undefined,
    tenantField: values['tenant-field'] as string | undefined,
    ...(levelsFlag !== undefined ? { levels: levelsFlag.split(',').map((l) => l.trim()).filter(Boolean) } : {}),
  }
  let proposal: Proposal
  try {
    proposal = proposeConfig(parseSchema(source.text), given)
  } catch (err) {
    if (!(err instanceof TenantUnclearError)) throw err
    // The same command with the tenant named: every other option as the user gave it.
    const rest = argv.filter((a, i) => a !== '--tenant-model' && argv[i - 1] !== '--tenant-model' && !a.startsWith('--tenant-model='))
    const lines = err.candidates.map((c) => `  npx tenantfence init ${[...rest, '--tenant-model', c].join(' ')}`)
    const pairs = err.levelPairs.map(([u, l]) => `  npx tenantfence init ${[...rest, '--levels', `${u},${l}`].join(' ')}`)
    throw new InitError(
      `${err.message}.\nCandidates (models reaching each through required keys):\n${ranking(err.ranking, 8)}\n` +
        `Say which model isolates your data (it is a judgment about your app, not the schema's to make):\n${lines.join('\n')}` +
        (pairs.length ? `\nor which two are the levels of tenancy (the upper first; the lower holds a key to it):\n${pairs.join('\n')}` : ''),
    )
  }
  const schemaName = relative(cwd, source.path) || source.path
  await writeFile(out, renderConfig(proposal, { schema: schemaName, appName: appName(cwd) }))
  const { tenant, fieldScoped, ownFields, relationScoped, globalCandidates } = proposal
  console.log(`init: wrote ${relative(cwd, out)} from ${schemaName}${source.files.length > 1 ? ` (${source.files.length} files)` : ''}`)
  const fieldList = (ms: readonly string[]) => ms.map((m) => (ownFields[m] ? `${m} (${ownFields[m]})` : m)).join(', ') || '-'
  const { levels, levelOf = {}, bothKeys = [] } = proposal
  if (levels) {
    const [upper, lower] = levels
    const how = given.levels ? ' (--levels)' : `: ${lower.model} holds a required key to ${upper.model} (${lower.model}.${lower.parent}) and more models key on it`
    console.log(`  two levels of tenancy${how}`)
    for (const l of levels) console.log(`    ${l.name}: ${l.model}.${l.idField}, field "${l.field}"${l.parent ? `, parent ${l.model}.${l.parent}` : ''}`)
  } else console.log(`  tenant: ${tenant.model}.${tenant.idField}, field "${tenant.field}"${given.tenantModel ? ' (--tenant-model)' : ''}`)
  console.log(`  candidates (models reaching each through required keys):\n${ranking(proposal.ranking, 5)}`)
  for (const l of levels ?? [{ name: '', field: tenant.field }]) {
    const at = levels ? fieldScoped.filter((m) => levelOf[m] === l.name) : fieldScoped
    console.log(`  ${levels ? `${l.name} level: ` : ''}${at.length} model(s) with ${l.field}: ${fieldList(at)}`)
  }
  const note = (r: (typeof relationScoped)[number]) =>
    r.ownerKey ? ` (one-to-one held by ${r.target}: review${r.level ? `, ${r.level}` : ''})` : r.level ? ` (${r.level})` : ''
  console.log(`  ${relationScoped.length} through a relation: ${relationScoped.map((r) => `${r.model} via ${r.via}${note(r)}`).join(', ') || '-'}`)
  if (levels && bothKeys.length) {
    console.log(`  review: ${bothKeys.length} model(s) hold keys of both levels, put at the ${levels[1].name} level (the stricter): ${bothKeys.join(', ')}`)
  }
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
