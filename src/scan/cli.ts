// `tenantfence scan [paths…]`: find unscoped queries before they reach production.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { usageError } from '../cli-args.ts'
import { CliError } from '../cli-error.ts'
import { TenantConfigError } from '../config/define.ts'
import { loadConfig } from '../config/load.ts'
import { findSchema } from '../config/schema-files.ts'
import { closest } from '../config/suggest.ts'
import { parseSchema } from '../enforcement/datamodel.ts'
import { baselineOf, compareBaseline, readBaseline, writeBaseline } from './baseline.ts'
import { formatJson } from './format-json.ts'
import { formatSarif } from './format-sarif.ts'
import { formatText } from './format-text.ts'
import { summarize, type ScanOutcome } from './outcome.ts'
import { scan } from './scan.ts'

export const summary = 'find queries on tenant-owned models that are unscoped, before deploying'

const FORMATS = ['text', 'json', 'sarif'] as const
type Format = (typeof FORMATS)[number]

export const SCAN_USAGE = `tenantfence scan [paths…] [options]

Reads the app's TypeScript (files or folders; default: the tsconfig's files) and judges every
Prisma query on a tenant-owned model, the tenant model and raw SQL with the runtime's own rules.

Options:
  --config FILE        tenantfence config (default: tenantfence.config.ts in the working directory)
  --schema FILE|DIR    Prisma schema: a file, or a folder of .prisma files (default: where Prisma
                       finds it, as init and audit do: prisma.config.ts "schema", package.json
                       "prisma.schema", prisma/schema.prisma, schema.prisma, prisma/schema/)
  --project FILE       tsconfig.json to resolve types with (default: the nearest one)
  --format FORMAT      text (default), json or sarif (SARIF 2.1.0)
  --output FILE        write the report to FILE instead of stdout
  --baseline FILE      accepted findings: only findings not in FILE fail the scan
  --update-baseline    rewrite --baseline FILE with today's findings, then exit 0
  --references MODE    verify (default, as the runtime): a foreign key the query does not pin is
                       listed as verified at run time (the runtime looks it up); violation: it is a
                       finding (unverified_reference), as with references: 'violation'
  --all                text: list scoped and bypassed queries too

Exit status: 0 no new finding, 1 new findings (unscoped or unverifiable), 2 bad input or setup.`

export async function run(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        schema: { type: 'string' },
        project: { type: 'string' },
        format: { type: 'string', default: 'text' },
        output: { type: 'string' },
        baseline: { type: 'string' },
        'update-baseline': { type: 'boolean', default: false },
        all: { type: 'boolean', default: false },
        references: { type: 'string', default: 'verify' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (err) {
    throw usageError(err, argv, { help: {}, config: {}, schema: {}, project: {}, format: {}, output: {}, baseline: {}, 'update-baseline': {}, all: {}, references: {} }, SCAN_USAGE)
  }
  const { values, positionals } = parsed
  if (values.help) {
    console.log(SCAN_USAGE)
    return 0
  }
  const format = values.format as Format
  if (!FORMATS.includes(format)) {
    const near = closest(format, FORMATS)
    throw new CliError(`--format: "${values.format}" is not a format; use one of ${FORMATS.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`, 2)
  }
  const references = values.references
  if (references !== 'verify' && references !== 'violation') throw new CliError(`--references: "${references}" is not a mode; use violation or verify`, 2)
  if (values['update-baseline'] && !values.baseline) throw new CliError('--update-baseline needs --baseline FILE (the file to write)', 2)

  const config = await loadConfig(values.config)
  // Found where Prisma (and init, audit) find it; a missing schema is bad setup (exit 2).
  const schema = await findSchema({ schema: values.schema }).catch((err: unknown) => {
    throw err instanceof TenantConfigError ? new CliError(err.message, 2) : err
  })
  // A bad baseline fails before the (slow) scan.
  const baseline = values.baseline && !values['update-baseline'] ? readBaseline(values.baseline) : undefined
  const report = await scan({ config, datamodel: parseSchema(schema.text), paths: positionals, project: values.project, references })

  if (report.sites.length === 0 && report.unresolved.length > 0) {
    // Not "nothing found": nothing could be typed, which is what an unresolved client looks like.
    const u = report.unresolved[0]!
    const first = `first: ${u.file}:${u.line}, ${u.why}`
    const hint = 'does the tsconfig resolve the generated Prisma client? If it was never generated, run `npx prisma generate` first; else pass --project'
    throw new CliError(`no Prisma query could be typed, but ${report.unresolved.length} call(s) look like one (${first}); ${hint}`, 2)
  }
  if (values['update-baseline']) {
    const baseline = baselineOf(report.sites)
    writeBaseline(values.baseline!, baseline)
    console.error(`tenantfence scan: wrote ${baseline.findings.length} accepted finding${baseline.findings.length === 1 ? '' : 's'} to ${values.baseline}`)
    return 0
  }
  const outcome: ScanOutcome = baseline ? { report, baselineFile: values.baseline, comparison: compareBaseline(report.sites, baseline) } : { report }
  const text = format === 'json' ? formatJson(outcome) : format === 'sarif' ? formatSarif(outcome) : formatText(outcome, { all: values.all })
  if (values.output) {
    writeFileSync(values.output, text)
    const s = summarize(outcome)
    console.error(`tenantfence scan: ${s.unscoped} unscoped, ${s.unverifiable} unverifiable, ${s.new} new; report in ${values.output}`)
  } else {
    // The CLI exits right after run() returns: wait until a piped stdout has taken all of it.
    await new Promise<void>((done) => process.stdout.write(text, () => done()))
  }
  return summarize(outcome).new > 0 ? 1 : 0
}
