// Reads the flag file without the app's process ever touching the path. A read that never
// returns (a hung network mount; a FIFO swapped in between check and open) blocks whoever made
// it: on the event loop it stalls every request, in libuv's thread pool it holds one of the four
// threads and keeps the process from exiting (even process.exit waits for the pool). So a small
// child process reads for us: `/bin/sh` running only builtins (about 2 MB, no fork per read), or
// Node itself where there is no /bin/sh (distroless images, Windows). The child is unref'd: an
// unanswered read never keeps the app alive, and a stalled child is killed and replaced.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Larger than any flag file; a bigger file is refused unread (a log file pointed at by mistake). */
export const FLAG_FILE_MAX_BYTES = 64 * 1024

export type ReadFailure = 'missing' | 'not_regular' | 'unreadable' | 'too_large' | 'stalled' | 'reader_failed'
export type ReadResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly failure: ReadFailure; readonly detail?: string }

/** The reader process: an executable and its arguments. It answers each path line on stdin (protocol below). */
export interface ReaderCommand {
  readonly file: string
  readonly args: readonly string[]
}

// Protocol: one request = the path and a newline. One answer = lines `L<text>` (a line of the
// file), `P<text>` (a last line with no newline), or `E<failure>`, then a line `.`.
// `[ -f ]` refuses FIFOs, devices and directories before they are opened; only builtins run.
const SH_READER = `while IFS= read -r p; do
  if [ ! -e "$p" ]; then echo Emissing
  elif [ ! -f "$p" ]; then echo Enot_regular
  elif [ ! -r "$p" ]; then echo Eunreadable
  else
    n=0; l=
    { while IFS= read -r l; do
        n=$((n + \${#l} + 1))
        if [ "$n" -gt ${FLAG_FILE_MAX_BYTES} ]; then echo Etoo_large; break; fi
        printf 'L%s\\n' "$l"
      done
      if [ "$n" -le ${FLAG_FILE_MAX_BYTES} ] && [ -n "$l" ]; then printf 'P%s\\n' "$l"; fi
      :
    } < "$p" || echo Eunreadable
  fi
  echo .
done`

// The same protocol in Node, for systems without /bin/sh. O_NONBLOCK: opening a FIFO returns at once.
const NODE_READER = `const fs = require('node:fs'); let buf = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (d) => { buf += d; let i
  while ((i = buf.indexOf('\\n')) >= 0) { const p = buf.slice(0, i); buf = buf.slice(i + 1); process.stdout.write(answer(p) + '.\\n') } })
function answer(p) { let fd
  try { fd = fs.openSync(p, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK || 0)) } catch (e) { return e.code === 'ENOENT' ? 'Emissing\\n' : 'Eunreadable\\n' }
  try {
    const st = fs.fstatSync(fd); if (!st.isFile()) return 'Enot_regular\\n'
    const b = Buffer.alloc(${FLAG_FILE_MAX_BYTES} + 1); let n = 0, r
    while (n < b.length && (r = fs.readSync(fd, b, n, b.length - n, null)) > 0) n += r
    if (n > ${FLAG_FILE_MAX_BYTES}) return 'Etoo_large\\n'
    const lines = b.toString('utf8', 0, n).split('\\n'); const last = lines.pop()
    return lines.map((l) => 'L' + l + '\\n').join('') + (last ? 'P' + last + '\\n' : '')
  } catch { return 'Eunreadable\\n' } finally { fs.closeSync(fd) } }`

/** `/bin/sh` where it exists, else the Node binary running this process. */
export function defaultReaderCommand(): ReaderCommand {
  if (process.platform !== 'win32' && existsSync('/bin/sh')) return { file: '/bin/sh', args: ['-c', SH_READER] }
  return nodeReaderCommand()
}

export function nodeReaderCommand(): ReaderCommand {
  return { file: process.execPath, args: ['-e', NODE_READER] }
}

// No environment: NODE_OPTIONS (a loader, an APM agent) has no business in the reader.
const CHILD_ENV = {}

const FAILURES: readonly string[] = ['missing', 'not_regular', 'unreadable', 'too_large']

const exitDetail = (code: number | null, signal: string | null) =>
  signal ? `the reader was killed by ${signal}` : `the reader exited with status ${code}`

/** Decode one answer (its lines, without the closing `.`). */
function decode(lines: readonly string[]): ReadResult {
  let text = ''
  for (const line of lines) {
    const tag = line[0]
    const rest = line.slice(1)
    if (tag === 'E') return { ok: false, ...(FAILURES.includes(rest) ? { failure: rest as ReadFailure } : { failure: 'reader_failed', detail: 'an unknown answer' }) }
    if (tag === 'L') text += `${rest}\n`
    else if (tag === 'P') text += rest
    else return { ok: false, failure: 'reader_failed', detail: 'an unknown answer' }
    if (text.length > FLAG_FILE_MAX_BYTES) return { ok: false, failure: 'too_large' }
  }
  return { ok: true, text }
}

