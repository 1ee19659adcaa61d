// A scan's result together with its baseline comparison: what every output format renders and
// what decides the exit code.
import type { BaselineComparison, BaselineEntry } from './baseline.ts'
import { isFinding, type ScanReport, type ScanSite } from './scan.ts'

export interface ScanOutcome {
  readonly report: ScanReport
  /** the baseline file as given on the command line, when there is one */
  readonly baselineFile?: string
  readonly comparison?: BaselineComparison
}

export interface ScanSummary {
  readonly queries: number
  readonly scoped: number
  readonly unscoped: number
  readonly unverifiable: number
  readonly bypassed: number
  /** findings not in the baseline (all findings without one) */
  readonly new: number
  /** baseline entries no longer found */
  readonly gone: number
  readonly unresolved: number
}

/** Is this finding new (not accepted by the baseline)? Every finding is, without a baseline. */
export function isNew(o: ScanOutcome, s: ScanSite): boolean {
  return isFinding(s) && (o.comparison ? o.comparison.state.get(s.key) !== 'unchanged' : true)
}

export function summarize(o: ScanOutcome): ScanSummary {
  const sites = o.report.sites
  const count = (v: ScanSite['verdict']) => sites.filter((s) => s.verdict === v).length
  return {
    queries: sites.length,
    scoped: count('scoped'),
    unscoped: count('unscoped'),
    unverifiable: count('unverifiable'),
    bypassed: count('bypassed'),
    new: sites.filter((s) => isNew(o, s)).length,
    gone: o.comparison?.gone.length ?? 0,
    unresolved: o.report.unresolved.length,
  }
}

export function goneEntries(o: ScanOutcome): readonly BaselineEntry[] {
  return o.comparison?.gone ?? []
}
