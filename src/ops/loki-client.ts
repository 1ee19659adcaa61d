// Reads log lines from Loki's documented HTTP API: GET /loki/api/v1/query_range with a LogQL
// selector, start/end in nanoseconds, direction=forward and a limit; pages by moving start just
// past the last timestamp returned until a page comes back with fewer than `limit` entries.
// (Entries sharing the exact nanosecond of a page's last entry beyond the limit would be
// skipped; with pino's nanosecond timestamps that does not happen in practice.)
import { CliError } from '../cli-error.ts'
import { getJson, joinUrl } from './http-errors.ts'

export interface LokiQuery {
  base: URL
  /** LogQL, e.g. {app="tenantfence-demo"} |= "TENANT_VIOLATION" */
  query: string
  startNs: bigint
  /** exclusive */
  endNs: bigint
  limit?: number
}

interface LokiResponse {
  status?: string
  data?: { resultType?: string; result?: { stream?: Record<string, string>; values?: [string, string][] }[] }
}

export const DEFAULT_LOKI_LIMIT = 5000

/** The LogQL selector of violation lines for an app (`app` label = config.app.job). */
export function violationSelector(job: string): string {
  return `{app=${JSON.stringify(job)}} |= "TENANT_VIOLATION"`
}

export async function* lokiLines(q: LokiQuery): AsyncGenerator<string> {
  const limit = q.limit ?? DEFAULT_LOKI_LIMIT
  let start = q.startNs
  for (;;) {
    const url = joinUrl(q.base, '/loki/api/v1/query_range')
    url.searchParams.set('query', q.query)
    url.searchParams.set('start', start.toString())
    url.searchParams.set('end', q.endNs.toString())
    url.searchParams.set('limit', String(limit))
    url.searchParams.set('direction', 'forward')
    const body = (await getJson(url, 'Loki')) as LokiResponse
    if (body?.status !== 'success' || !Array.isArray(body.data?.result)) {
      throw new CliError(`Loki answered an unexpected body for query_range (status ${JSON.stringify(body?.status)}); expected status "success" with data.result`)
    }
    if (body.data.resultType && body.data.resultType !== 'streams') {
      throw new CliError(`Loki answered resultType "${body.data.resultType}"; the report needs a log query (streams), not a metric query`)
    }
    // Entries of several streams: merge by timestamp so lines come out in time order.
    const entries: [bigint, string][] = []
    for (const stream of body.data.result) {
      for (const v of stream.values ?? []) {
        if (!Array.isArray(v) || typeof v[0] !== 'string' || !/^\d+$/.test(v[0]) || typeof v[1] !== 'string') continue
        entries.push([BigInt(v[0]), v[1]])
      }
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    for (const [, line] of entries) yield line
    if (entries.length < limit) return
    const last = entries[entries.length - 1]![0]
    if (last + 1n >= q.endNs) return
    start = last + 1n
  }
}

/** Nanoseconds since the epoch of a UTC day's midnight. */
export function dayStartNs(date: string): bigint {
  return BigInt(Date.parse(`${date}T00:00:00Z`)) * 1_000_000n
}
