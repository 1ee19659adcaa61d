// A real Prometheus for tests: backfill OpenMetrics into a TSDB with promtool, start a server on
// a free port, stop it. Tests that need it must FAIL (not skip) on CI when the binaries are
// missing: call requirePrometheus()/requirePromtool() and let the error surface.
//
// A server starts in ~0.2 s, so each test file starts its own with its own data (a backfilled TSDB,
// a scrape config): sharing one would save nothing and couple the files.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from './spawn.ts'
import { requireTool } from './tools.ts'

/** Throws with install instructions when promtool is not on PATH. */
export function requirePromtool(): void {
  requireTool('promtool', 'prometheus')
}

/** Throws with install instructions when prometheus is not on PATH. */
export function requirePrometheus(): void {
  requireTool('prometheus', 'prometheus')
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Backfill OpenMetrics text (timestamps in seconds, ending with `# EOF`) into `tsdbDir` with
 * `promtool tsdb create-blocks-from openmetrics`. Appends `# EOF` when missing.
 * `maxBlockDuration` (promtool's hidden `--max-block-duration`, e.g. "192h"): blocks that long
 * instead of 2 h ones; promtool re-reads its input and writes a block for each, so days of data
 * backfill some twenty times faster in a few large blocks.
 */
export async function backfill(openmetricsText: string, tsdbDir: string, opts: { maxBlockDuration?: string } = {}): Promise<void> {
  requirePromtool()
  const dir = await mkdtemp(join(tmpdir(), 'tf-om-'))
  const file = join(dir, 'data.om')
  const text = openmetricsText.trimEnd().endsWith('# EOF') ? openmetricsText.trimEnd() + '\n' : openmetricsText.trimEnd() + '\n# EOF\n'
  await writeFile(file, text)
  try {
    // Async so several backfills (one file per time range: promtool re-reads its whole input
    // for every 2 h block, so small files are much faster) can run side by side.
    const blocks = opts.maxBlockDuration ? [`--max-block-duration=${opts.maxBlockDuration}`] : []
    const r = await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', ...blocks, file, tsdbDir], { label: 'promtool tsdb create-blocks-from openmetrics' })
    if (r.code !== 0) throw new Error(`promtool tsdb create-blocks-from openmetrics failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-8000)}`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export interface PrometheusServer {
  /** http://127.0.0.1:<port> */
  url: string
  port: number
  tsdbDir: string
  /** SIGTERM, wait for exit (SIGKILL after 10 s); removes the TSDB dir when the helper created it */
  stop(): Promise<void>
}

export interface StartOptions {
  /** prometheus.yml content; default: a config with no scrape targets */
  configYaml?: string
  /** an existing (backfilled) TSDB; default: a new temp dir removed on stop */
  tsdbDir?: string
  extraArgs?: string[]
  /** ms to wait for /-/ready (default 60 s: ready in 0.2 s idle, far slower on a busy machine) */
  readyTimeoutMs?: number
}

export const EMPTY_CONFIG = 'global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\nscrape_configs: []\n'

/**
 * Start a real Prometheus on a free port and wait for /-/ready. Retention is set to 100 years
 * so backfilled blocks with old timestamps are not deleted at start.
 */
export async function startPrometheus(opts: StartOptions = {}): Promise<PrometheusServer> {
  requirePrometheus()
  const work = await mkdtemp(join(tmpdir(), 'tf-prom-'))
  const ownTsdb = !opts.tsdbDir
  const tsdbDir = opts.tsdbDir ?? join(work, 'data')
  const configFile = join(work, 'prometheus.yml')
  await writeFile(configFile, opts.configYaml ?? EMPTY_CONFIG)
  const port = await freePort()
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${tsdbDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=36500d',
    '--web.enable-lifecycle',
    ...(opts.extraArgs ?? []),
  ]
  const child: ChildProcess = spawn('prometheus', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let dead = false
  void exited.then(() => (dead = true))
  const url = `http://127.0.0.1:${port}`
  const cleanup = async () => {
    await rm(work, { recursive: true, force: true })
    if (ownTsdb) await rm(tsdbDir, { recursive: true, force: true })
  }
  const stop = async () => {
    if (!dead) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    await cleanup()
  }
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000)
  for (;;) {
    if (dead) {
      await cleanup()
      throw new Error(`prometheus exited before it was ready:\n${stderr}`)
    }
    try {
      const res = await fetch(`${url}/-/ready`)
      if (res.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`prometheus was not ready within ${opts.readyTimeoutMs ?? 60_000} ms:\n${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { url, port, tsdbDir, stop }
}

/** A temp dir for a TSDB; remove it yourself, or pass it to startPrometheus and remove after stop. */
export async function tempTsdbDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tf-tsdb-'))
}

