// The default logger: pino JSON on stdout. Loki shipping is added by createLogger in
// log-shipping.ts when LOKI_URL is set; the extension only needs something pino-shaped.
import { pino, type Logger } from 'pino'

export type { Logger }

/** `app`: the config's app label (config.app.job); without one the lines carry app "app". */
export function defaultLogger(app: string | undefined): Logger {
  return pino({ base: { app: app ?? 'app' }, level: process.env.LOG_LEVEL ?? 'info' })
}
