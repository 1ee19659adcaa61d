// The two terminal dashboards of the rollout: violations (last 24 h, by model, trend) and
// enforcement status (mode, policies, errors, bypasses, check cost).
import { SEVERITIES } from '../../config/schema.ts'
import type { StatusData } from './collect.ts'

export interface Palette {
  red(s: string): string
  yellow(s: string): string
  green(s: string): string
  dim(s: string): string
  bold(s: string): string
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`
export const ANSI: Palette = { red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), dim: wrap(2, 22), bold: wrap(1, 22) }
const id = (s: string) => s
export const PLAIN: Palette = { red: id, yellow: id, green: id, dim: id, bold: id }

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function paletteFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Palette {
  return stream.isTTY && !env.NO_COLOR ? ANSI : PLAIN
}

const n = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 }))
const BAR = 30

function trend(now: number, before: number): string {
  if (now === before) return `= no change vs the 24 h before (${n(before)})`
  if (before === 0) return `▲ +${n(now)} vs the 24 h before (0)`
  const d = now - before
  return `${d > 0 ? '▲ +' : '▼ '}${n(d)} (${d > 0 ? '+' : ''}${((d / before) * 100).toFixed(1)} %) vs the 24 h before (${n(before)})`
}

function severityColour(p: Palette, sev: string): (s: string) => string {
  return sev === 'CRITICAL' ? p.red : sev === 'HIGH' ? p.yellow : id
}

/** The document's severity line: `CRITICAL: 12 | HIGH: 23 | MEDIUM: 12` (LOW when there is any). */
export function severityLine(d: StatusData, p: Palette = PLAIN): string {
  const shown = SEVERITIES.filter((s) => s !== 'LOW' || d.bySeverity.LOW > 0)
  return shown.map((s) => severityColour(p, s)(`${s}: ${n(d.bySeverity[s])}`)).join(' | ')
}

export function renderViolations(d: StatusData, p: Palette = PLAIN): string {
  const out: string[] = []
  const windowed = d.kind === 'prometheus'
  out.push(p.bold(windowed ? 'Tenant violations: last 24 h' : 'Tenant violations: since the process started (one scrape, no history)'))
  out.push(`  Total ${p.bold(n(d.total))}${windowed ? `   ${trend(d.total, d.previousTotal ?? 0)}` : ''}`)
  out.push(`  ${severityLine(d, p)}`)
  if (d.violations.length === 0) out.push(p.green('  No violation.'))
  const max = Math.max(1, ...d.violations.map((m) => m.count))
  const mw = Math.max(5, ...d.violations.map((m) => m.model.length))
  const cw = Math.max(...d.violations.map((m) => n(m.count).length), 1)
  for (const m of d.violations) {
    const len = m.count > 0 ? Math.max(1, Math.round((m.count / max) * BAR)) : 0
    const bar = severityColour(p, m.severity)('█'.repeat(len)) + ' '.repeat(BAR - len)
    const prev = windowed && m.previous !== undefined ? p.dim(`  (${n(m.previous)} before)`) : ''
    out.push(`  ${m.model.padEnd(mw)}  ${m.severity.padEnd(8)}  ${bar}  ${n(m.count).padStart(cw)}${prev}`)
  }
  return out.join('\n') + '\n'
}

const pct = (ratio: number) => `${Number((ratio * 100).toPrecision(4))} %`

/** The error rate coloured against the phase's thresholds: green below, yellow above TenantEnforcementErrors', red above the rollback trigger. */
export function errorRateText(d: StatusData, p: Palette = PLAIN): string {
  if (d.errorRate === undefined) return p.dim('no data (no request of users)')
  const t = d.thresholds
  const rate = `${(d.errorRate * 100).toFixed(3)} %`
  const colour = d.errorRate > t.rollback ? p.red : d.errorRate > t.errorRate ? p.yellow : p.green
  const against = `alert above ${pct(t.errorRate)}, rollback above ${pct(t.rollback)}${t.phase !== undefined ? ` (phase ${t.phase})` : ''}`
  return `${colour(rate)}  (${n(d.blockedRequests)} blocked / ${n(d.requests ?? 0)} requests; ${against})`
}

export function renderEnforcement(d: StatusData, p: Palette = PLAIN): string {
  const windowed = d.kind === 'prometheus'
  const w = windowed ? '1 h' : 'since start'
  const rows: [string, string][] = []
  rows.push(['Mode', d.mode ? p.bold(d.mode) : p.yellow(`unknown (no ${'tenant_enforcement_mode'} series)`)])
  rows.push(['Models', d.policies ? `${d.policies.block} enforced, ${d.policies.log} logged, ${d.policies.off} off` : 'unknown (no model policy series)'])
  rows.push([`Error rate (${w})`, errorRateText(d, p)])
  rows.push([`Blocked queries (${w})`, d.blocked > 0 ? p.yellow(n(d.blocked)) : n(d.blocked)])
  rows.push([`Bypasses (${w})`, d.bypasses > 0 ? p.yellow(n(d.bypasses)) : n(d.bypasses)])
  rows.push([`Check cost p95 (${w})`, d.checkP95Ms === undefined ? p.dim('no data (no checked query)') : `${Number(d.checkP95Ms.toPrecision(3))} ms`])
  const lw = Math.max(...rows.map(([l]) => l.length))
  const out = [p.bold('Enforcement status'), ...rows.map(([l, v]) => `  ${l.padEnd(lw)}  ${v}`)]
  const table = (title: string, list: { name: string; count: number }[]) => {
    if (list.length === 0) return
    const nw = Math.max(...list.map((r) => r.name.length))
    out.push('', `  ${title}`, ...list.map((r) => `    ${r.name.padEnd(nw)}  ${n(r.count).padStart(6)}`))
  }
  table(`Blocked queries by model (${w})`, d.blockedByModel.map((r) => ({ name: r.model, count: r.count })))
  table(`Top endpoints of blocked queries (${w}; "unknown": outside a request)`, d.topEndpoints.map((r) => ({ name: r.endpoint, count: r.count })))
  if (d.errorRate !== undefined && d.errorRate > d.thresholds.rollback) {
    out.push('', p.red(p.bold(`  Over the rollback trigger (${pct(d.thresholds.rollback)}): roll back to log only now`)))
    if (d.thresholds.rollbackCommand) out.push(...d.thresholds.rollbackCommand.map((l) => `    ${l}`))
    else out.push('    tenantfence phase rollback --config <your config> (it prints the rollback for where the app reads its flags)')
  }
  return out.join('\n') + '\n'
}

export function renderStatus(d: StatusData, p: Palette = PLAIN): string {
  const when = d.at !== undefined ? ` at ${new Date(d.at * 1000).toISOString()}` : ''
  const head = p.dim(`Source: ${d.source}${when}${d.kind === 'metrics' ? ' (one scrape: totals since the process started)' : ''}`)
  return `${head}\n\n${renderViolations(d, p)}\n${renderEnforcement(d, p)}`
}
