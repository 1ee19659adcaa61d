// The shared test helpers fail the way they promise to: a child past its deadline or killed by a
// signal is reported as such, a run that leaves files behind fails naming them, promtool's
// verdicts are split per file, a copied database is a private copy.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { promtoolTestRules } from './helpers/promtool.ts'
import { REPO, run, start, testTimeoutFor } from './helpers/spawn.ts'
import { seededDatabase } from './helpers/sqlite-copy.ts'
import { tempDir } from './helpers/tmp.ts'
import { seed } from './helpers/fence.ts'

const node = process.execPath

describe('spawn helper', () => {
  it('resolves with the exit code and the output', async () => {
    const r = await run(node, ['-e', 'console.log("out"); console.error("err"); process.exit(3)'])
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' })
  })

  it('a child past its deadline is killed and reported as timed out, with its output', async () => {
    // The child waits a minute; the deadline is far shorter, whatever the machine's load.
    const child = run(node, ['-e', 'setTimeout(() => {}, 60_000)'], { deadlineMs: 300, label: 'sleeper' })
    await expect(child).rejects.toThrow(/^sleeper timed out after 0\.3 s \(killed\)\n--- stdout ---\n.*\n--- stderr ---/)
  })

  it('kills the whole process group at the deadline, not only the direct child', async () => {
    const dir = tempDir()
    const pidFile = join(dir, 'grandchild.pid')
    const script = `sleep 60 & echo $! > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile}; wait`
    // The deadline must fall after the shell started its child: if it did not, try a longer one.
    for (const deadlineMs of [500, 2_000, 8_000, 30_000]) {
      await expect(run('sh', ['-c', script], { deadlineMs })).rejects.toThrow(/timed out after [\d.]+ s \(killed\)/)
      if (existsSync(pidFile)) break
    }
    const pid = Number(readFileSync(pidFile, 'utf8'))
    // gone, or a zombie waiting for init to reap it: either way no longer running
    const state = () => (existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] : 'gone')
    await expect.poll(state, { timeout: 30_000 }).toMatch(/gone|Z/)
  })

  it('a child killed by a signal is reported as such, not as a null exit code', async () => {
    await expect(run(node, ['-e', 'process.kill(process.pid, "SIGSEGV")'], { label: 'crasher' })).rejects.toThrow(/^crasher killed by SIGSEGV/)
  })

  it('a command that cannot start says so', async () => {
    await expect(run('tenantfence-no-such-command', [])).rejects.toThrow('tenantfence-no-such-command: cannot start (ENOENT)')
  })

  it('start/stop: a clean exit on SIGTERM is code 0; a child ignoring SIGTERM is killed and reported', { timeout: testTimeoutFor() }, async () => {
    const polite = start(node, ['-e', 'process.on("SIGTERM", () => process.exit(0)); console.log("up"); setInterval(() => {}, 1000)'])
    await expect.poll(() => polite.output(), { timeout: 60_000 }).toContain('up')
    expect(await polite.stop()).toBe(0)
    expect(await polite.stop()).toBe(0) // twice is fine

    const stubborn = start(node, ['-e', 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)'], { label: 'stubborn' })
    await expect.poll(() => stubborn.output(), { timeout: 60_000 }).toContain('up')
    await expect(stubborn.stop('SIGTERM', 300)).rejects.toThrow(/^stubborn did not exit within 0\.3 s of SIGTERM \(killed\)/)
  })
})

describe('the run guard (test/helpers/global-setup.ts)', () => {
  it('fails a run that leaves a file in its temporary folder, naming it, and removes the folder', { timeout: testTimeoutFor() }, async () => {
    const env = { ...process.env }
    delete env.TENANTFENCE_TEST_TMPDIR // a run of its own, not part of this one
    const vitest = join(REPO, 'node_modules/vitest/vitest.mjs')
    const r = await run(node, [vitest, 'run', '--config', 'test/fixtures/helpers/vitest.leftover.config.ts'], { env })
    expect(r.stdout + r.stderr).toContain('1 passed')
    expect(r.stdout + r.stderr).toContain('the tests left 1 item(s) in their temporary folder: leftover-from-fixture')
    expect(r.code).toBe(1)
  })
})

describe('promtool test rules, several files in one process', () => {
  it('gives each file its own verdict', async () => {
    const dir = tempDir()
    const rules = join(dir, 'r.rules.yml')
    writeFileSync(rules, 'groups:\n  - name: g\n    rules:\n      - alert: Up\n        expr: up == 1\n')
    const test = (expected: string) => `rule_files: [${rules}]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: up{job="a"}\n        values: "1 1"\n    alert_rule_test:\n      - eval_time: 1m\n        alertname: ${expected}\n        exp_alerts:\n          - exp_labels: { job: a }\n`
    writeFileSync(join(dir, 'good.test.yml'), test('Up'))
    writeFileSync(join(dir, 'bad.test.yml'), test('Up') + '      - eval_time: 1m\n        alertname: Up\n        exp_alerts: []\n')
    const files = [join(dir, 'good.test.yml'), join(dir, 'bad.test.yml')]
    const verdicts = await promtoolTestRules(files)
    expect(verdicts.get(files[0]!)!.passed, verdicts.get(files[0]!)!.output).toBe(true)
    expect(verdicts.get(files[1]!)!.passed).toBe(false)
    expect(verdicts.get(files[1]!)!.output).toContain('FAILED')
  })
})

describe('seededDatabase: a copy of a seeded template per call', () => {
  it('holds the seed, is private to its caller, and is removed on close', async () => {
    const a = await seededDatabase(seed)
    const b = await seededDatabase(seed)
    try {
      expect(await a.prisma.user.count()).toBe(3)
      await a.prisma.user.deleteMany()
      expect([await a.prisma.user.count(), await b.prisma.user.count()]).toEqual([0, 3])
      const migrations = await b.prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM _prisma_migrations')
      expect(Number(migrations[0]!.n)).toBeGreaterThan(0)
    } finally {
      await a.close()
      await b.close()
    }
    expect(existsSync(a.file)).toBe(false)
  })
})
