// Child processes for tests, with a deadline and an honest failure. A child that runs past its
// deadline is killed (its whole process group: `npm run x` starts a shell and a node under it) and
// the test fails with "timed out after N s (killed)"; a child killed by a signal fails with
// "killed by SIGx". Never a bare `null` exit code, which reads as a wrong status.
//
// The deadline is for a machine that is busy (2 shared cores): generous, never a performance
// check. Give the test itself a longer timeout (testTimeoutFor) so the helper's message is the one
// you see, not vitest's "Test timed out".
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** Default deadline of a spawned child: a tsx start-up takes 1-2 s idle, up to ~10x that under load. */
export const SPAWN_DEADLINE_MS = 120_000

/** A test timeout that leaves the helper's deadline room to fire first and report. */
export const testTimeoutFor = (deadlineMs: number = SPAWN_DEADLINE_MS) => deadlineMs + 30_000

export interface RunOptions {
  cwd?: string
  /** the child's whole environment (default: this process's) */
  env?: NodeJS.ProcessEnv
  /** kill the child after this long (default SPAWN_DEADLINE_MS) */
  deadlineMs?: number
  /** what to call it in messages (default: the command line) */
  label?: string
}

export interface RunResult {
  /** the exit code: always a number (a signal or a deadline is an error, not a result) */
  code: number
  stdout: string
  stderr: string
}

/** Keep the last part of a child's output for messages (a report run can print megabytes). */
const tail = (s: string, n = 4000) => (s.length > n ? `…${s.slice(-n)}` : s)

function describeCommand(cmd: string, args: string[]): string {
  return [cmd, ...args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal) // the group: detached children lead their own
  } catch {
    child.kill(signal)
  }
}

/**
 * Run a command to completion and capture its output. Resolves with the exit code whatever it is
 * (assert it yourself); rejects when the command cannot start, is killed by a signal, or runs past
 * its deadline.
 */
export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const deadlineMs = options.deadlineMs ?? SPAWN_DEADLINE_MS
  const label = options.label ?? describeCommand(cmd, args)
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd ?? REPO, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child, 'SIGKILL')
    }, deadlineMs)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(new Error(`${label}: cannot start (${(err as NodeJS.ErrnoException).code ?? err.message})`))
    })
    // 'close', not 'exit': every byte of output has arrived.
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      const output = `\n--- stdout ---\n${tail(stdout)}\n--- stderr ---\n${tail(stderr)}`
      if (timedOut) return reject(new Error(`${label} timed out after ${deadlineMs / 1000} s (killed)${output}`))
      if (signal) return reject(new Error(`${label} killed by ${signal}${output}`))
      resolvePromise({ code: code!, stdout, stderr })
    })
  })
}

/** `node --import tsx <script> ...args` from the repository: the way the Dockerfile and npm scripts run TypeScript. */
export function runTsx(script: string, args: string[], options: RunOptions & { nodeArgs?: string[] } = {}): Promise<RunResult> {
  return run(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script, ...args], { label: `tsx ${describeCommand(script, args)}`, ...options })
}

export interface Started {
  child: ChildProcess
  /** stdout and stderr so far, interleaved */
  output(): string
  /** resolves when the child has exited, however it ended */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /**
   * Send `signal` (default SIGTERM) and wait for the exit. Resolves with the exit code; rejects if the
   * child ignores the signal for graceMs (it is then killed) or dies of a signal.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>
}

/** Start a long-running child (a server). Stop it in afterAll/finally: stop() is safe to call twice. */
export function start(cmd: string, args: string[], options: Omit<RunOptions, 'deadlineMs'> = {}): Started {
  const label = options.label ?? describeCommand(cmd, args)
  const child = spawn(cmd, args, { cwd: options.cwd ?? REPO, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-64_000))
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('error', (err) => {
      output += `\ncannot start ${label}: ${(err as NodeJS.ErrnoException).code ?? err.message}`
      res({ code: null, signal: null })
    })
    child.once('close', (code, signal) => res({ code, signal }))
  })
  let done = false
  void exited.then(() => (done = true))
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<number> => {
    let killed = false
    let timer: NodeJS.Timeout | undefined
    if (!done) {
      child.kill(signal)
      timer = setTimeout(() => {
        killed = true
        killGroup(child, 'SIGKILL')
      }, graceMs)
    }
    const { code, signal: by } = await exited
    clearTimeout(timer)
    if (killed) throw new Error(`${label} did not exit within ${graceMs / 1000} s of ${signal} (killed)\n${tail(output)}`)
    if (by) throw new Error(`${label} killed by ${by}\n${tail(output)}`)
    if (code === null) throw new Error(`${label}: ${tail(output)}`)
    return code
  }
  return { child, output: () => output, exited, stop }
}
