// The app's logger: pino JSON lines to stdout (or a file) always, and to Loki as well when a Loki
// URL is given (option or LOKI_URL). Loki is best effort: lines are batched in memory and pushed
// in the background with a short timeout, so a Loki that is down or hangs never fails or slows
// a request; stdout keeps every line for the node's log collector.
import { pino, type DestinationStream, type Logger } from 'pino'
import { pinoLoki } from 'pino-loki'

export interface CreateLoggerOptions {
  /** Loki label `app` (use config.app.job so dashboards and `tenantfence report --loki` find it) */
  app: string
  /** Loki label `env` (production, staging, demo, …) */
  env: string
  /** Loki base URL (`http://loki:3100`); default process.env.LOKI_URL; unset or empty: stdout only */
  lokiUrl?: string
  /** default process.env.LOG_LEVEL or info */
  level?: string
  /** where the local copy goes: a file path, a stream, or stdout (default) */
  destination?: string | DestinationStream
  /** more static Loki labels; keep them few and bounded (never ids) */
  labels?: Record<string, string>
  loki?: {
    /** seconds between pushes (default 5) */
    batchIntervalSeconds?: number
    /** abort a push after this many ms (default 2000: a hung Loki delays shutdown at most this long) */
    timeoutMs?: number
    /** lines kept while Loki is unreachable; the oldest are dropped beyond it (default 10000) */
    maxBufferSize?: number
    headers?: Record<string, string>
    basicAuth?: { username: string; password: string }
    /** pino-loki prints failed pushes to stderr unless silenced (default false: failures are visible) */
    silenceErrors?: boolean
  }
}

export interface ShippingLogger {
  logger: Logger
  /** the Loki push URL in use, or undefined when logging to the local destination only */
  lokiUrl: string | undefined
  /** flush the local destination and push what is buffered for Loki (bounded by the timeout) */
  close(): Promise<void>
}

export function createLogger(options: CreateLoggerOptions): ShippingLogger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info'
  const url = (options.lokiUrl ?? process.env.LOKI_URL ?? '').trim()
  const host = url ? new URL(url) : undefined // a malformed LOKI_URL refuses to start, naming the value
  const owned = typeof options.destination === 'string'
  const local = typeof options.destination === 'string' ? pino.destination({ dest: options.destination, mkdir: true, sync: false }) : (options.destination ?? pino.destination({ dest: 1, sync: false }))
  // base: app and env only (no hostname/pid): pino-loki turns a `hostname` field into a label.
  const base = { app: options.app, env: options.env }
  if (!host) {
    const logger = pino({ level, base }, local)
    return { logger, lokiUrl: undefined, close: () => flushLocal(local, owned) }
  }
  const timeoutMs = options.loki?.timeoutMs ?? 2000
  const loki = pinoLoki({
    host: host.toString(),
    endpoint: 'loki/api/v1/push',
    labels: { ...options.labels, app: options.app, env: options.env },
    batching: { interval: options.loki?.batchIntervalSeconds ?? 5, maxBufferSize: options.loki?.maxBufferSize ?? 10_000 },
    timeout: timeoutMs,
    headers: options.loki?.headers,
    basicAuth: options.loki?.basicAuth,
    silenceErrors: options.loki?.silenceErrors ?? false,
    structuredMetaKey: false,
  })
  loki.on('error', () => {}) // a broken Loki stream must not become an uncaught exception
  const logger = pino({ level, base }, pino.multistream([{ stream: local, level: level as pino.Level }, { stream: loki, level: level as pino.Level }]))
  let closing: Promise<void> | undefined
  return {
    logger,
    lokiUrl: new URL('loki/api/v1/push', host).toString(),
    close() {
      closing ??= Promise.all([
        flushLocal(local, owned),
        // the last push is bounded by the push timeout; never wait longer than that
        withTimeout(new Promise<void>((resolve) => {
          loki.once('close', () => resolve())
          loki.end()
        }), timeoutMs + 500),
      ]).then(() => undefined)
      return closing
    },
  }
}

/** Flush the local destination (waiting for a file to open first); end it when we opened it. */
function flushLocal(stream: DestinationStream, owned: boolean): Promise<void> {
  const s = stream as DestinationStream & { flush?: (cb?: (err?: Error) => void) => void; end?: () => void; fd?: number; once?: (e: string, f: (...a: unknown[]) => void) => void }
  return new Promise<void>((resolve) => {
    if (typeof s.flush !== 'function') return resolve()
    const done = () => {
      if (!owned || typeof s.end !== 'function') return resolve()
      s.once?.('close', () => resolve())
      s.once?.('error', () => resolve())
      s.end()
    }
    const flush = () => {
      try {
        s.flush!(() => done())
      } catch {
        resolve()
      }
    }
    if (typeof s.fd === 'number' && s.fd < 0 && typeof s.once === 'function') {
      s.once('ready', flush)
      s.once('error', () => resolve())
    } else flush()
  })
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms)
    t.unref()
    p.then(() => {
      clearTimeout(t)
      resolve()
    }, () => {
      clearTimeout(t)
      resolve()
    })
  })
}
