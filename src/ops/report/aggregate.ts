// Aggregates TENANT_VIOLATION log lines into per-day counters. Memory is bounded whatever the
// input size: only two days are kept (the report's day and the day before), each counter map
// holds at most `maxKeys` distinct keys (the rest fold into one "other" key, counted), and
// every string that goes into a key is truncated.
import { SEVERITIES, type Severity } from '../../config/schema.ts'
import { VIOLATION_MESSAGE } from '../../telemetry/metric-names.ts'

export const DEFAULT_MAX_KEYS = 5000
const MAX_FIELD = 120
const SEP = '\u0000'
export const OTHER_KEY = '(other)'

/** Counters of one UTC day. */
export interface DayCounters {
  total: number
  logged: number
  blocked: number
  bySeverity: Map<Severity, number>
  /** severity SEP model */
  bySeverityModel: Map<string, number>
  /** method SEP endpoint */
  byEndpoint: Map<string, number>
  /** severity SEP model SEP action SEP method SEP endpoint SEP violation SEP path ('' when the line has none) */
  byAction: Map<string, number>
  /** keys that did not fit under maxKeys, per map */
  folded: number
}

export interface AggregateStats {
  /** lines read (including blank ones) */
  lines: number
  /** TENANT_VIOLATION lines counted into a kept day */
  violations: number
  /** lines that were not JSON, or TENANT_VIOLATION lines missing a required field */
  malformed: number
  /** first few malformed line numbers, for the message */
  malformedExamples: number[]
  /** JSON lines with another msg */
  ignored: number
  /** violation lines on days the report does not cover */
  outsideRange: number
  /** violation lines dated after now (a wrong clock, a forged line): reported, never counted */
  future: number
  /** the latest such timestamp (ISO), for the warning */
  latestFuture?: string
}

/** How far a line may be dated after the reader's clock before it counts as "in the future". */
export const CLOCK_SKEW_MS = 5 * 60_000

function newDay(): DayCounters {
  return { total: 0, logged: 0, blocked: 0, bySeverity: new Map(), bySeverityModel: new Map(), byEndpoint: new Map(), byAction: new Map(), folded: 0 }
}

const SEVERITY_SET = new Set<string>(SEVERITIES)
const str = (v: unknown, fallback?: string): string | undefined => (typeof v === 'string' && v.length > 0 ? v.slice(0, MAX_FIELD) : fallback)

/** The time (epoch ms) of a violation line: its ISO `timestamp`, else pino's epoch-ms `time`. */
function timeOf(line: Record<string, unknown>): number | undefined {
  const ts = line.timestamp
  let ms: number | undefined
  if (typeof ts === 'string') ms = Date.parse(ts)
  if ((ms === undefined || Number.isNaN(ms)) && typeof line.time === 'number') ms = line.time
  return ms === undefined || Number.isNaN(ms) || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15 ? undefined : ms
}

export function previousDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
}

export class ReportAggregator {
  readonly stats: AggregateStats = { lines: 0, violations: 0, malformed: 0, malformedExamples: [], ignored: 0, outsideRange: 0, future: 0 }
  /** at most two entries */
  private readonly days = new Map<string, DayCounters>()
  private latest: string | undefined

  /**
   * @param date the report's day; undefined = the latest day seen (then the two latest days
   *             are kept as lines arrive, in any order).
   * @param now  the reader's clock (epoch ms): lines dated after it (beyond CLOCK_SKEW_MS) are
   *             counted apart and reported, never taken as the latest day
   */
  constructor(
    readonly date?: string,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
    private readonly now = Date.now(),
  ) {}

  /** Feed one raw log line. */
  add(raw: string): void {
    this.stats.lines++
    const text = raw.trim()
    if (text === '') return
    // Cheap pre-filter: most lines of a real log are not violations; skip the JSON parse.
    if (!text.includes(VIOLATION_MESSAGE)) {
      if (text.startsWith('{') && text.endsWith('}')) this.stats.ignored++
      else this.malformed()
      return
    }
    let line: unknown
    try {
      line = JSON.parse(text)
    } catch {
      this.malformed()
      return
    }
    if (!line || typeof line !== 'object' || Array.isArray(line)) return this.malformed()
    const rec = line as Record<string, unknown>
    if (rec.msg !== VIOLATION_MESSAGE) {
      this.stats.ignored++
      return
    }
    const ms = timeOf(rec)
    const severity = rec.severity
    const model = str(rec.model)
    if (ms === undefined || typeof severity !== 'string' || !SEVERITY_SET.has(severity) || !model) return this.malformed()
    if (ms > this.now + CLOCK_SKEW_MS) {
      this.stats.future++
      const iso = new Date(ms).toISOString()
      if (!this.stats.latestFuture || iso > this.stats.latestFuture) this.stats.latestFuture = iso
      return
    }
    const day = new Date(ms).toISOString().slice(0, 10)
    const counters = this.dayFor(day)
    if (!counters) {
      this.stats.outsideRange++
      return
    }
    this.stats.violations++
    const sev = severity as Severity
    const action = str(rec.action, 'unknown')!
    // The extension writes method "unknown" outside a request (a job, a script): keep it as "-".
    const rawMethod = str(rec.method, '-')!
    const method = rawMethod.toLowerCase() === 'unknown' ? '-' : rawMethod.toUpperCase()
    const endpoint = str(rec.endpoint, 'unknown')!
    const violation = str(rec.violation, 'unknown')!
    // where in the query to fix it (`where.OR[1]`): two places in one endpoint are two fixes
    const path = str(rec.path, '')!
    counters.total++
    if (rec.decision === 'blocked') counters.blocked++
    else counters.logged++
    counters.bySeverity.set(sev, (counters.bySeverity.get(sev) ?? 0) + 1)
    this.bump(counters, counters.bySeverityModel, sev + SEP + model)
    this.bump(counters, counters.byEndpoint, method + SEP + endpoint)
    this.bump(counters, counters.byAction, [sev, model, action, method, endpoint, violation, path].join(SEP))
  }

  /** The counters of a day, or an empty day. */
  day(date: string): DayCounters {
    return this.days.get(date) ?? newDay()
  }

  /** The report's day: the requested one, else the latest seen (undefined when no violation). */
  reportDate(): string | undefined {
    return this.date ?? this.latest
  }

  private malformed(): void {
    this.stats.malformed++
    if (this.stats.malformedExamples.length < 5) this.stats.malformedExamples.push(this.stats.lines)
  }

  private dayFor(day: string): DayCounters | undefined {
    if (this.date) {
      if (day !== this.date && day !== previousDay(this.date)) return undefined
    } else if (!this.latest || day > this.latest) {
      // A newer day: keep it and the day before it, drop the rest (counted as outside range).
      this.latest = day
      const keep = previousDay(day)
      for (const [d, c] of this.days) {
        if (d !== day && d !== keep) {
          this.stats.outsideRange += c.total
          this.stats.violations -= c.total
          this.days.delete(d)
        }
      }
    } else if (day !== this.latest && day !== previousDay(this.latest)) {
      return undefined
    }
    let c = this.days.get(day)
    if (!c) this.days.set(day, (c = newDay()))
    return c
  }

  private bump(day: DayCounters, map: Map<string, number>, key: string): void {
    const current = map.get(key)
    if (current !== undefined) map.set(key, current + 1)
    else if (map.size < this.maxKeys) map.set(key, 1)
    else {
      day.folded++
      map.set(OTHER_KEY, (map.get(OTHER_KEY) ?? 0) + 1)
    }
  }
}

export function splitKey(key: string): string[] {
  return key.split(SEP)
}
