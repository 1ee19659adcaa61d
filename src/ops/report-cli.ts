// tenantfence report: the Daily Report from TENANT_VIOLATION log lines (a file, stdin or Loki).
import { invalidValue, parseCommand } from '../cli-args.ts'
import { CliError } from '../cli-error.ts'
import { appLabel } from '../config/define.ts'
import { loadConfig } from '../config/load.ts'
import { nextDay, parseDay } from './dates.ts'
import { baseUrl } from './http-errors.ts'
import { dayStartNs, DEFAULT_LOKI_LIMIT, lokiLines, violationSelector } from './loki-client.ts'
import { previousDay, ReportAggregator } from './report/aggregate.ts'
import { buildReport, type DailyReport } from './report/build.ts'
import { renderReport, REPORT_FORMATS, type ReportFormat } from './report/render.ts'
import { fileLines } from './report/sources.ts'

export const summary = 'the daily violation report from log lines (file, stdin or Loki)'

export const HELP = `tenantfence report (--logs FILE | --loki URL) [options]

  --logs FILE        pino JSON lines (one per line), plain or gzip; - reads stdin
  --loki URL         Loki base URL; queries /loki/api/v1/query_range for the day and the day before
  --date YYYY-MM-DD  the report's day (UTC); default: the latest day in the logs, today for Loki
  --config FILE      tenantfence config (Loki selector uses app.job); default ./tenantfence.config.ts
  --query LOGQL      Loki: override the selector (default {app="<app.job>"} |= "TENANT_VIOLATION")
  --limit N          Loki: entries per page (default ${DEFAULT_LOKI_LIMIT})
  --top N            endpoints shown (default 10; actions: 2N)
  --format F         text | markdown | json (default text)`

export interface ReportOptions {
  logs?: string
  loki?: string
  date?: string
  config?: string
  query?: string
  limit?: number
  top?: number
}

/** Build the report (for the CLI and for other code: the demo prints one). */
export async function dailyReport(opts: ReportOptions, now = new Date()): Promise<DailyReport> {
  if (!!opts.logs === !!opts.loki) throw new CliError('give exactly one of --logs FILE or --loki URL', 2)
  const date = opts.date ? parseDay(opts.date) : undefined
  let lines: AsyncIterable<string>
  let source: string
  let agg: ReportAggregator
  if (opts.logs) {
    agg = new ReportAggregator(date, undefined, now.getTime())
    lines = fileLines(opts.logs)
    source = opts.logs === '-' ? 'stdin' : opts.logs
  } else {
    const base = baseUrl(opts.loki!, '--loki')
    const day = date ?? now.toISOString().slice(0, 10)
    agg = new ReportAggregator(day, undefined, now.getTime())
    const query = opts.query ?? violationSelector(appLabel(await loadConfig(opts.config)))
    lines = lokiLines({ base, query, startNs: dayStartNs(previousDay(day)), endNs: dayStartNs(nextDay(day)), limit: opts.limit })
    source = `Loki ${base.origin} ${query}`
  }
  for await (const line of lines) agg.add(line)
  if (opts.logs) unreadable(agg, opts.logs)
  const top = opts.top ?? 10
  return buildReport(agg, { source, topEndpoints: top, topActions: top * 2 }, now)
}

/** A file with no line a log could hold (empty, binary, not JSON) is an error, not a report of nothing. */
function unreadable(agg: ReportAggregator, path: string): void {
  const s = agg.stats
  const where = path === '-' ? 'stdin' : path
  if (s.violations + s.ignored + s.outsideRange + s.future > 0) return
  if (s.malformed === 0) throw new CliError(`--logs ${where}: the input is empty (no line, or blank lines only); expected pino JSON lines, plain or gzip`)
  throw new CliError(`--logs ${where}: no readable log line in ${s.lines} line${s.lines === 1 ? '' : 's'} (none is a JSON object: a binary file, or not a log?); expected pino JSON lines, plain or gzip`)
}

function positiveInt(raw: string | undefined, option: string): number | undefined {
  if (raw === undefined) return undefined
  const v = Number(raw)
  if (!Number.isInteger(v) || v <= 0) throw new CliError(`${option} ${raw}: expected a positive whole number`, 2)
  return v
}

export async function run(argv: string[]): Promise<number> {
  const text = { type: 'string' } as const
  const options = { logs: text, loki: text, date: text, config: text, format: text, query: text, limit: text, top: text }
  const parsed = parseCommand(argv, options, HELP).values
  if (parsed.help) {
    console.log(HELP)
    return 0
  }
  const values = parsed as Record<keyof typeof options, string | undefined>
  const format = (values.format ?? 'text') as ReportFormat
  if (!REPORT_FORMATS.includes(format)) throw invalidValue('--format', format, REPORT_FORMATS)
  const report = await dailyReport({
    logs: values.logs,
    loki: values.loki,
    date: values.date,
    config: values.config,
    query: values.query,
    limit: positiveInt(values.limit, '--limit'),
    top: positiveInt(values.top, '--top'),
  })
  process.stdout.write(renderReport(report, format))
  if (report.input.malformed) console.error(`tenantfence report: ${report.input.malformed} malformed line(s) skipped (see the report's input section)`)
  return 0
}
