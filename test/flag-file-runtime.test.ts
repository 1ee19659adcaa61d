// A flag file while the app runs, on a real client: a non-atomic rewrite never switches
// enforcement off, not for one poll; a FIFO or a reader that hangs stalls no query; refusals are
// reported once each, under a bounded `flag` label.
import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import type { ReaderCommand } from '../src/config/flag-file-reader.ts'
import { nodeReaderCommand } from '../src/config/flag-file-reader.ts'
import { openDatabase } from '../src/demo/db.ts'
import { runWithTenant, tenantEnforcement, type FileFlagSourceOptions } from '../src/index.ts'
import { captureLogger, config, seed } from './helpers/fence.ts'

const ENFORCE = 'TENANT_ENFORCEMENT_MODE=enforce\n'
const POLL = { timeout: 10_000, interval: 20 }
let cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c()
  cleanup = []
})

/** A seeded database and a tenantfence client whose flags come from a file in a fresh folder. */
async function fileFenced(initial: string, options: FileFlagSourceOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tf-flag-file-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'flags.env')
  writeFileSync(file, initial)
  const db = await openDatabase()
  cleanup.push(() => db.close())
  await seed(db.prisma)
  const { logger, lines } = captureLogger()
  const registry = new Registry()
  const fence = tenantEnforcement({ config, logger, registry, flags: { file, pollMs: 20, ...options } })
  cleanup.push(() => fence.close())
  const prisma = db.prisma.$extends(fence)
  const invalid = () => lines.filter((l) => String(l.msg).startsWith('TENANT_FLAG_INVALID'))
  const flagErrors = async (flag: string) => (await registry.getSingleMetricAsString('tenant_flag_errors_total')).split('\n').filter((l) => l.startsWith(`tenant_flag_errors_total{flag="${flag}"}`)).map((l) => Number(l.split(' ')[1]))[0] ?? 0
  /** An unscoped read of User: blocked while User is enforced. */
  const unscopedUser = () => runWithTenant({ tenantId: 1 }, () => prisma.user.findMany()).then(() => 'allowed', (e: { code?: string }) => e.code)
  return { dir, file, prisma, fence, registry, lines, invalid, flagErrors, unscopedUser }
}

/** Replace the file in one step (write beside it, rename over it), so no poll sees it half-written. */
function replace(file: string, text: string) {
  writeFileSync(`${file}.tmp`, text)
  renameSync(`${file}.tmp`, file)
}
/** A FIFO in the file's place, in one step. */
function fifoInPlaceOf(file: string) {
  execFileSync('mkfifo', [`${file}.fifo`])
  renameSync(`${file}.fifo`, file)
}

/** Record the action on User every millisecond: proof that it never left `block`, not even between two polls. */
function watchUserAction(fence: { currentFlags(): { actions: ReadonlyMap<string, string> } }) {
  const seen = new Set<string>()
  const timer = setInterval(() => seen.add(fence.currentFlags().actions.get('User') ?? 'missing'), 1)
  cleanup.push(() => clearInterval(timer))
  return seen
}

describe('a non-atomic rewrite never switches enforcement off', () => {
  it('KEY=VALUE written in pieces: each piece is refused or keeps User blocked, until the file is whole', async () => {
    const f = await fileFenced(ENFORCE)
    const seen = watchUserAction(f.fence)
    const fd = openSync(f.file, 'w') // truncates: the file is empty now, as during any in-place rewrite
    cleanup.push(() => closeSync(fd))
    const steps: Array<[string, string | { mode: string }]> = [
      ['', 'is empty'],
      ['TENANT_ENFORCEMENT_MO', 'line 1 is not KEY=VALUE'],
      ['DE=selective\n', 'selective needs TENANT_ENFORCEMENT_ENFORCE_MODELS'],
      ['TENANT_ENFORCEMENT_ENFORCE_MODELS=User', 'the last one does not end with a newline'],
      [',RefreshToken\n', { mode: 'selective' }], // whole and valid: User (and RefreshToken) blocked
      ['TENANT_ENFORCEMENT_LOG_MODELS=al', 'the last one does not end with a newline'],
      ['l\n', { mode: 'selective' }],
    ]
    for (const [piece, expected] of steps) {
      const before = f.invalid().length
      if (piece) writeSync(fd, piece)
      const content = readFileSync(f.file, 'utf8')
      if (typeof expected === 'string') {
        // A refusal of this very content (a read that caught a piece half-written would be refused too).
        await expect.poll(() => f.invalid().slice(before).some((l) => JSON.stringify(l).includes(expected)), POLL).toBe(true)
      } else {
        await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe(expected.mode)
      }
      expect(await f.unscopedUser(), `after writing ${JSON.stringify(content)}`).toBe('TENANT_CONTEXT_REQUIRED')
    }
    await expect.poll(() => f.fence.currentFlags().flags.logModels, POLL).toBe(null) // LOG_MODELS=all
    expect([...seen]).toEqual(['block'])
    expect(await f.flagErrors('file')).toBeGreaterThanOrEqual(4)
    expect(await f.flagErrors('TENANT_ENFORCEMENT_ENFORCE_MODELS')).toBeGreaterThanOrEqual(1)
  })

  it('JSON written in pieces: refused until it parses', async () => {
    const f = await fileFenced('{ "TENANT_ENFORCEMENT_MODE": "enforce" }\n')
    const seen = watchUserAction(f.fence)
    const fd = openSync(f.file, 'w')
    cleanup.push(() => closeSync(fd))
    for (const piece of ['{ "TENANT_ENFORCEMENT_MODE": ', '"log_only", "TENANT_ENFORCEMENT_MODELS": "User"']) {
      writeSync(fd, piece)
      const count = f.invalid().length
      await expect.poll(() => f.invalid().length, POLL).toBeGreaterThan(count)
      expect(f.invalid().at(-1)).toMatchObject({ flag: 'file', err: { message: expect.stringContaining('is not valid JSON') } })
      expect(await f.unscopedUser()).toBe('TENANT_CONTEXT_REQUIRED')
    }
    expect([...seen]).toEqual(['block'])
    writeSync(fd, ' }\n')
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('log_only')
    expect(await f.unscopedUser()).toBe('allowed')
  })

  it('write-then-rename (what the README asks for) switches in one step, with no refusal', async () => {
    const f = await fileFenced(ENFORCE)
    replace(f.file, 'TENANT_ENFORCEMENT_MODE=log_only\n')
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('log_only')
    expect(f.invalid()).toEqual([])
  })
})

