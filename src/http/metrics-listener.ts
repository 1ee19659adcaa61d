// /metrics on a listener of its own: the usual way to keep it off the internet. The app's port
// is published; this one is bound to loopback (or to the pod network, for Prometheus) and never
// published, so no proxy rule has to catch `/METRICS` or `/metrics/`. Framework free: the
// Express, Fastify and Web entries all export it.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

export interface MetricsListenerOptions {
  registry: Registry
  /** 0 picks a free port (tests) */
  port: number
  /**
   * Interface to bind (default 127.0.0.1: a Prometheus on the same host or a sidecar). In a
   * container, 0.0.0.0 lets Prometheus on the container network reach it: then do not publish the
   * port (no `ports:` entry, no LoadBalancer/Ingress), or protect it with a NetworkPolicy.
   */
  host?: string
  /** the one path served, matched exactly and case-sensitively (default /metrics) */
  path?: string
}

export interface MetricsListener {
  server: Server
  port: number
  /** http://host:port/metrics */
  url: string
  close(): Promise<void>
}

/** Serve the registry on `GET|HEAD <path>` of its own listener; 404 for any other path, 405 for other methods. */
export async function metricsListener(options: MetricsListenerOptions): Promise<MetricsListener> {
  const { registry } = options
  const host = options.host ?? '127.0.0.1'
  const path = options.path ?? '/metrics'
  if (!path.startsWith('/')) throw new Error(`metricsListener: path is "${path}"; it must start with /`)
  const server = createServer((req, res) => {
    const target = (req.url ?? '').split('?')[0]
    if (target !== path) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n')
      return
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics failed\n'),
    )
  })
  // a scrape is small and quick: a client that holds a connection open gets cut
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return {
    server,
    port,
    url: `http://${shown}:${port}${path}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
      return closing
    },
  }
}
