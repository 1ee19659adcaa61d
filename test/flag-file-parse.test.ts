// A flag file is a complete set of flags: what parses, what is refused and why, and how a bad
// file at start-up refuses to start, through both reader processes (/bin/sh and Node).
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultReaderCommand, nodeReaderCommand } from '../src/config/flag-file-reader.ts'
import { renderEnv } from '../src/config/flag-env.ts'
import { fileFlagSource, parseFlagFile, parseFlags, phaseFlags, protectedModels, stringifyFlags, tenantEnforcement, TenantFlagError } from '../src/index.ts'
import { captureLogger, config } from './helpers/fence.ts'

const MODELS = ['User', 'RefreshToken', 'Role']

describe('parseFlagFile: what a complete flag file is', () => {
  it.each([
    ['one line with a newline', 'TENANT_ENFORCEMENT_MODE=enforce\n', { TENANT_ENFORCEMENT_MODE: 'enforce' }],
    ['one line without a newline (a plain YAML scalar in a ConfigMap)', 'TENANT_ENFORCEMENT_MODE=enforce', { TENANT_ENFORCEMENT_MODE: 'enforce' }],
    [
      'comments, blank lines, export, quotes, CRLF and a BOM',
      '\uFEFF# rollback\r\n\r\nexport TENANT_ENFORCEMENT_MODE="log_only"\r\nTENANT_ENFORCEMENT_MODELS=\'User,Role\'\r\n',
      { TENANT_ENFORCEMENT_MODE: 'log_only', TENANT_ENFORCEMENT_MODELS: 'User,Role' },
    ],
    [
      'selective with its list (empty: block nothing)',
      'TENANT_ENFORCEMENT_MODE=selective\nTENANT_ENFORCEMENT_ENFORCE_MODELS=\n',
      { TENANT_ENFORCEMENT_MODE: 'selective', TENANT_ENFORCEMENT_ENFORCE_MODELS: '' },
    ],
    ['a JSON object', '{ "TENANT_ENFORCEMENT_MODE": "enforce", "TENANT_ENFORCEMENT_LOG_SAMPLE_RATE": 0.5, "TENANT_ENFORCEMENT_ALLOW_BYPASS": true }', {
      TENANT_ENFORCEMENT_MODE: 'enforce',
      TENANT_ENFORCEMENT_LOG_SAMPLE_RATE: '0.5',
      TENANT_ENFORCEMENT_ALLOW_BYPASS: 'true',
    }],
  ])('accepts %s', (_name, text, raw) => {
    expect(parseFlagFile(text)).toEqual(raw)
  })

  it.each([
    ['an empty file', '', 'file', 'is empty'],
    ['a whitespace-only file', ' \n\t\n', 'file', 'is empty'],
    ['comments only', '# flags\n', 'file', 'lacks TENANT_ENFORCEMENT_MODE'],
    ['a file without MODE', 'TENANT_ENFORCEMENT_ALLOW_BYPASS=true\n', 'file', 'lacks TENANT_ENFORCEMENT_MODE'],
    ['an empty MODE', 'TENANT_ENFORCEMENT_MODE=\n', 'file', 'lacks TENANT_ENFORCEMENT_MODE'],
    ['a truncated first line', 'TENANT_ENFORCEMENT_MO', 'file', 'line 1 is not KEY=VALUE'],
    ['several lines, the last cut short', 'TENANT_ENFORCEMENT_MODE=selective\nTENANT_ENFORCEMENT_ENFORCE_MODELS=User', 'file', 'the last one does not end with a newline'],
    ['a key set twice', 'TENANT_ENFORCEMENT_MODE=enforce\nTENANT_ENFORCEMENT_MODE=log_only\n', 'file', 'line 2 sets TENANT_ENFORCEMENT_MODE again (first set on line 1)'],
    ['selective without its list', 'TENANT_ENFORCEMENT_MODE=selective\n', 'TENANT_ENFORCEMENT_ENFORCE_MODELS', 'selective needs TENANT_ENFORCEMENT_ENFORCE_MODELS'],
    ['half-written JSON', '{ "TENANT_ENFORCEMENT_MODE": "enfo', 'file', 'is not valid JSON'],
    ['a JSON array', '[ "TENANT_ENFORCEMENT_MODE=enforce" ]\n', 'file', 'must be one JSON object of flags'],
    ['a JSON null value', '{ "TENANT_ENFORCEMENT_MODE": null }', 'TENANT_ENFORCEMENT_MODE', 'must be a string, a number or a boolean'],
  ])('refuses %s', (_name, text, flag, message) => {
    expect(() => parseFlagFile(text)).toThrow(TenantFlagError)
    expect(() => parseFlagFile(text)).toThrow(expect.objectContaining({ flag, message: expect.stringContaining(message) }))
  })

  it('what `tenantfence phase env <n>` and the rollback print is a complete flag file (the README writes it to one)', () => {
    const models = protectedModels(config).map((m) => m.name)
    const files = [0, 1, 2, 3, 4].map((n) => renderEnv(phaseFlags(config, n))).concat(renderEnv(stringifyFlags(config.rollback.flags)))
    for (const text of files) expect(() => parseFlags(parseFlagFile(text), models), text).not.toThrow()
  })

  it('never quotes the file in its message: a file that is not a flag file may hold secrets', () => {
    const messages = ['DATABASE_URL postgres://app:sekrit@db/app\n', '{ "password": "sekrit", ', 'TENANT_ENFORCEMENT_MODE=enforce\nAPI sekrit'].map((text) => {
      try {
        parseFlagFile(text)
      } catch (err) {
        return (err as Error).message
      }
      return 'parsed'
    })
    expect(messages).toHaveLength(3)
    for (const m of messages) expect(m).not.toContain('sekrit')
  })
})

