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

/** The change against the 24 h before; with less than 48 h of history there is nothing to compare with. */
function trend(now: number, before: number | undefined, historyHours: number | undefined): string {
  if (before === undefined || (historyHours ?? 48) < 48) {
    const h = historyHours ?? 0
    return `no history: the app has reported for ${h < 1 ? 'less than an hour' : `${h} h`}, no trend before 48 h`
  }
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
  out.push(`  Total ${p.bold(n(d.total))}${windowed ? `   ${trend(d.total, d.previousTotal, d.historyHours)}` : ''}`)
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

/** Over the rollback trigger of the phase the app reports (never, in a phase without one). */
const overRollback = (d: StatusData) => d.errorRate !== undefined && d.thresholds.rollback !== undefined && d.errorRate > d.thresholds.rollback

/**
 * The error rate coloured against the phase's own thresholds: green below, yellow above
 * TenantEnforcementErrors', red above the rollback trigger; a phase without those alerts (log
 * only) prints none.
 */
export function errorRateText(d: StatusData, p: Palette = PLAIN): string {
  if (d.errorRate === undefined) return p.dim('no data (no request of users)')
  const t = d.thresholds
  const rate = `${(d.errorRate * 100).toFixed(3)} %`
  const colour = overRollback(d) ? p.red : t.errorRate !== undefined && d.errorRate > t.errorRate ? p.yellow : p.green
  const limits = [...(t.errorRate !== undefined ? [`alert above ${pct(t.errorRate)}`] : []), ...(t.rollback !== undefined ? [`rollback above ${pct(t.rollback)}`] : [])]
  const phase = t.phase !== undefined ? `phase ${t.phase}` : ''
  const against = limits.length ? `${limits.join(', ')}${phase ? ` (${phase})` : ''}` : `${phase || 'this mode'} has no error-rate alert`
  return `${colour(rate)}  (${n(d.blockedRequests)} blocked / ${n(d.requests ?? 0)} requests; ${against})`
}

/** Refused flag values and the instances that run on their last good flags. */
function flagsText(d: StatusData, w: string, p: Palette): string {
  const window = d.kind === 'prometheus' ? '24 h' : w
  if (d.flagErrors === undefined && !d.flagsRefusedOn?.length) return p.dim(`no data (no ${'tenant_flag_errors_total'} series)`)
  const refused = `${n(d.flagErrors ?? 0)} refused (${window})`
  const on = d.flagsRefusedOn ?? []
  if (on.length === 0) return (d.flagErrors ?? 0) > 0 ? p.yellow(`${refused}; the latest change was applied`) : refused
  return p.red(`${refused}; the latest change was REFUSED on ${on.join(', ')}: running on the last good flags`)
}

/** How many instances of a mixed fleet are named before "and N more". */
const NAMED_INSTANCES = 10

/**
 * The mode: one plain line while every instance agrees (or one scrape: one instance); a mixed
 * fleet says how many are in the mode most report, and names the others with theirs.
 */
export function modeText(d: StatusData, p: Palette = PLAIN): string {
  if (!d.mode) return p.yellow(`unknown (no ${'tenant_enforcement_mode'} series)`)
  const fleet = d.fleet
  if (!fleet || fleet.byMode.length < 2) return p.bold(d.mode)
  const [most, ...others] = fleet.byMode
  const named = others.flatMap((g) => g.instances.map((i) => `${i} in ${g.mode}`))
  const more = named.length > NAMED_INSTANCES ? `, and ${named.length - NAMED_INSTANCES} more` : ''
  return p.yellow(`${most!.instances.length} of ${fleet.instances} instances in ${most!.mode}; ${named.slice(0, NAMED_INSTANCES).join(', ')}${more} (mixed fleet: a flag change on its way, or not applied; TenantFleetModeMismatch fires if it lasts)`)
}

export function renderEnforcement(d: StatusData, p: Palette = PLAIN): string {
  const windowed = d.kind === 'prometheus'
  const w = windowed ? '1 h' : 'since start'
  const rows: [string, string][] = []
  rows.push(['Mode', modeText(d, p)])
  rows.push(['Models', d.policies ? `${d.policies.block} enforced, ${d.policies.log} logged, ${d.policies.off} off` : 'unknown (no model policy series)'])
  rows.push([`Error rate (${w})`, errorRateText(d, p)])
  rows.push([`Blocked queries (${w})`, d.blocked > 0 ? p.yellow(n(d.blocked)) : n(d.blocked)])
  rows.push([`Bypasses (${w})`, d.bypasses > 0 ? p.yellow(n(d.bypasses)) : n(d.bypasses)])
  rows.push([`Check cost p95 (${w})`, d.checkP95Ms === undefined ? p.dim('no data (no checked query)') : `${Number(d.checkP95Ms.toPrecision(3))} ms`])
  rows.push(['Flag changes', flagsText(d, w, p)])
  if (d.kind === 'prometheus') {
    const alerts = d.firingAlerts
    const list = alerts?.map((a) => `${a.name} (${a.severity}${a.phase ? `, phase ${a.phase}` : ''}${a.instance ? `, ${a.instance}` : ''})`)
    rows.push(['Firing alerts', alerts === undefined ? p.dim('not shown with --at (Prometheus lists the alerts of now only)') : list!.length ? p.red(list!.join(', ')) : p.green('none')])
  }
  const lw = Math.max(...rows.map(([l]) => l.length))
  const out = [p.bold('Enforcement status'), ...rows.map(([l, v]) => `  ${l.padEnd(lw)}  ${v}`)]
  const table = (title: string, list: { name: string; count: number }[]) => {
    if (list.length === 0) return
    const nw = Math.max(...list.map((r) => r.name.length))
    out.push('', `  ${title}`, ...list.map((r) => `    ${r.name.padEnd(nw)}  ${n(r.count).padStart(6)}`))
  }
  table(`Blocked queries by model (${w})`, d.blockedByModel.map((r) => ({ name: r.model, count: r.count })))
  table(`Top endpoints of blocked queries (${w}; "unknown": outside a request)`, d.topEndpoints.map((r) => ({ name: r.endpoint, count: r.count })))
  if (overRollback(d)) {
    out.push('', p.red(p.bold(`  Over the rollback trigger (${pct(d.thresholds.rollback!)}): roll back to log only now`)))
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
