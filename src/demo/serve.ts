// The demo API as a server: what the compose stack's `demo` service runs
// (`tsx src/demo/serve.ts`). Everything comes from the environment:
//
//   PORT (3001), HOST (127.0.0.1; 0.0.0.0 in a container)
//   METRICS_PORT (9464), METRICS_HOST (127.0.0.1)  /metrics on a listener of its own, never on the
//                      API's port: in a container 0.0.0.0 for Prometheus on the container
//                      network, and never published (docker-compose.yml has no ports entry for it)
//   DATABASE_URL       file:<path> of a SQLite database, or postgres://… of a PostgreSQL database
//                      (migrated from prisma/postgres/migrations at start); default: a private temp SQLite database
//   LOKI_URL           push the log lines to this Loki as well as stdout (unset: stdout only)
//   DEMO_FIXES         fixes deployed at start: comma list of names from fixes.ts, or `all`
//   DEMO_HARDENED      true: phase 4, the hardened client (flags ignored)
//   NIGHTLY_CLEANUP_SECONDS  run the nightly job (a documented bypass) this often (default 60; 0: never)
//   DEMO_ENV           Loki label env (default demo)
//   TENANT_ENFORCEMENT_*  the enforcement flags, read at query time as in any app, or
//   TENANT_ENFORCEMENT_FLAG_FILE  a KEY=value file of those flags, watched: edit it to change
//                      phase or roll back with no restart
import { basename } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { appLabel } from '../config/define.ts'
import { metricsListener, type MetricsListener } from '../http/metrics-listener.ts'
import { createLogger } from '../telemetry/log-shipping.ts'
import { errorFields } from '../telemetry/error-line.ts'
import { safeLine } from '../telemetry/safe-line.ts'
import { ALL_FIXES, type DemoFix } from './fixes.ts'
import { createDemo, demoConfig, type Demo } from './harness.ts'
import { nightlyCleanup } from './jobs.ts'

export interface DemoServerOptions {
  port?: number
  host?: string
  /** the metrics listener's port (default METRICS_PORT or 9464; 0: a free port) */
  metricsPort?: number
  /** default: process.env */
  env?: NodeJS.ProcessEnv
  /** default: stdout, and Loki when LOKI_URL is set */
  logger?: Logger
}

export interface DemoServer {
  demo: Demo
  /** http://<host>:<port> */
  url: string
  port: number
  /** http://<metrics host>:<metrics port>/metrics */
  metricsUrl: string
  metricsPort: number
  close(): Promise<void>
}

/** Parse DEMO_FIXES; an unknown name refuses to start, naming the valid ones. */
export function parseFixes(raw: string | undefined): DemoFix[] {
  const value = (raw ?? '').trim()
  if (!value) return []
  if (value === 'all') return [...ALL_FIXES]
  const names = value.split(',').map((s) => s.trim()).filter(Boolean)
  for (const n of names) {
    if (!(ALL_FIXES as string[]).includes(n)) throw new Error(`DEMO_FIXES names "${n}": valid fixes are ${ALL_FIXES.join(', ')}, or all`)
  }
  return names as DemoFix[]
}

function parseWhole(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined || raw.trim() === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name}=${raw}: expected a whole number 0-${max}`)
  return n
}

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const env = options.env ?? process.env
  const port = options.port ?? parseWhole('PORT', env.PORT, 3001, 65535)
  const nightlySeconds = parseWhole('NIGHTLY_CLEANUP_SECONDS', env.NIGHTLY_CLEANUP_SECONDS, 60, 86_400)
  const flagFile = env.TENANT_ENFORCEMENT_FLAG_FILE?.trim() || undefined
  const host = options.host ?? env.HOST ?? '127.0.0.1'
  const metricsPort = options.metricsPort ?? parseWhole('METRICS_PORT', env.METRICS_PORT, 9464, 65535)
  const metricsHost = env.METRICS_HOST?.trim() || '127.0.0.1'
  const fixes = parseFixes(env.DEMO_FIXES)
  const shipping = options.logger ? undefined : createLogger({ app: appLabel(demoConfig), env: env.DEMO_ENV ?? 'demo', lokiUrl: env.LOKI_URL })
  const logger = options.logger ?? shipping!.logger
  const demo = await createDemo({ url: env.DATABASE_URL || undefined, logger, fixes, hardened: env.DEMO_HARDENED === 'true', flags: flagFile ? { file: flagFile } : undefined })
  const server = demo.app.listen(port, host)
  let metrics: MetricsListener | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
    metrics = await metricsListener({ registry: demo.registry, port: metricsPort, host: metricsHost })
  } catch (err) {
    server.close()
    await demo.close()
    await shipping?.close()
    throw err
  }
  const actual = (server.address() as AddressInfo).port
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}`
  const nightly =
    nightlySeconds > 0
      ? setInterval(() => {
          const failed = (err: unknown) => logger.error(safeLine({ err: errorFields(err) }), 'nightly cleanup failed')
          void nightlyCleanup(demo.prisma()).catch(failed)
        }, nightlySeconds * 1000)
      : undefined
  nightly?.unref()
  const mode = demo.client().enforcement.currentFlags().mode
  // The start-up line names the flag file by its name only and Loki by its origin (no path, no credentials).
  const loki = shipping?.lokiUrl ? new URL(shipping.lokiUrl).origin : null
  const hardened = env.DEMO_HARDENED === 'true'
  const startup = { url, metrics: metrics.url, mode, database: demo.db.provider, flagFile: flagFile && basename(flagFile), fixes, hardened, loki }
  logger.info(safeLine(startup), 'demo API listening')
  let closing: Promise<void> | undefined
  return {
    demo,
    url,
    port: actual,
    metricsUrl: metrics.url,
    metricsPort: metrics.port,
    close() {
      closing ??= (async () => {
        if (nightly) clearInterval(nightly)
        await metrics.close()
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        await demo.close()
        await shipping?.close()
      })()
      return closing
    },
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  startDemoServer().then(
    (s) => {
      const stop = () => void s.close().then(() => process.exit(0))
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    },
    (err: Error) => {
      console.error(`demo API refused to start: ${err.message}`)
      process.exit(1)
    },
  )
}
