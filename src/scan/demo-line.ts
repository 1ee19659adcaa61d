// The demo's phase 0 line: what `tenantfence scan` finds in the demo API before anything is
// deployed, the rare audit export included (the path log_only never sees in the demo).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { TenantFenceConfig } from '../config/schema.ts'
import { parseSchema } from '../enforcement/datamodel.ts'
import { isFinding, scan, type ScanReport } from './scan.ts'

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url))

export const DEMO_APP_FILE = 'src/demo/app.ts'

/** `found before deploying: 7 unscoped queries …`, or why the scan could not run. */
export async function demoScanLine(config: TenantFenceConfig): Promise<string> {
  try {
    const datamodel = parseSchema(readFileSync(repo('prisma/schema.prisma'), 'utf8'))
    // references 'violation': the demo shows every path whose code is wrong, the foreign-key IDOR
    // included, although its runtime (references: 'verify') would look that key up and block it.
    const report = await scan({ config, datamodel, paths: [repo(DEMO_APP_FILE)], project: repo('tsconfig.json'), references: 'violation' })
    return describeDemoFindings(report)
  } catch (err) {
    return `found before deploying: the scan did not run (${(err as Error).message})`
  }
}

export function describeDemoFindings(report: ScanReport): string {
  const found = report.sites.filter(isFinding)
  const list = found.map((s) => `${s.model} (${s.file.split('/').pop()}:${s.line})`).join(', ')
  const unscoped = found.filter((s) => s.verdict === 'unscoped').length
  const unverifiable = found.length - unscoped
  const what = `${unscoped} unscoped quer${unscoped === 1 ? 'y' : 'ies'}${unverifiable ? ` and ${unverifiable} unverifiable` : ''}`
  return `found before deploying: ${what} by \`tenantfence scan ${DEMO_APP_FILE}\` (${(report.durationMs / 1000).toFixed(1)} s): ${list || 'none'}`
}
