// Prints a DailyReport as plain text (terminal), markdown (a ticket or chat post) or JSON.
import type { DailyReport } from './build.ts'

export const REPORT_FORMATS = ['text', 'markdown', 'json'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

const n = (v: number) => v.toLocaleString('en-US')

export function trendText(r: DailyReport): string {
  if (r.previousTotal === 0 && r.total === 0) return `no change vs ${r.previousDate} (0)`
  if (r.changeRatio === null) return `new: none on ${r.previousDate}`
  const arrow = r.change > 0 ? '▲' : r.change < 0 ? '▼' : '='
  const sign = r.change > 0 ? '+' : ''
  return `${arrow} ${sign}${n(r.change)} (${sign}${(r.changeRatio * 100).toFixed(1)} %) vs ${r.previousDate} (${n(r.previousTotal)})`
}

function inputLine(r: DailyReport): string {
  const s = r.input
  const parts = [`${n(s.lines)} lines read`, `${n(s.violations)} violation lines counted`]
  if (s.ignored) parts.push(`${n(s.ignored)} other log lines ignored`)
  if (s.outsideRange) parts.push(`${n(s.outsideRange)} violations on other days skipped`)
  return parts.join(', ')
}

function warnings(r: DailyReport): string[] {
  const out: string[] = []
  const s = r.input
  if (s.malformed) out.push(`${n(s.malformed)} malformed line${s.malformed === 1 ? '' : 's'} skipped (first at line ${s.malformedExamples.join(', ')})`)
  if (s.future) out.push(`${n(s.future)} violation line${s.future === 1 ? '' : 's'} dated in the future (latest ${s.latestFuture}) not counted: check the clock of the app that wrote ${s.future === 1 ? 'it' : 'them'}`)
  if (r.input.foldedKeys) out.push(`${n(r.input.foldedKeys)} violations on rare keys folded into "(other)" (too many distinct endpoint/model combinations)`)
  return out
}

export function renderText(r: DailyReport): string {
  const lines: string[] = []
  lines.push(`Daily tenant violation report: ${r.date} (UTC)`)
  lines.push(`Source: ${r.source}; ${inputLine(r)}`)
  for (const w of warnings(r)) lines.push(`Warning: ${w}`)
  lines.push('')
  lines.push(`Total violations: ${n(r.total)} (logged ${n(r.logged)}, blocked ${n(r.blocked)})`)
  lines.push(`Trend: ${trendText(r)}`)
  lines.push('')
  lines.push('By severity:')
  if (r.bySeverity.length === 0) lines.push('  none')
  const width = Math.max(0, ...r.bySeverity.map((g) => n(g.count).length))
  for (const g of r.bySeverity) {
    const models = g.models.map((m) => `${m.model} (${n(m.count)})`).join(', ')
    lines.push(`  ${g.severity.padEnd(8)} ${n(g.count).padStart(width)}${models ? `  ${models}` : ''}  [${n(g.previous)} the day before]`)
  }
  lines.push('')
  lines.push('Top violating endpoints:')
  if (r.topEndpoints.length === 0) lines.push('  none')
  const ew = Math.max(0, ...r.topEndpoints.map((e) => `${e.method} ${e.endpoint}`.length))
  r.topEndpoints.forEach((e, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${`${e.method} ${e.endpoint}`.padEnd(ew)}  ${n(e.count)}`))
  lines.push('')
  lines.push('Recommended actions:')
  if (r.actions.length === 0) lines.push('  none: no violation on this day')
  r.actions.forEach((a, i) => lines.push(`  ${String(i + 1).padStart(2)}. [${a.severity}] ${a.text}`))
  return lines.join('\n') + '\n'
}

const md = (s: string) => s.replace(/([|\\`*_])/g, '\\$1')

export function renderMarkdown(r: DailyReport): string {
  const lines: string[] = []
  lines.push(`# Daily tenant violation report: ${r.date} (UTC)`)
  lines.push('')
  lines.push(`Source: \`${r.source}\`; ${inputLine(r)}.`)
  for (const w of warnings(r)) lines.push('', `> **Warning:** ${md(w)}`)
  lines.push('')
  lines.push(`**Total violations:** ${n(r.total)} (logged ${n(r.logged)}, blocked ${n(r.blocked)})  `)
  lines.push(`**Trend:** ${trendText(r)}`)
  lines.push('')
  lines.push('## By severity', '')
  if (r.bySeverity.length === 0) lines.push('None.')
  else {
    lines.push('| Severity | Violations | Day before | Models |', '|---|---:|---:|---|')
    for (const g of r.bySeverity) lines.push(`| ${g.severity} | ${n(g.count)} | ${n(g.previous)} | ${g.models.map((m) => `${md(m.model)} (${n(m.count)})`).join(', ')} |`)
  }
  lines.push('', '## Top violating endpoints', '')
  if (r.topEndpoints.length === 0) lines.push('None.')
  else {
    lines.push('| # | Endpoint | Violations |', '|---:|---|---:|')
    r.topEndpoints.forEach((e, i) => lines.push(`| ${i + 1} | \`${e.method} ${e.endpoint}\` | ${n(e.count)} |`))
  }
  lines.push('', '## Recommended actions', '')
  if (r.actions.length === 0) lines.push('None: no violation on this day.')
  r.actions.forEach((a, i) => lines.push(`${i + 1}. **${a.severity}** ${md(a.text)}`))
  return lines.join('\n') + '\n'
}

export function renderReport(r: DailyReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(r, null, 2) + '\n'
    case 'markdown':
      return renderMarkdown(r)
    case 'text':
      return renderText(r)
  }
}
