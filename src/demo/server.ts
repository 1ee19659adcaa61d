// The demo API as a long-running server (the compose stack's app container):
//   PORT=3000 DATABASE_URL=file:/data/demo.db LOKI_URL=http://loki:3100 tsx src/demo/server.ts
// Flags come from TENANT_ENFORCEMENT_* (or TENANT_ENFORCEMENT_FLAG_FILE, a watched file: change
// it to switch phase or roll back with no restart). Drive it with src/demo/traffic.ts.
//   DEMO_FIXES            fixes deployed: none (default), all, or a comma list (see fixes.ts)
//   TENANT_HARDENED       true: phase 4, the client is created with `hardened: true`
//   NIGHTLY_CLEANUP_SECONDS  how often the nightly job runs (default 60; 0 = never)
//   APP_ENV               Loki label env (default demo)
import { pathToFileURL } from 'node:url'
import { ALL_FIXES, type DemoFix } from './fixes.ts'
import { createDemo, demoConfig } from './harness.ts'
import { nightlyCleanup } from './jobs.ts'
import { createLogger } from '../telemetry/log-shipping.ts'

export async function startServer(env: NodeJS.ProcessEnv = process.env) {
  const shipping = createLogger({ app: demoConfig.app.job, env: env.APP_ENV ?? 'demo' })
  const log = shipping.logger
  const fixesRaw = (env.DEMO_FIXES ?? 'none').trim()
  const fixes: DemoFix[] = fixesRaw === 'all' ? ALL_FIXES : fixesRaw === 'none' || fixesRaw === '' ? [] : fixesRaw.split(',').map((f) => f.trim() as DemoFix)
  for (const f of fixes) if (!ALL_FIXES.includes(f)) throw new Error(`DEMO_FIXES: unknown fix "${f}"; known: ${ALL_FIXES.join(', ')}, or all / none`)
  const flagFile = env.TENANT_ENFORCEMENT_FLAG_FILE
  const demo = await createDemo({ url: env.DATABASE_URL, logger: log, fixes, hardened: env.TENANT_HARDENED === 'true', flags: flagFile ? { file: flagFile } : undefined })
  const port = Number(env.PORT ?? 3000)
  const server = demo.app.listen(port, env.HOST ?? '0.0.0.0')
  await new Promise<void>((r, j) => server.once('listening', r).once('error', j))
  log.info({ port, database: demo.db.file, loki: shipping.lokiUrl ?? null, fixes, hardened: env.TENANT_HARDENED === 'true', flags: demo.client().enforcement.currentFlags().mode }, 'demo API listening')
  const every = Number(env.NIGHTLY_CLEANUP_SECONDS ?? 60)
  const timer = every > 0 ? setInterval(() => void nightlyCleanup(demo.prisma()).catch((err: Error) => log.error({ err: { message: err.message } }, 'nightly cleanup failed')), every * 1000) : undefined
  const stop = async () => {
    if (timer) clearInterval(timer)
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
    await demo.close()
    await shipping.close()
  }
  return { server, demo, stop }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  startServer().then(
    ({ stop }) => {
      const shutdown = () => void stop().then(() => process.exit(0))
      process.once('SIGTERM', shutdown)
      process.once('SIGINT', shutdown)
    },
    (err: Error) => {
      console.error(`demo server: ${err.message}`)
      process.exit(1)
    },
  )
}
