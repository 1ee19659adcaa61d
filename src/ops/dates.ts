// Dates and times given on the command line.
import { CliError } from '../cli-error.ts'

/** A calendar day YYYY-MM-DD (UTC) that exists. */
export function parseDay(raw: string, option = '--date'): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw)
  const ms = m ? Date.parse(`${raw}T00:00:00Z`) : NaN
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== raw) {
    throw new CliError(`${option} ${raw}: expected a day as YYYY-MM-DD (for example 2025-01-31)`, 2)
  }
  return raw
}

export function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
}

/** An evaluation time: RFC 3339 or unix seconds (fractions allowed). Returns unix seconds. */
export function parseAt(raw: string, option = '--at'): number {
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw)
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(raw) ? Date.parse(raw) : NaN
  if (Number.isNaN(ms)) throw new CliError(`${option} ${raw}: expected RFC 3339 (2025-01-31T12:00:00Z) or unix seconds`, 2)
  return ms / 1000
}
