// Prometheus's template functions `humanize` and `humanizePercentage` (Go's %.4g), so the
// generated promtool tests can state the exact annotation an alert will carry.

/** Go's fmt %.4g: 4 significant digits, trailing zeros dropped, exponent form outside 1e-4..1e4. */
export function formatG4(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v === 0 ? '0' : v > 0 ? '+Inf' : '-Inf'
  const [mantissa, expPart] = v.toExponential(3).split('e') as [string, string]
  const exp = Number(expPart)
  const strip = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s)
  if (exp < -4 || exp >= 4) return `${strip(mantissa)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  return strip(v.toPrecision(4))
}

export function humanize(v: number): string {
  let prefix = ''
  if (v !== 0 && Number.isFinite(v)) {
    if (Math.abs(v) >= 1) {
      for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
        if (Math.abs(v) < 1000) break
        prefix = p
        v /= 1000
      }
    } else {
      for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
        if (Math.abs(v) >= 1) break
        prefix = p
        v *= 1000
      }
    }
  }
  return `${formatG4(v)}${prefix}`
}

export function humanizePercentage(v: number): string {
  return `${formatG4(v * 100)}%`
}

/** Go's fmt %.0f: the nearest whole number, halves to even (2.5 → 2). */
export function printfWhole(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'
  const r = Math.round(v)
  const whole = Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r
  return String(whole === 0 ? 0 : whole)
}

/** Fill a rule annotation the way Prometheus would for one alert instance. */
export function renderTemplate(template: string, value: number, labels: Record<string, string>): string {
  const out = template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (whole, inner: string) => {
    if (inner === '$value | humanize') return humanize(value)
    if (inner === '$value | humanizePercentage') return humanizePercentage(value)
    if (inner === '$value | printf "%.0f"') return printfWhole(value)
    const label = /^\$labels\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(inner)
    if (label) return labels[label[1]!] ?? ''
    throw new Error(`the test generator cannot render ${whole}; extend renderTemplate`)
  })
  return out
}
