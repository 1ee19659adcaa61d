// A parser for the Prometheus text exposition format (what /metrics serves), enough for the
// status command: samples with labels; comments, HELP and TYPE lines skipped.
export interface TextSample {
  name: string
  labels: Record<string, string>
  value: number
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/

function parseValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity
  if (s === '-Inf') return -Infinity
  if (s === 'NaN') return NaN
  const v = Number(s)
  if (s === '' || Number.isNaN(v)) throw new Error(`bad sample value "${s}"`)
  return v
}

/** Parse exposition text; throws Error naming the line on a malformed sample line. */
export function parseMetricsText(text: string): TextSample[] {
  const out: TextSample[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '' || line.startsWith('#')) continue
    try {
      out.push(parseLine(line))
    } catch (err) {
      throw new Error(`line ${i + 1}: ${(err as Error).message}: ${line.slice(0, 120)}`)
    }
  }
  return out
}

function parseLine(line: string): TextSample {
  const m = NAME.exec(line)
  if (!m) throw new Error('no metric name')
  const name = m[0]
  let pos = name.length
  const labels: Record<string, string> = {}
  if (line[pos] === '{') {
    pos++
    for (;;) {
      while (line[pos] === ' ' || line[pos] === ',') pos++
      if (line[pos] === '}') {
        pos++
        break
      }
      const lm = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos))
      if (!lm) throw new Error('bad label name')
      pos += lm[0].length
      while (line[pos] === ' ') pos++
      if (line[pos] !== '=' || line[pos + 1] !== '"') throw new Error(`label ${lm[0]}: expected ="`)
      pos += 2
      let value = ''
      for (;;) {
        const c = line[pos++]
        if (c === undefined) throw new Error('unterminated label value')
        if (c === '"') break
        if (c === '\\') {
          const e = line[pos++]
          value += e === 'n' ? '\n' : e ?? ''
        } else value += c
      }
      labels[lm[0]] = value
    }
  }
  const rest = line.slice(pos).trim().split(/\s+/)
  return { name, labels, value: parseValue(rest[0] ?? '') }
}

/** histogram_quantile over cumulative buckets {le, count}, the way Prometheus interpolates. */
export function bucketQuantile(q: number, buckets: { le: number; count: number }[]): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le)
  const total = sorted[sorted.length - 1]?.count ?? 0
  if (sorted.length < 2 || total === 0 || sorted[sorted.length - 1]!.le !== Infinity) return undefined
  const rank = q * total
  let i = sorted.findIndex((b) => b.count >= rank)
  if (i === sorted.length - 1) return sorted[sorted.length - 2]!.le
  const upper = sorted[i]!
  const lowerLe = i === 0 ? 0 : sorted[i - 1]!.le
  const lowerCount = i === 0 ? 0 : sorted[i - 1]!.count
  if (i === 0 && upper.le <= 0) return upper.le
  return lowerLe + (upper.le - lowerLe) * ((rank - lowerCount) / (upper.count - lowerCount))
}
