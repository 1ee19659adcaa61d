// The baseline ratchet: a committed file of accepted findings. The scan fails only on findings
// whose key is not in it; `--update-baseline` rewrites it (and drops the ones that were fixed).
// Keys carry no line numbers (keys.ts), so moving code does not churn the file.
import { readFileSync, writeFileSync } from 'node:fs'
import { z } from 'zod'
import { ScanSetupError } from './typescript.ts'
import { isFinding, type ScanSite } from './scan.ts'

const BASELINE_VERSION = 1

const entrySchema = z.object({
  key: z.string().min(1),
  file: z.string(),
  function: z.string(),
  query: z.string(),
  verdict: z.enum(['unscoped', 'unverifiable']),
  violation: z.string().optional(),
})
const baselineSchema = z.object({
  tool: z.literal('tenantfence scan'),
  version: z.literal(BASELINE_VERSION),
  comment: z.string().optional(),
  findings: z.array(entrySchema),
})

export type BaselineEntry = z.infer<typeof entrySchema>
export type Baseline = z.infer<typeof baselineSchema>

export interface BaselineComparison {
  /** per site key: new (not accepted) or unchanged (accepted) */
  readonly state: ReadonlyMap<string, 'new' | 'unchanged'>
  /** accepted entries no longer found: fixed, or changed shape (then also reported as new) */
  readonly gone: readonly BaselineEntry[]
}

export function readBaseline(file: string): Baseline {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new ScanSetupError(`baseline ${file} not found: create it with --baseline ${file} --update-baseline`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ScanSetupError(`baseline ${file} is not JSON (${(err as Error).message}); rewrite it with --update-baseline`)
  }
  const parsed = baselineSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ScanSetupError(`baseline ${file} is not a tenantfence scan baseline (version ${BASELINE_VERSION}): ${issue.path.join('.') || '(top)'}: ${issue.message}`)
  }
  return parsed.data
}

export function baselineOf(sites: readonly ScanSite[]): Baseline {
  const findings = sites.filter(isFinding).map((s): BaselineEntry => ({
    key: s.key,
    file: s.file,
    function: s.enclosing,
    query: `${s.model}.${s.operation}`,
    verdict: s.verdict as BaselineEntry['verdict'],
    ...(s.violation ? { violation: s.violation } : {}),
  }))
  findings.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return {
    tool: 'tenantfence scan',
    version: BASELINE_VERSION,
    comment: 'Findings accepted for now: `tenantfence scan --baseline <this file>` fails only on findings not listed here. Rewrite with --update-baseline; fix, do not add.',
    findings,
  }
}

export function writeBaseline(file: string, baseline: Baseline): void {
  writeFileSync(file, `${JSON.stringify(baseline, null, 2)}\n`)
}

export function compareBaseline(sites: readonly ScanSite[], baseline: Baseline): BaselineComparison {
  const accepted = new Map<string, BaselineEntry>(baseline.findings.map((e) => [e.key, e]))
  const state = new Map<string, 'new' | 'unchanged'>()
  for (const s of sites) {
    if (!isFinding(s)) continue
    state.set(s.key, accepted.delete(s.key) ? 'unchanged' : 'new')
  }
  return { state, gone: [...accepted.values()] }
}
