// The Daily Report as data: what render.ts prints as text, markdown or JSON.
import { SEVERITIES, type Severity } from '../../config/schema.ts'
import { OTHER_KEY, previousDay, splitKey, type AggregateStats, type DayCounters, type ReportAggregator } from './aggregate.ts'

export interface SeverityGroup {
  severity: Severity
  count: number
  /** previous day's count of this severity */
  previous: number
  models: { model: string; count: number }[]
}

export interface RecommendedAction {
  severity: Severity
  model: string
  action: string
  method: string
  endpoint: string
  violation: string
  /** where in the query's arguments the violation is (`where.OR[1]`), when the log lines say */
  path?: string
  count: number
  /** one sentence: "Scope User.findMany at GET /api/admin/users (missing_tenant_id at where.OR[1], 42 times)" */
  text: string
}

export interface DailyReport {
  date: string
  previousDate: string
  source: string
  total: number
  logged: number
  blocked: number
  previousTotal: number
  /** total - previousTotal */
  change: number
  /** change / previousTotal, null when the day before had none */
  changeRatio: number | null
  bySeverity: SeverityGroup[]
  topEndpoints: { method: string; endpoint: string; count: number }[]
  actions: RecommendedAction[]
  input: AggregateStats & { foldedKeys: number }
}

export interface BuildOptions {
  source: string
  topEndpoints?: number
  topActions?: number
}

const severityRank = (s: Severity) => SEVERITIES.indexOf(s)

/** The verb of a recommended action, by violation kind. */
function recommend(violation: string, model: string, action: string, at: string, count: number, path: string): string {
  const where = `${model}.${action} at ${at}`
  const tail = `(${violation}${path ? ` at ${path}` : ''}, ${count} ${count === 1 ? 'time' : 'times'})`
  switch (violation) {
    case 'tenant_mismatch':
      return `Fix the tenant passed to ${where} ${tail}`
    case 'raw_query':
      return `Review raw SQL ${where} ${tail}`
    case 'inspection_error':
      return `Investigate the inspection error on ${where} ${tail}`
    default:
      return `Scope ${where} ${tail}`
  }
}

export function buildReport(agg: ReportAggregator, opts: BuildOptions, today = new Date()): DailyReport {
  const date = agg.reportDate() ?? today.toISOString().slice(0, 10)
  const prevDate = previousDay(date)
  const day = agg.day(date)
  const prev = agg.day(prevDate)
  const change = day.total - prev.total

  const bySeverity: SeverityGroup[] = []
  for (const severity of SEVERITIES) {
    const count = day.bySeverity.get(severity) ?? 0
    const previous = prev.bySeverity.get(severity) ?? 0
    if (count === 0 && previous === 0) continue
    const models: { model: string; count: number }[] = []
    for (const [key, n] of day.bySeverityModel) {
      if (key === OTHER_KEY) continue
      const [sev, model] = splitKey(key) as [string, string]
      if (sev === severity) models.push({ model, count: n })
    }
    models.sort((a, b) => b.count - a.count || a.model.localeCompare(b.model))
    bySeverity.push({ severity, count, previous, models })
  }

  const topEndpoints = [...day.byEndpoint]
    .filter(([k]) => k !== OTHER_KEY)
    .map(([key, count]) => {
      const [method, endpoint] = splitKey(key) as [string, string]
      return { method, endpoint, count }
    })
    .sort((a, b) => b.count - a.count || a.endpoint.localeCompare(b.endpoint) || a.method.localeCompare(b.method))
    .slice(0, opts.topEndpoints ?? 10)

  const actions: RecommendedAction[] = [...day.byAction]
    .filter(([k]) => k !== OTHER_KEY)
    .map(([key, count]) => {
      const parts = splitKey(key) as [Severity, string, string, string, string, string, string?]
      const [severity, model, action, method, endpoint, violation, path = ''] = parts
      const at = method !== '-' ? `${method} ${endpoint}` : endpoint === 'unknown' ? 'no endpoint (outside a request)' : endpoint
      const text = recommend(violation, model, action, at, count, path)
      return { severity, model, action, method, endpoint, violation, ...(path ? { path } : {}), count, text }
    })
    // Ranked by severity, then count; ties by name so the output is stable.
    .sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || b.count - a.count || a.text.localeCompare(b.text))
    .slice(0, opts.topActions ?? 20)

  return {
    date,
    previousDate: prevDate,
    source: opts.source,
    total: day.total,
    logged: day.logged,
    blocked: day.blocked,
    previousTotal: prev.total,
    change,
    changeRatio: prev.total === 0 ? null : change / prev.total,
    bySeverity,
    topEndpoints,
    actions,
    input: { ...agg.stats, malformedExamples: [...agg.stats.malformedExamples], foldedKeys: day.folded + prev.folded },
  }
}

export type { DayCounters }
