// Instant queries against Prometheus's HTTP API (GET /api/v1/query).
import { CliError } from '../cli-error.ts'
import { getJson, joinUrl } from './http-errors.ts'

export interface Sample {
  metric: Record<string, string>
  /** NaN and ±Inf come back as numbers too */
  value: number
}

interface QueryResponse {
  status?: string
  error?: string
  data?: { resultType?: string; result?: unknown }
}

const toNumber = (s: unknown): number => (s === 'NaN' ? NaN : s === '+Inf' ? Infinity : s === '-Inf' ? -Infinity : Number(s))

export class PrometheusClient {
  constructor(
    readonly base: URL,
    /** evaluation time in unix seconds; undefined = the server's now */
    readonly at?: number,
  ) {}

  /** Evaluate an instant query; scalars come back as one sample with no labels. */
  async query(promql: string, at = this.at): Promise<Sample[]> {
    const url = joinUrl(this.base, '/api/v1/query')
    url.searchParams.set('query', promql)
    if (at !== undefined) url.searchParams.set('time', String(at))
    const body = (await getJson(url, 'Prometheus')) as QueryResponse
    if (body?.status !== 'success') throw new CliError(`Prometheus refused the query ${promql}: ${body?.error ?? 'no error given'}`)
    const { resultType, result } = body.data ?? {}
    if (resultType === 'scalar') return [{ metric: {}, value: toNumber((result as [number, string])[1]) }]
    if (resultType !== 'vector' || !Array.isArray(result)) throw new CliError(`Prometheus answered resultType ${resultType} for ${promql}; expected an instant vector`)
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric ?? {}, value: toNumber(r.value?.[1]) }))
  }

  /** One number: the first sample's value, undefined when the result is empty. */
  async scalar(promql: string, at = this.at): Promise<number | undefined> {
    return (await this.query(promql, at))[0]?.value
  }
}
