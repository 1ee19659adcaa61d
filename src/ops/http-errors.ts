// Fetch with messages a CLI user can act on: unreachable host, HTTP error, bad JSON.
import { CliError } from '../cli-error.ts'

/** GET a URL as text; every failure becomes a CliError naming `what` and the URL. */
export async function getText(url: URL, what: string, timeoutMs = 15_000, accept = 'text/plain'): Promise<string> {
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept } })
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    const why = cause?.code ?? cause?.message ?? (err as Error).message
    throw new CliError(`cannot reach ${what} at ${url.origin}: ${why}`)
  }
  const body = await res.text()
  if (!res.ok) throw new CliError(`${what} answered HTTP ${res.status} for ${url.pathname}: ${body.slice(0, 300).trim()}`)
  return body
}

/** GET a URL and parse JSON; every failure becomes a CliError naming `what` and the URL. */
export async function getJson(url: URL, what: string, timeoutMs = 15_000): Promise<unknown> {
  const body = await getText(url, what, timeoutMs, 'application/json')
  try {
    return JSON.parse(body)
  } catch {
    throw new CliError(`${what} at ${url.origin} did not answer JSON for ${url.pathname}: ${body.slice(0, 120).trim()}`)
  }
}

/** Parse a base URL given on the command line. */
export function baseUrl(raw: string, option: string): URL {
  try {
    const u = new URL(raw)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http')
    return u
  } catch {
    throw new CliError(`${option} ${raw}: not an http(s) URL (example: ${option} http://localhost:9090)`, 2)
  }
}

/** base + path, keeping a path prefix the base may carry (a reverse proxy's /prometheus). */
export function joinUrl(base: URL, path: string): URL {
  const u = new URL(base.href)
  u.pathname = u.pathname.replace(/\/+$/, '') + path
  u.search = ''
  return u
}