describe('refusals: reported once each, under a bounded label', () => {
  it('an unknown key counts under flag="file", never under the key or the path', async () => {
    const f = await fileFenced(ENFORCE)
    replace(f.file, 'TENANT_ENFORCEMENT_MODE=log_only\nAWS_SECRET_ACCESS_KEY=x\n')
    await expect.poll(() => f.invalid().length, POLL).toBe(1)
    expect(await f.flagErrors('file')).toBe(1)
    const exposition = await f.registry.metrics()
    expect(exposition).not.toContain('AWS_SECRET')
    expect(exposition).not.toContain(f.dir)
    expect(f.invalid()[0]).toMatchObject({ flag: 'file' })
    expect(f.fence.currentFlags().mode).toBe('enforce')
  })

  it('a bad value of a known flag counts under that flag', async () => {
    const f = await fileFenced(ENFORCE)
    replace(f.file, 'TENANT_ENFORCEMENT_MODE=enforced\n')
    await expect.poll(() => f.invalid().length, POLL).toBe(1)
    expect(await f.flagErrors('TENANT_ENFORCEMENT_MODE')).toBe(1)
    expect(JSON.stringify(f.invalid()[0])).toContain('did you mean \\"enforce\\"')
  })

  it('a refused file that stays is reported once, however many polls read it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-reader-log-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const log = join(dir, 'reader.log')
    const f = await fileFenced(ENFORCE, { reader: fixtureReader(log) })
    replace(f.file, '')
    await expect.poll(() => f.invalid().length, POLL).toBe(1)
    const requests = requestsIn(log).length
    await expect.poll(() => requestsIn(log).length, POLL).toBeGreaterThanOrEqual(requests + 10)
    expect(f.invalid()).toHaveLength(1)
    expect(await f.flagErrors('file')).toBe(1)
    replace(f.file, 'TENANT_ENFORCEMENT_MODE=log_only\n')
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('log_only')
  })
})

describe.each([
  ['/bin/sh', undefined],
  ['node', nodeReaderCommand()],
])('a FIFO in place of the file (%s reader)', (_name, reader) => {
  it('is refused as not a regular file; queries keep running on the last good flags; a regular file is taken again', async () => {
    const f = await fileFenced(ENFORCE, reader ? { reader } : {})
    fifoInPlaceOf(f.file)
    await expect.poll(() => f.invalid().length, POLL).toBe(1)
    expect(f.invalid()[0]).toMatchObject({ flag: 'file', err: { message: expect.stringContaining('is not a regular file') } })
    // Many queries while the FIFO stays (and keeps being polled): all answer, User still blocked.
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? f.unscopedUser() : runWithTenant({ tenantId: 1 }, () => f.prisma.user.count({ where: { tenantId: 1 } })))))
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 ? 'TENANT_CONTEXT_REQUIRED' : 2)))
    expect(await f.flagErrors('file')).toBe(1)
    replace(f.file, 'TENANT_ENFORCEMENT_MODE=log_only\n')
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('log_only')
  })
})

