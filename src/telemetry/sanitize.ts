// Query arguments as they may appear in a log line: the structure (which fields were filtered,
// included, written) stays; every value that could be secret or personal is replaced. Only
// ids, the tenant field, booleans and operator names survive. Runs only for lines actually logged.
const SECRET_KEY = /pass|secret|token|hash|code|key|salt|otp|mfa|credential|session|cookie|auth/i
const ID_KEY = /^(id|.*Id)$/

export function sanitizeArgs(value: unknown, tenantField = 'tenantId', depth = 0, key = ''): unknown {
  if (depth > 6) return '[depth]'
  if (value === null || value === undefined) return value
  if (typeof value === 'boolean') return value
  if (typeof value === 'number' || typeof value === 'bigint') {
    return (key === tenantField || ID_KEY.test(key)) && !SECRET_KEY.test(key) ? (typeof value === 'bigint' ? String(value) : value) : '[number]'
  }
  if (typeof value === 'string') return key === tenantField ? value : '[redacted]'
  if (value instanceof Date) return '[date]'
  if (Array.isArray(value)) {
    const head = value.slice(0, 3).map((v) => sanitizeArgs(v, tenantField, depth + 1, key))
    return value.length > 3 ? [...head, `[+${value.length - 3} more]`] : head
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // keys are field and operator names from the schema, never user data
      out[k] = SECRET_KEY.test(k) && typeof v !== 'object' ? '[redacted]' : sanitizeArgs(v, tenantField, depth + 1, ID_KEY.test(k) || k === tenantField ? k : isOperator(k) ? key : k)
    }
    return out
  }
  return `[${typeof value}]`
}

/** Prisma filter operators keep the meaning of the field they sit under (`id: { in: [1, 2] }`). */
function isOperator(k: string): boolean {
  return k === 'equals' || k === 'in' || k === 'notIn' || k === 'not' || k === 'lt' || k === 'lte' || k === 'gt' || k === 'gte' || k === 'set'
}
