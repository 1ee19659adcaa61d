// Small statistics for the benchmark: percentiles, medians of per-round ratios, formatting.

export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length
  if (n === 0) return Number.NaN
  const i = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))
  return sorted[i]!
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort()
}

export function median(values: readonly number[]): number {
  return percentile(sortedCopy(values), 50)
}

/** Median and interquartile range of a set of per-round values. */
export function spread(values: readonly number[]): { median: number; q1: number; q3: number } {
  const s = sortedCopy(values)
  return { median: percentile(s, 50), q1: percentile(s, 25), q3: percentile(s, 75) }
}

/** A growable list of float samples without per-sample allocation. */
export class Samples {
  private buf: Float64Array
  length = 0
  constructor(capacity = 1024) {
    this.buf = new Float64Array(capacity)
  }
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2)
      next.set(this.buf)
      this.buf = next
    }
    this.buf[this.length++] = v
  }
  sorted(): Float64Array {
    return this.buf.slice(0, this.length).sort()
  }
}

export const pct = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`
export const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a')
export const int = (v: number) => Math.round(v).toLocaleString('en-US')

/** A plain-text table with aligned columns (first column left, the others right). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** A markdown table (for docs/performance.md). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n')
}
