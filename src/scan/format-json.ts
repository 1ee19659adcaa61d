// The scan as JSON, for scripts: every call site with its verdict, reasons and baseline state.
// Paths are relative (no home directory in an artifact).
import { relative } from 'node:path'
import { goneEntries, isNew, summarize, type ScanOutcome } from './outcome.ts'
import { isFinding } from './scan.ts'
import { TENANTFENCE_VERSION } from './version.ts'

export function formatJson(o: ScanOutcome, options: { cwd?: string } = {}): string {
  const r = o.report
  const body = {
    tool: 'tenantfence scan',
    version: TENANTFENCE_VERSION,
    typescript: r.typescriptVersion,
    tsconfig: r.tsconfig ? relative(options.cwd ?? process.cwd(), r.tsconfig) : null,
    files: r.files,
    durationMs: r.durationMs,
    baseline: o.baselineFile ?? null,
    summary: summarize(o),
    sites: r.sites.map((s) => ({
      ...s,
      baselineState: isFinding(s) && o.comparison ? (isNew(o, s) ? 'new' : 'unchanged') : null,
    })),
    unresolved: r.unresolved,
    gone: goneEntries(o),
  }
  return `${JSON.stringify(body, null, 2)}\n`
}