/** Read once and wait for the answer, at most timeoutMs (start-up: the app cannot start without its flags). */
export function readFlagFileSync(path: string, timeoutMs: number, command: ReaderCommand = defaultReaderCommand()): ReadResult {
  const r = spawnSync(command.file, command.args, {
    input: `${path}\n`,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    stdio: ['pipe', 'pipe', 'ignore'],
    env: CHILD_ENV,
    maxBuffer: 4 * FLAG_FILE_MAX_BYTES,
    windowsHide: true,
  })
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code
    if (code === 'ETIMEDOUT') return { ok: false, failure: 'stalled', detail: `no answer within ${timeoutMs} ms` }
    return { ok: false, failure: 'reader_failed', detail: code ?? r.error.name }
  }
  const lines = r.stdout.split('\n')
  const end = lines.indexOf('.')
  if (end < 0) return { ok: false, failure: 'reader_failed', detail: exitDetail(r.status, r.signal) }
  return decode(lines.slice(0, end))
}

/**
 * A long-lived reader process for one path: at most one read in flight; a read that does not
 * answer within stallMs is answered `stalled` and its process killed. No new process is started
 * until the killed one has exited, so a read stuck in the kernel never multiplies.
 */
export class FlagFileReader {
  private child: ChildProcess | undefined
  /** a killed child that has not exited yet */
  private dying: ChildProcess | undefined
  private pending: { resolve: (r: ReadResult) => void; since: number; lines: string[] } | undefined
  private partial = ''
  private closed = false
  private readonly killOnExit = () => {
    // The app is exiting: a reader stuck on a FIFO would otherwise outlive it.
    this.child?.kill('SIGKILL')
    this.dying?.kill('SIGKILL')
  }

  constructor(
    private readonly path: string,
    private readonly command: ReaderCommand = defaultReaderCommand(),
  ) {
    process.on('exit', this.killOnExit)
  }

  /** A read is in flight (or a killed reader has not exited yet). */
  get busy(): boolean {
    return this.pending !== undefined || this.dying !== undefined
  }

  /** Milliseconds the read in flight has waited, or undefined. */
  waiting(now = performance.now()): number | undefined {
    return this.pending === undefined ? undefined : now - this.pending.since
  }

  /** Start a read; undefined when one is already in flight or the reader is closed. */
  read(): Promise<ReadResult> | undefined {
    if (this.busy || this.closed) return undefined
    const child = this.child ?? this.start()
    if (child === undefined) return Promise.resolve({ ok: false, failure: 'reader_failed', detail: 'could not start the reader' })
    return new Promise<ReadResult>((resolve) => {
      this.pending = { resolve, since: performance.now(), lines: [] }
      child.stdin!.write(`${this.path}\n`)
    })
  }

  /** Give up on the read in flight: answer it `stalled` and kill its process (a fresh one serves the next read). */
  abandon(detail: string): void {
    const child = this.child
    this.child = undefined
    this.partial = ''
    if (child && child.exitCode === null && child.signalCode === null) {
      this.dying = child
      child.kill('SIGKILL')
    }
    this.answer({ ok: false, failure: 'stalled', detail })
  }

  close(): void {
    this.closed = true
    process.off('exit', this.killOnExit)
    this.child?.kill('SIGKILL')
    this.child = undefined
    this.answer({ ok: false, failure: 'reader_failed', detail: 'closed' })
  }

  private answer(r: ReadResult): void {
    const p = this.pending
    this.pending = undefined
    p?.resolve(r)
  }

  private start(): ChildProcess | undefined {
    let child: ChildProcess
    try {
      child = spawn(this.command.file, this.command.args, { stdio: ['pipe', 'pipe', 'ignore'], env: CHILD_ENV, windowsHide: true })
    } catch {
      return undefined
    }
    this.child = child
    // Nothing of the reader keeps the app alive: not the process, not its pipes.
    child.unref()
    ;(child.stdin as unknown as { unref?: () => void }).unref?.()
    ;(child.stdout as unknown as { unref?: () => void }).unref?.()
    child.stdin!.on('error', () => {}) // EPIPE when it died; its exit event says so
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      if (child !== this.child) return
      this.partial += chunk
      let i: number
      while ((i = this.partial.indexOf('\n')) >= 0) {
        const line = this.partial.slice(0, i)
        this.partial = this.partial.slice(i + 1)
        if (!this.pending) continue // an answer nobody waits for any more
        if (line === '.') this.answer(decode(this.pending.lines))
        else this.pending.lines.push(line)
      }
    })
    const gone = (detail: string) => {
      if (this.dying === child) this.dying = undefined
      if (this.child !== child) return
      this.child = undefined
      this.partial = ''
      this.answer({ ok: false, failure: 'reader_failed', detail })
    }
    child.on('error', (err: NodeJS.ErrnoException) => gone(err.code ?? err.name))
    child.on('exit', (code, signal) => gone(exitDetail(code, signal)))
    return child
  }
}
