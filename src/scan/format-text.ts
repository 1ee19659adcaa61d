// The scan for a terminal: findings first (new ones marked), each with its reasons; a summary line.
import { relative } from 'node:path'
import { goneEntries, isNew, summarize, type ScanOutcome } from './outcome.ts'
import { isFinding, type ScanSite } from './scan.ts'

const LABEL: Record<ScanSite['verdict'], string> = { unscoped: 'UNSCOPED', unverifiable: 'UNVERIFIABLE', scoped: 'scoped', bypassed: 'bypassed' }

export function formatText(o: ScanOutcome, options: { all?: boolean; cwd?: string } = {}): string {
  const r = o.report
  const s = summarize(o)
  const lines: string[] = []
  const config = r.tsconfig ? relative(options.cwd ?? process.cwd(), r.tsconfig) || 'tsconfig.json' : 'no tsconfig'
  const read = `${r.files} file${r.files === 1 ? '' : 's'} (${config}, TypeScript ${r.typescriptVersion}, ${(r.durationMs / 1000).toFixed(1)} s)`
  lines.push(`tenantfence scan: ${s.queries} ${s.queries === 1 ? 'query' : 'queries'} in ${read}`)
  const shown = r.sites.filter((x) => options.all || isFinding(x))
  for (const site of shown) {
    const mark = isFinding(site) && o.comparison ? (isNew(o, site) ? ' NEW' : ' (baseline)') : ''
    const kind = site.violation ? ` ${site.violation}` : ''
    const sev = site.severity && isFinding(site) ? ` [${site.severity}]` : ''
    // two levels of tenancy: which level's check fails
    const level = site.level && isFinding(site) ? ` (${site.level} level)` : ''
    lines.push('')
    lines.push(`${LABEL[site.verdict]}${mark}  ${site.file}:${site.line}:${site.column}  ${site.model}.${site.operation}${sev}${kind}${level}`)
    lines.push(`    in ${site.enclosing}: ${site.code}`)
    for (const reason of site.reasons) lines.push(`    - ${reason}`)
    if (site.fix) lines.push(`    fix: ${site.fix}`)
    if (site.verifiedAtRunTime.length) lines.push(`    - verified at run time (a lookup of the referenced rows): ${site.verifiedAtRunTime.join(', ')}`)
  }
  if (r.unresolved.length) {
    lines.push('')
    const calls = `${r.unresolved.length} call${r.unresolved.length === 1 ? '' : 's'}`
    lines.push(`${calls} named like a Prisma query on a receiver of type any (not judged; type the client to have them checked):`)
    for (const u of r.unresolved.slice(0, 20)) lines.push(`    ${u.file}:${u.line}:${u.column}  .${u.operation}(): ${u.why}`)
    if (r.unresolved.length > 20) lines.push(`    … and ${r.unresolved.length - 20} more`)
  }
  const gone = goneEntries(o)
  if (gone.length) {
    lines.push('')
    lines.push(`${gone.length} baseline entr${gone.length === 1 ? 'y is' : 'ies are'} no longer found (fixed or changed): tighten the baseline with --update-baseline`)
    for (const g of gone.slice(0, 20)) lines.push(`    ${g.file}  ${g.query} in ${g.function}`)
  }
  lines.push('')
  const findings = s.unscoped + s.unverifiable
  const verdicts = `${findings} finding${findings === 1 ? '' : 's'} (${s.unscoped} unscoped, ${s.unverifiable} unverifiable), ${s.scoped} scoped, ${s.bypassed} bypassed`
  const outcome = o.comparison ? `${s.new} new (not in ${o.baselineFile})` : findings ? 'no baseline: every finding counts' : 'nothing to fix'
  lines.push(`${verdicts} · ${outcome}`)
  return lines.join('\n') + '\n'
}
