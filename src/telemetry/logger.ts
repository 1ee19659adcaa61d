// The default logger: pino JSON on stdout. Loki shipping is added by createLogger in
// log-shipping.ts when LOKI_URL is set; the extension only needs something pino-shaped.
import { pino, type Logger } from 'pino'

export type { Logger }

export function defaultLogger(app: string): Logger {
  return pino({ base: { app }, level: process.env.LOG_LEVEL ?? 'info' })
}
