// One demo instance: a seeded database, the enforced client, the app. Used by `npm run demo`,
// the compose server and the tests, so all three run the same thing.
import { pino, type Logger } from 'pino'
import { Registry } from 'prom-client'
import config from '../../tenantfence.config.ts'
import type { TenantFenceConfig } from '../config/schema.ts'
import type { TenantEnforcementOptions } from '../enforcement/extension.ts'
import { createDemoApp } from './app.ts'
import { enforcedClient, type EnforcedClient } from './client.ts'
import { openDatabase, type OpenDatabase } from './db.ts'
import type { DemoFix } from './fixes.ts'
import type { PrismaClient } from './generated/prisma/client.ts'
import { seed } from './seed.ts'

export { config as demoConfig }

export interface DemoOptions {
  /** SQLite file (`file:...`) or PostgreSQL (`postgres://…`); default a private temp SQLite database */
  url?: string
  config?: TenantFenceConfig
  registry?: Registry
  /** logger of the enforcement extension and the app (default: pino on stdout) */
  logger?: Logger
  fixes?: Iterable<DemoFix>
  /** start with the hardened client (phase 4) */
  hardened?: boolean
  /** where the extension reads flags (default process.env; a watched file for rollback without restart) */
  flags?: TenantEnforcementOptions['flags']
}

export interface Demo {
  app: ReturnType<typeof createDemoApp>
  db: OpenDatabase
  config: TenantFenceConfig
  registry: Registry
  logger: Logger
  fixes: Set<DemoFix>
  /** the client the app uses now */
  prisma(): PrismaClient
  /** the enforced client in use (its handle: metrics, currentFlags) */
  client(): EnforcedClient
  /** phase 4: a second client with `hardened: true` over the same database and registry; the app switches to it at once */
  harden(): EnforcedClient
  close(): Promise<void>
}

export async function createDemo(options: DemoOptions = {}): Promise<Demo> {
  const cfg = options.config ?? config
  const registry = options.registry ?? new Registry()
  const logger = options.logger ?? pino({ base: { app: cfg.app.job } })
  const db = await openDatabase(options.url)
  if ((await seed(db.prisma)).seeded) await db.syncSequences()
  const fixes = new Set<DemoFix>(options.fixes ?? [])
  const clients: EnforcedClient[] = []
  const make = (hardened: boolean) => {
    const c = enforcedClient(db.prisma, { config: cfg, registry, logger, hardened, flags: options.flags })
    clients.push(c)
    return c
  }
  let current = make(options.hardened === true)
  const app = createDemoApp({ prisma: () => current.prisma, config: cfg, registry, logger, fixes })
  return {
    app,
    db,
    config: cfg,
    registry,
    logger,
    fixes,
    prisma: () => current.prisma,
    client: () => current,
    harden() {
      current = make(true)
      return current
    },
    async close() {
      for (const c of clients) c.enforcement.close()
      await db.close()
    },
  }
}

/** A pino logger writing into memory: tests read the JSON lines back. */
export function memoryLogger(level = 'info'): { logger: Logger; lines(): Record<string, unknown>[]; clear(): void } {
  let buf: string[] = []
  const logger = pino({ level, base: undefined }, { write: (s: string) => void buf.push(s) })
  return {
    logger,
    lines: () => buf.flatMap((chunk) => chunk.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
    clear: () => {
      buf = []
    },
  }
}