describe.each([
  ['/bin/sh', defaultReaderCommand()],
  ['node', nodeReaderCommand()],
])('at start-up a missing or bad file refuses to start (%s reader)', (readerName, reader) => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tf-flag-start-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const start = (path: string) => fileFlagSource(path, MODELS, {}, { reader })

  it('the reader is the one named', () => {
    expect(reader.file).toBe(readerName === 'node' ? process.execPath : '/bin/sh')
  })

  it('a good file starts, lines without a final newline too', () => {
    writeFileSync(join(dir, 'good.env'), 'TENANT_ENFORCEMENT_MODE=log_only\nTENANT_ENFORCEMENT_MODELS=User, Role\n')
    const source = start(join(dir, 'good.env'))
    expect(source.current().flags).toMatchObject({ mode: 'log_only', models: ['User', 'Role'] })
    source.close()
    writeFileSync(join(dir, 'one.env'), 'TENANT_ENFORCEMENT_MODE=enforce')
    const one = start(join(dir, 'one.env'))
    expect(one.current().mode).toBe('enforce')
    one.close()
  })

  it.each([
    ['missing', () => join(dir, 'nope.env'), /flag file .*nope\.env: does not exist/],
    ['a FIFO', () => fifo(join(dir, 'flags.fifo')), /flag file .*flags\.fifo: is not a regular file \(a FIFO, a device or a directory\)/],
    ['a directory', () => mkdir(join(dir, 'flags.d')), /flags\.d: is not a regular file/],
    ['a device', () => '/dev/zero', /\/dev\/zero: is not a regular file/],
    ['too large', () => file(join(dir, 'big.env'), `TENANT_ENFORCEMENT_MODE=enforce\n${'#'.repeat(70_000)}\n`), /big\.env: is larger than 64 KiB/],
    ['empty', () => file(join(dir, 'empty.env'), ''), /empty\.env: is empty/],
    ['a bad value', () => file(join(dir, 'bad.env'), 'TENANT_ENFORCEMENT_MODE=enforced\n'), /bad\.env: TENANT_ENFORCEMENT_MODE=enforced: .*did you mean "enforce"/],
  ])('%s', (_name, make, message) => {
    const path = make()
    expect(() => start(path)).toThrow(message)
  })
})

describe('start-up through the extension', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tf-flag-start-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('tenantEnforcement({ flags: { file } }) throws the file\'s refusal: the app refuses to start', () => {
    const path = file(join(dir, 'flags.env'), '# nothing yet\n')
    expect(() => tenantEnforcement({ config, logger: captureLogger().logger, flags: { file: path } })).toThrow(/flags\.env: lacks TENANT_ENFORCEMENT_MODE/)
  })

  it('a reader that never answers refuses to start after startTimeoutMs, saying so', () => {
    const path = file(join(dir, 'flags.env'), 'TENANT_ENFORCEMENT_MODE=enforce\n')
    const hung = { file: process.execPath, args: [resolve('test/fixtures/flag-file/reader.mjs'), join(dir, 'reader.log'), '0'] }
    expect(() => fileFlagSource(path, MODELS, {}, { reader: hung, startTimeoutMs: 1000 })).toThrow(/flags\.env: did not answer \(a hung mount\?\); its reader was stopped \(no answer within 1000 ms\)/)
  })
})

function fifo(path: string): string {
  execFileSync('mkfifo', [path])
  return path
}
function mkdir(path: string): string {
  mkdirSync(path)
  return path
}
function file(path: string, text: string): string {
  writeFileSync(path, text)
  return path
}
