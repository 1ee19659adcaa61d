// What happened in one phase window, read from the app's registry: counter and histogram
// deltas between two snapshots, and the phase's success criteria judged on them by the gate's
// own definitions (ops/criteria.ts). The demo's window stands in for each criterion's window
// (24 h, 7 d): counts are judged as if they were that window's, so per-hour and per-day rates
// divide by the criterion's window, not the demo's.
import type { Registry } from 'prom-client'
import type { PhaseConfig, TenantFenceConfig } from '../config/schema.ts'
import { criterionResult, fullEvidence, measureWindow, windowCounters, windowErrorRate, type CriterionResult, type Evidence } from '../ops/criteria.ts'
import { bucketQuantile } from '../ops/metrics-text.ts'
import { METRIC } from '../telemetry/metric-names.ts'

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}
export type Snapshot = Sample[]

export async function snapshot(registry: Registry): Promise<Snapshot> {
  const out: Snapshot = []
  for (const m of await registry.getMetricsAsJSON()) {
    for (const v of m.values as { value: number; labels: Record<string, string | number>; metricName?: string }[]) {
      out.push({ name: v.metricName ?? m.name, labels: Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)])), value: v.value })
    }
  }
  return out
}

const key = (s: Sample) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`

/** after − before, per series (a series absent before counts from 0). */
export function delta(before: Snapshot, after: Snapshot): Snapshot {
  const prev = new Map(before.map((s) => [key(s), s.value]))
  return after.map((s) => ({ ...s, value: s.value - (prev.get(key(s)) ?? 0) }))
}

const sum = (d: Snapshot, name: string, match: Record<string, string> = {}) => d.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0)

export interface WindowStats {
  requests: number
  byStatus: Record<string, number>
  /** HTTP 403 answers that carried TENANT_CONTEXT_REQUIRED (the blocked queries' requests) */
  blockedQueries: number
  violations: number
  /** "Model SEVERITY" → { logged, blocked } */
  violationsByModel: Record<string, { severity: string; logged: number; blocked: number }>
  bypasses: Record<string, number>
  bypassDenied: number
  checkedQueries: number
  /** p95 of the check from the histogram buckets (seconds), undefined with no checked query */
  checkP95: number | undefined
  /** blocked requests of users / requests of users (the gate's error rate), undefined with no request */
  errorRate: number | undefined
  flagErrors: number
}

export function stats(d: Snapshot, config: TenantFenceConfig): WindowStats {
  const byStatus: Record<string, number> = {}
  for (const s of d) if (s.name === METRIC.httpRequests && s.value > 0) byStatus[s.labels.status!] = (byStatus[s.labels.status!] ?? 0) + s.value
  const violationsByModel: WindowStats['violationsByModel'] = {}
  for (const s of d) {
    if (s.name !== METRIC.violations || s.value <= 0) continue
    const v = (violationsByModel[s.labels.model!] ??= { severity: s.labels.severity!, logged: 0, blocked: 0 })
    if (s.labels.decision === 'blocked') v.blocked += s.value
    else v.logged += s.value
  }
  const bypasses: Record<string, number> = {}
  for (const s of d) if (s.name === METRIC.bypassUsage && s.value > 0) bypasses[s.labels.reason!] = (bypasses[s.labels.reason!] ?? 0) + s.value
  const buckets = d.filter((s) => s.name === `${METRIC.checkDuration}_bucket`).map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
  const requests = sum(d, METRIC.httpRequests)
  const blockedQueries = sum(d, METRIC.enforcementErrors)
  return {
    requests,
    byStatus,
    blockedQueries,
    violations: sum(d, METRIC.violations),
    violationsByModel,
    bypasses,
    bypassDenied: sum(d, METRIC.bypassDenied),
    checkedQueries: sum(d, `${METRIC.checkDuration}_count`),
    checkP95: bucketQuantile(0.95, buckets),
    errorRate: windowErrorRate(config, windowCounters(d)),
    flagErrors: sum(d, METRIC.flagErrors),
  }
}

export type { CriterionResult as CriterionVerdict } from '../ops/criteria.ts'

/** The mode the app reports in a snapshot (the gauge at 1), if any. */
export function reportedMode(s: Snapshot): string | undefined {
  return s.find((x) => x.name === METRIC.mode && x.value === 1)?.labels.mode
}

/**
 * The phase's success criteria judged on the window's counter deltas, by the same definitions
 * and the same evidence rule (ops/criteria.ts) that `tenantfence phase check` evaluates in
 * PromQL: the window counts as the criterion's only when the app reported the phase's mode at
 * its start and at its end; otherwise every criterion is NO DATA. A counter the registry does
 * not export is NO DATA too, never 0.
 */
export function judgePhase(config: TenantFenceConfig, phase: PhaseConfig, before: Snapshot, after: Snapshot): { passed: boolean; results: CriterionResult[] } {
  const w = windowCounters(delta(before, after))
  const modes = [reportedMode(before), reportedMode(after)]
  const inMode = modes.every((m) => m === phase.mode)
  const missing = `the app reported mode ${modes.map((m) => m ?? '(none)').join(' then ')}, not ${phase.mode}, over the window`
  const evidence = (c: PhaseConfig['successCriteria'][number]): Evidence => (inMode ? fullEvidence(c) : { covered: 0, missing })
  const results = phase.successCriteria.map((criterion) => criterionResult(criterion, measureWindow(criterion, config, w), evidence(criterion)))
  return { passed: results.every((r) => r.verdict === 'PASS'), results }
}
