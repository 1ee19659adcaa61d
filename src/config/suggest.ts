// "did you mean" for typos in flags and config: the closest valid value by edit distance.
export function closest(input: string, valid: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  const a = input.toLowerCase()
  for (const candidate of valid) {
    const d = distance(a, candidate.toLowerCase())
    if (d < bestDistance) {
      bestDistance = d
      best = candidate
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]!
}

export function describeInvalid(what: string, value: string, valid: readonly string[]): string {
  const hint = closest(value, valid)
  return `${what} names "${value}"${hint ? `: did you mean "${hint}"?` : '.'} Valid: ${valid.join(', ')}`
}