describe('a read that never answers (a hung mount)', () => {
  it('stalls no query, keeps one read in flight, is given up after stallMs and its reader replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-reader-log-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const log = join(dir, 'reader.log')
    // Each reader process answers its first request and hangs on the second.
    const f = await fileFenced(ENFORCE, { reader: fixtureReader(log, 1), stallMs: 1000 })
    // The start-up read, then the long-lived reader (and, on a slow machine, maybe already its replacement).
    await expect.poll(() => startsIn(log).length, POLL).toBeGreaterThanOrEqual(2)
    const first = startsIn(log)[1]!
    await expect.poll(() => requestsIn(log, first).length, POLL).toBe(2) // answered one, hangs on the other
    // While that read hangs, queries run on the last good flags.
    for (let i = 0; i < 5; i++) expect(await f.unscopedUser()).toBe('TENANT_CONTEXT_REQUIRED')
    await expect.poll(() => f.invalid().length, POLL).toBeGreaterThanOrEqual(1)
    expect(f.invalid()[0]).toMatchObject({ flag: 'file', err: { message: expect.stringMatching(/did not answer \(a hung mount\?\); its reader was stopped \(no answer for \d+ ms\)/) } })
    // One read in flight: the hung reader was never sent a third request; it was killed and a new one started.
    expect(requestsIn(log, first)).toHaveLength(2)
    await expect.poll(() => alive(first), POLL).toBe(false)
    await expect.poll(() => startsIn(log).length, POLL).toBeGreaterThanOrEqual(3)
    expect(f.fence.currentFlags().mode).toBe('enforce')
  })
})

describe('close()', () => {
  it('kills the reader, and a read it cut short is not reported as a refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-reader-log-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const log = join(dir, 'reader.log')
    const f = await fileFenced(ENFORCE, { reader: fixtureReader(log, 1), stallMs: 60_000 })
    await expect.poll(() => startsIn(log).length, POLL).toBe(2)
    const reader = startsIn(log)[1]!
    await expect.poll(() => requestsIn(log, reader).length, POLL).toBe(2) // a read in flight
    f.fence.close()
    await expect.poll(() => alive(reader), POLL).toBe(false)
    await new Promise((r) => setTimeout(r, 100)) // a few poll periods: the timer is gone too
    expect(f.invalid()).toEqual([])
    expect(startsIn(log)).toHaveLength(2)
  })
})

function fixtureReader(log: string, answers?: number): ReaderCommand {
  return { file: process.execPath, args: [resolve('test/fixtures/flag-file/reader.mjs'), log, ...(answers === undefined ? [] : [String(answers)])] }
}
const logLines = (log: string) => {
  try {
    return readFileSync(log, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}
const startsIn = (log: string) => logLines(log).filter((l) => l.startsWith('start ')).map((l) => Number(l.split(' ')[1]))
const requestsIn = (log: string, pid?: number) => logLines(log).filter((l) => l.startsWith('request ') && (pid === undefined || l === `request ${pid}`))
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('a Kubernetes ConfigMap volume', () => {
  // The kubelet's update (AtomicWriter): the keys are written to a new timestamped directory, a
  // symlink `..data_tmp` to it is renamed over `..data`, then the old directory is removed. The
  // app watches `<dir>/<key>`, a symlink to `..data/<key>` that never changes itself.
  let version = 0
  function publish(dir: string, text: string) {
    const stamped = `..2026_12_07_01_00_00.${String(++version).padStart(9, '0')}`
    mkdirSync(join(dir, stamped))
    writeFileSync(join(dir, stamped, 'flags.env'), text)
    const old = existsSync(join(dir, '..data')) ? readlinkSync(join(dir, '..data')) : undefined
    symlinkSync(stamped, join(dir, '..data_tmp'))
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
    if (old) rmSync(join(dir, old), { recursive: true })
  }

  it('follows the ..data symlink swap, one step per update, with no refusal and User blocked until the rollback', async () => {
    const f = await fileFenced(ENFORCE)
    // Turn the watched file into the ConfigMap layout (same flags: nothing changes yet).
    publish(f.dir, ENFORCE)
    symlinkSync('..data/flags.env', `${f.file}.tmp`)
    renameSync(`${f.file}.tmp`, f.file)
    const seen = watchUserAction(f.fence)
    publish(f.dir, 'TENANT_ENFORCEMENT_MODE=selective\nTENANT_ENFORCEMENT_ENFORCE_MODELS=User,Role\n')
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('selective')
    expect([...seen]).toEqual(['block'])
    expect(await f.unscopedUser()).toBe('TENANT_CONTEXT_REQUIRED')
    publish(f.dir, 'TENANT_ENFORCEMENT_MODE=log_only\n') // the rollback
    await expect.poll(() => f.fence.currentFlags().mode, POLL).toBe('log_only')
    expect(await f.unscopedUser()).toBe('allowed')
    expect(f.invalid()).toEqual([])
    expect(readdirSync(f.dir).filter((e) => e.startsWith('..2026'))).toHaveLength(1) // the old directories are gone
  })
})
