// `tenantfence audit [--config FILE] [--schema FILE|DIR]`
import { relative } from 'node:path'
import { parseCommandLine } from '../cli-args.ts'
import { loadConfig } from '../config/load.ts'
import { findSchema } from '../config/schema-files.ts'
import { auditModels } from './audit.ts'
import { parseSchema } from './datamodel.ts'
import { REVIEW_NOTES, reviewConfig, type ReviewFinding } from '../init/review.ts'

export const summary = 'check the config against the schema: unclassified models, stale entries, the tenant choice, unset severities, owned rows left global'

const HELP = `tenantfence audit [--config FILE] [--schema FILE|DIR]

Checks the config against the Prisma schema and exits 1 when it finds a problem:
  - schema models that look tenant-owned (a tenant field, or a relation to a tenant-owned model) but
    are neither in "models" nor in "globalModels", and config entries naming models the schema lacks;
  - a tenant model that is not the candidate the schema's relations support best (as init ranks them);
  - models whose severity is still init's 'TO_REVIEW';
  - global models that a tenant-owned model holds a unique key to (a one-to-one: owned, review);
  - two levels: a model whose level cannot be resolved or is inconsistent (its via leads to a row
    of the other level), or a parent relation the schema does not have.
It also lists, without failing, the global models tenant-owned rows point at many-to-one (shared),
and with two levels: upper-level models that hold the lower level's key too (review), and
lower-level models the organization-wide scope cannot prove (refused in an org admin's scope).

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
  const datamodel = parseSchema(source.text)
  const findings = [...auditModels(config, datamodel), ...reviewConfig(config, datamodel)]
  const shared = findings.filter((f) => f.kind === 'shared')
  const problems = findings.filter((f) => !REVIEW_NOTES.has(f.kind as ReviewFinding['kind']))
  if (problems.length === 0) console.log(`audit: every model of ${where} is classified (tenant-owned or global).`)
  else {
    console.log(`audit: ${problems.length} problem(s) with ${where}:`)
    for (const f of problems) console.log(`  - ${f.model} ${f.reason}. ${FIX[f.kind]}`.trimEnd())
  }
  if (shared.length) {
    console.log('Global models that tenant-owned rows point at (review that their rows are shared by every tenant):')
    const byModel = new Map<string, string[]>()
    for (const f of shared) byModel.set(f.model, [...(byModel.get(f.model) ?? []), f.reason])
    for (const [model, links] of byModel) console.log(`  - ${model} ${links.join(', ')}`)
  }
  const notes = (kind: ReviewFinding['kind'], heading: string) => {
    const list = findings.filter((f) => f.kind === kind)
    if (list.length === 0) return
    console.log(heading)
    for (const f of list) console.log(`  - ${f.model} ${f.reason}`)
  }
  notes('level_review', 'Two levels, to review: upper-level models that hold a key of the lower level too:')
  notes('org_scope_unproven', 'Two levels: models the organization-wide scope cannot prove (every query on them is refused there):')
  return problems.length === 0 ? 0 : 1
}

const FIX: Record<string, string> = {
  stale: 'Remove it, or rename it to the model it became.',
  unclassified: 'Add it to "models" (with a severity) or to "globalModels".',
  tenant_choice: '',
  severity_unset: '',
  owned_global: '',
  level_unresolved: '',
}
