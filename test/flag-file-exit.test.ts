// A process that reads its flags from a file exits when asked to, whatever is in the file's
// place: a FIFO, or a read that never answers (a hung mount). Real child processes, no timing
// assertion but a generous kill-timeout that says so when it fires.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const KILL_TIMEOUT_MS = 20_000
const POLL = { timeout: 30_000, interval: 50 }
let dir: string | undefined
let child: ChildProcess | undefined
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  child = undefined
  // An app killed on a failed run leaves its stand-in reader hung (it never exits by itself): end it here.
  for (const line of readerLines()) if (line.startsWith('start ')) killQuietly(Number(line.split(' ')[1]))
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

/** Start test/fixtures/flag-file/app.ts; its JSON stdout lines are collected as they come. */
function startApp(args: string[]) {
  const lines: Array<Record<string, unknown>> = []
  child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/flag-file/app.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let buf = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      try {
        lines.push(JSON.parse(line))
      } catch {
        lines.push({ text: line })
      }
    }
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child!.once('exit', (code, signal) => resolve({ code, signal })))
  const last = (msg: string) => lines.filter((l) => l.msg === msg).at(-1)
  const blocked = () => Number(last('QUERIES')?.blocked ?? 0)
  /** SIGTERM, then wait for the exit at most KILL_TIMEOUT_MS; past it, kill and say why. */
  async function stop(): Promise<{ code: number | null; signal: string | null }> {
    child!.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), KILL_TIMEOUT_MS)))
    const outcome = await Promise.race([exited, timeout])
    clearTimeout(timer)
    if (outcome === 'timeout') {
      child!.kill('SIGKILL')
      throw new Error(`kill-timeout: the app was still running ${KILL_TIMEOUT_MS / 1000} s after SIGTERM (something of the flag file reader kept it alive); stderr: ${stderr.slice(-500)}`)
    }
    return outcome
  }
  return { lines, last, blocked, stop, stderr: () => stderr }
}

function readerLines(): string[] {
  try {
    return dir ? readFileSync(join(dir, 'reader.log'), 'utf8').split('\n').filter(Boolean) : []
  } catch {
    return []
  }
}
/** SIGKILL a stand-in reader of this test, only if the pid is still one (a pid can be reused by another process). */
function killQuietly(pid: number) {
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(dir!, 'reader.log'))) return
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('a process using the file source exits promptly when asked to', () => {
  it('with a FIFO swapped in for the file: refused, queries keep running, SIGTERM ends the process', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-flag-exit-'))
    const file = join(dir, 'flags.env')
    writeFileSync(file, 'TENANT_ENFORCEMENT_MODE=enforce\n')
    const app = startApp([file])
    await expect.poll(() => app.blocked(), POLL).toBeGreaterThan(0)
    execFileSync('mkfifo', [`${file}.fifo`])
    renameSync(`${file}.fifo`, file) // in one step: no poll sees the file missing
    await expect.poll(() => app.last('TENANT_FLAG_INVALID: keeping the last good flags'), POLL).toMatchObject({ flag: 'file', err: { message: expect.stringContaining('is not a regular file') } })
    const at = app.blocked()
    await expect.poll(() => app.blocked(), POLL).toBeGreaterThanOrEqual(at + 5) // still enforcing, never stalled
    expect(app.last('QUERIES')).toMatchObject({ ok: 0 })
    expect(await app.stop()).toEqual({ code: 0, signal: null })
    expect(app.last('CLOSED')).toBeDefined()
  })

  it('with its reader stuck in a read that never answers: queries keep running, SIGTERM ends the process and the reader', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-flag-exit-'))
    const file = join(dir, 'flags.env')
    const log = join(dir, 'reader.log')
    writeFileSync(file, 'TENANT_ENFORCEMENT_MODE=enforce\n')
    const app = startApp([file, log, '1'])
    const readerLog = readerLines
    // The start-up read's process, then the long-lived reader, which answers once and hangs on its second request.
    await expect.poll(() => readerLog().filter((l) => l.startsWith('start ')).length, POLL).toBe(2)
    const reader = Number(readerLog().filter((l) => l.startsWith('start '))[1]!.split(' ')[1])
    await expect.poll(() => readerLog().filter((l) => l === `request ${reader}`).length, POLL).toBe(2)
    const at = app.blocked()
    await expect.poll(() => app.blocked(), POLL).toBeGreaterThanOrEqual(at + 5)
    expect(alive(reader)).toBe(true)
    expect(await app.stop()).toEqual({ code: 0, signal: null })
    // The app killed its stuck reader on the way out: no orphan left waiting on the mount.
    await expect.poll(() => alive(reader), POLL).toBe(false)
  })
})
