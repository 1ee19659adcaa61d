// `npm run stack:local`: the compose stack's demo without Docker. The demo API (embedded SQLite)
// under traffic, its log lines in a file `tenantfence report --logs` reads, and a local Prometheus
// (Debian's `prometheus`) scraping it with every generated rule file, so `status`, `phase check`
// and the alerts run against real data. Flags come as in compose: the shell, then `.env`, then
// phase 1 (log only); change phase with `phase env N > .env` and a restart of this command.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { appLabel, phaseFlags } from '../config/define.ts'
import { createLogger } from '../telemetry/log-shipping.ts'
import { demoConfig } from './harness.ts'
import { startDemoServer } from './serve.ts'
import { runTraffic } from './traffic.ts'

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)))

const USAGE = `npm run stack:local -- [--port 3001] [--metrics-port 9464] [--prometheus-port 9090] [--rps 20] [--duration SECONDS] [--dotenv .env] [--dir .tmp/stack-local]

The demo API under traffic and a local Prometheus with the generated alert rules, no Docker.
Needs \`prometheus\` on PATH (apt-get install -y prometheus); without it, the demo and traffic only.
Flags: the shell's TENANT_ENFORCEMENT_*, then --dotenv, then phase 1's. Stop with Ctrl-C.
--dir holds the demo's log lines (demo.log, kept after exit for \`report --logs\`) and Prometheus's
data; it is emptied at start.`

/** KEY=value lines of an env file (compose's .env): comments and blank lines skipped, quotes removed. */
export function readEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (m && !line.trimStart().startsWith('#')) out[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2')
  }
  return out
}

/** prometheus.yml for the local stack: the app's job (config.app.job), the demo's metrics URL, every rule file. */
export function localPrometheusConfig(metrics: URL, rulesGlob: string): string {
  return [
    'global:',
    '  scrape_interval: 5s',
    '  evaluation_interval: 5s',
    'rule_files:',
    `  - ${JSON.stringify(rulesGlob)}`,
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(appLabel(demoConfig))}`,
    `    metrics_path: ${JSON.stringify(metrics.pathname)}`,
    '    static_configs:',
    `      - targets: [${JSON.stringify(metrics.host)}]`,
    '',
  ].join('\n')
}

async function startPrometheus(config: string, port: number, dir: string): Promise<ChildProcess> {
  const file = join(dir, 'prometheus.yml')
  writeFileSync(file, config)
  const args = [`--config.file=${file}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-lifecycle']
  const child = spawn('prometheus', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject) // ENOENT: no prometheus on PATH
    child.once('exit', (code) => reject(new Error(`prometheus exited (${code}):\n${stderr}`)))
  })
  const ready = (async () => {
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/-/ready`).then((r) => r.ok, () => false)
      if (ok) return child
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`prometheus was not ready on port ${port}:\n${stderr}`)
  })()
  return Promise.race([ready, exited])
}

export async function main(argv: string[]): Promise<number> {
  const text = { type: 'string' } as const
  const options = { port: text, 'metrics-port': text, 'prometheus-port': text, rps: text, duration: text, dotenv: text, dir: text, help: { type: 'boolean', short: 'h' } } as const
  const { values } = parseArgs({ args: argv, options })
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v))
  const envFile = resolve(values.dotenv ?? '.env')
  const fromFile = existsSync(envFile) ? readEnvFile(readFileSync(envFile, 'utf8')) : {}
  // As compose: the shell wins over the env file, which wins over the defaults (phase 1).
  // The nightly job (a documented bypass) every 15 minutes as in compose: 4 an hour, under TenantBypassUsage's 5.
  const defaults = { ...phaseFlags(demoConfig, 1), NIGHTLY_CLEANUP_SECONDS: '900' }
  for (const [k, v] of Object.entries({ ...defaults, ...fromFile })) if (process.env[k] === undefined) process.env[k] = v
  const dir = resolve(values.dir ?? '.tmp/stack-local')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const logFile = join(dir, 'demo.log')
  const shipping = createLogger({ app: appLabel(demoConfig), env: 'demo', destination: logFile, lokiUrl: '' })
  // --metrics-port, else METRICS_PORT, else 9464 (the demo server's own default)
  const metricsPort = values['metrics-port'] === undefined ? undefined : num(values['metrics-port'], 9464)
  const server = await startDemoServer({ port: num(values.port, 3001), metricsPort, logger: shipping.logger })
  // The scrape target is the server's metrics listener (METRICS_PORT): one place for its port and path.
  const metrics = new URL(server.metricsUrl)
  const promPort = num(values['prometheus-port'], 9090)
  let prometheus: ChildProcess | undefined
  try {
    prometheus = await startPrometheus(localPrometheusConfig(metrics, join(REPO, 'alerts', '*.rules.yml')), promPort, dir)
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT' || /spawn prometheus ENOENT/.test(String(err))
    const hint = 'stack:local: no `prometheus` on PATH (apt-get install -y prometheus): running the demo and traffic only'
    console.error(missing ? hint : `stack:local: ${(err as Error).message}`)
  }
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const prom = `http://127.0.0.1:${promPort}`
  const cli = 'npm run -s tenantfence --'
  console.log(
    [
      `stack:local: mode ${server.demo.client().enforcement.currentFlags().mode}${existsSync(envFile) ? ` (flags from the shell, then ${envFile})` : ' (phase 1 unless the shell sets flags)'}`,
      `  demo API     ${server.url}  (metrics ${metrics.href}; traffic ${num(values.rps, 20)} requests a second)`,
      ...(prometheus ? [`  Prometheus   ${prom}/alerts  (rules: alerts/*.rules.yml; scrapes every 5 s)`] : []),
      `  logs         ${logFile}`,
      'Then, in another terminal:',
      ...(prometheus ? [`  ${cli} status --prometheus ${prom}`, `  ${cli} phase check 1 --prometheus ${prom}`] : [`  ${cli} status --metrics ${metrics.href}`]),
      `  ${cli} report --logs ${logFile}`,
      `  ${cli} phase env 2 > .env   then Ctrl-C and npm run stack:local again (phase 2)`,
      'Ctrl-C stops everything.',
    ].join('\n'),
  )
  const duration = values.duration === undefined ? undefined : num(values.duration, 0) * 1000
  // The driver stops after an hour at most (its bound): start it again until stopped.
  while (!controller.signal.aborted) {
    const durationMs = Math.min(duration ?? 3_600_000, 3_600_000)
    const res = await runTraffic({ url: server.url, rps: num(values.rps, 20), durationMs, signal: controller.signal })
    if (duration !== undefined) {
      console.log(`stack:local: ${res.sent} requests answered in ${Math.round(res.durationMs / 1000)} s`)
      break
    }
  }
  if (prometheus && prometheus.exitCode === null) {
    const gone = new Promise((r) => prometheus!.once('exit', r))
    prometheus.kill('SIGTERM')
    await gone
  }
  await server.close()
  await shipping.close()
  rmSync(join(dir, 'data'), { recursive: true, force: true })
  return 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`stack:local: ${err.message}`)
      process.exit(1)
    },
  )
}
