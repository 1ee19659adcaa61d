// phase env / rollback output, and bad input: a clear message and a non-zero exit, never a stack.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseFlagFile } from '../src/config/flag-file.ts'
import { parseFlags } from '../src/config/flags.ts'
import { loadConfig } from '../src/config/load.ts'
import { runCli } from './fixtures/ops/run-cli.ts'
import { freePort } from './helpers/prometheus.ts'
import { runTsx, testTimeoutFor } from './helpers/spawn.ts'

describe('phase env and rollback', () => {
  it('prints phase 2 flags as KEY=value lines', async () => {
    const res = await runCli(['phase', 'env', '2'])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatchSnapshot()
  })

  it('prints one kubectl set env command that also unsets flags the phase does not name', async () => {
    const res = await runCli(['phase', 'env', '3', '--kubectl', 'deployment/api'])
    expect(res.code).toBe(0)
    expect(res.stdout.split('\n')[1]).toBe(
      'kubectl set env deployment/api TENANT_ENFORCEMENT_ENABLED=true TENANT_ENFORCEMENT_MODE=enforce TENANT_ENFORCEMENT_LOG_SAMPLE_RATE=1 TENANT_ENFORCEMENT_ALLOW_BYPASS=true TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON=true TENANT_ENFORCEMENT_MODELS- TENANT_ENFORCEMENT_ENFORCE_MODELS- TENANT_ENFORCEMENT_LOG_MODELS-',
    )
  })

  it('notes that phase 4 (hardened) is a code option whose flags are ignored', async () => {
    const res = await runCli(['phase', 'env', '4'])
    expect(res.stdout).toContain('tenantEnforcement({ config, hardened: true })')
    expect(res.stdout).toContain('ignores every TENANT_ENFORCEMENT_* flag')
  })

  it('prints the instant rollback from the config', async () => {
    const res = await runCli(['phase', 'rollback', '--kubectl', 'deployment/api'])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatchSnapshot()
  })
})

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tf-cli-'))
  await writeFile(join(dir, 'only-garbage.log'), 'not json\nalso not json\n')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

/** A JSON config (what loadConfig reads with no import) with two models and how the app reads its flags. */
async function configFile(name: string, rollout: unknown, severities: [string, string] = ['CRITICAL', 'HIGH']): Promise<string> {
  const path = join(dir, `${name}.config.json`)
  const models = { User: { severity: severities[0] }, Post: { severity: severities[1] } }
  await writeFile(path, JSON.stringify(rollout === undefined ? { models } : { models, rollout }))
  return path
}

/** Run the printed shell line as an operator would paste it, then read the flag file as the app would. */
function applyToFlagFile(stdout: string, flagFile: string) {
  const command = stdout.split('\n').find((l) => l.startsWith('printf '))
  expect(command, stdout).toBeDefined()
  execFileSync('sh', ['-c', command!])
  expect(existsSync(`${flagFile}.tmp`)).toBe(false)
  return parseFlags(parseFlagFile(readFileSync(flagFile, 'utf8')), ['User', 'Post'])
}

describe('rollback and phase env where the app reads its flags (config rollout.flags)', () => {
  it('a flag-file app: the rollback replaces the whole file in one rename, and the app accepts what it wrote', async () => {
    const flagFile = join(dir, 'flags.env')
    const cfg = await configFile('file', { flags: { source: 'file', path: flagFile } })
    await writeFile(flagFile, 'TENANT_ENFORCEMENT_MODE=enforce\nTENANT_ENFORCEMENT_ALLOW_BYPASS=true\n')
    const res = await runCli(['phase', 'rollback', '--config', cfg])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain(`> ${flagFile}.tmp && mv ${flagFile}.tmp ${flagFile}`)
    // a complete set: log only, and the bypass the jobs use stays allowed (MODE alone would turn it off)
    expect(applyToFlagFile(res.stdout, flagFile)).toMatchObject({ mode: 'log_only', enabled: true, allowBypass: true, models: null })
    // with --kubectl too, a file user still gets the file form first
    const both = await runCli(['phase', 'rollback', '--config', cfg, '--kubectl', 'deployment/api'])
    expect(both.stdout).toContain(`mv ${flagFile}.tmp ${flagFile}`)
    expect(both.stdout).toContain('kubectl set env deployment/api TENANT_ENFORCEMENT_MODE=log_only')
  })

  it('a flag-file app: phase env writes the phase as a complete flag file', async () => {
    const flagFile = join(dir, 'phase.env')
    const cfg = await configFile('file-phase', { flags: { source: 'file', path: flagFile } })
    const res = await runCli(['phase', 'env', '2', '--config', cfg])
    expect(res.code).toBe(0)
    expect(applyToFlagFile(res.stdout, flagFile)).toMatchObject({ mode: 'selective', enforceModels: ['User'], logModels: ['Post'] })
  })

  it('a Kubernetes app: its namespace, deployment and container, never a name guessed from the job', async () => {
    const cfg = await configFile('k8s', { flags: { source: 'kubernetes', deployment: 'billing-api', namespace: 'shop', container: 'app' } })
    const res = await runCli(['phase', 'rollback', '--config', cfg])
    expect(res.code).toBe(0)
    expect(res.stdout.trimEnd().split('\n').at(-1)).toBe('kubectl -n shop set env deployment/billing-api -c app TENANT_ENFORCEMENT_MODE=log_only')
    const env = await runCli(['phase', 'env', '3', '--config', cfg])
    expect(env.stdout).toContain('kubectl -n shop set env deployment/billing-api -c app TENANT_ENFORCEMENT_ENABLED=true TENANT_ENFORCEMENT_MODE=enforce ')
    expect(env.stdout).toContain(' TENANT_ENFORCEMENT_ENFORCE_MODELS-')
  })

  it('no rollout.flags: every form with placeholders, what to set, and still KEY=value lines for an .env', async () => {
    const cfg = await configFile('none', undefined)
    const res = await runCli(['phase', 'rollback', '--config', cfg])
    expect(res.code).toBe(0)
    expect(res.stdout).not.toMatch(/deployment\/(?!<deployment>)/)
    expect(res.stdout).toContain('kubectl -n <namespace> set env deployment/<deployment> TENANT_ENFORCEMENT_MODE=log_only')
    expect(res.stdout).toContain("> '<flag file>.tmp' && mv '<flag file>.tmp' '<flag file>'")
    expect(res.stdout).toContain('rollout.flags in the config says where the app reads its flags')
    const lines = res.stdout.trimEnd().split('\n').filter((l) => !l.startsWith('#'))
    expect(lines).toEqual(['TENANT_ENFORCEMENT_MODE=log_only'])
  })

  it('phase env 2 with no CRITICAL model refuses: phase 2 would block nothing, and says which severities to set', async () => {
    const cfg = await configFile('no-critical', undefined, ['HIGH', 'MEDIUM'])
    const res = await runCli(['phase', 'env', '2', '--config', cfg])
    expect(res.code).toBe(1)
    expect(res.stdout).toBe('')
    expect(res.stderr).toContain('phase 2 would block nothing: it blocks the CRITICAL models (TENANT_ENFORCEMENT_ENFORCE_MODELS) and no model is CRITICAL')
    expect(res.stderr).toContain('Models: User (HIGH), Post (MEDIUM).')
    expect(res.stderr).toContain("Set severity: 'CRITICAL' on the models to block first")
    expect(res.stderr).toContain('pass --allow-empty')
    // said explicitly, it prints an empty list that a flag file accepts (selective that blocks nothing)
    const forced = await runCli(['phase', 'env', '2', '--config', cfg, '--allow-empty'])
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain("TENANT_ENFORCEMENT_ENFORCE_MODELS=''")
    expect(parseFlags(parseFlagFile(forced.stdout), ['User', 'Post'])).toMatchObject({ mode: 'selective', enforceModels: [], logModels: ['User', 'Post'] })
  })
})

describe('a CLI that helps: --help everywhere, "did you mean", the next command to run', () => {
  const helps: [string[], string][] = [
    [['phase', 'env', '--help'], 'tenantfence phase env <n>'],
    [['phase', 'check', '--help'], 'tenantfence phase check <n>'],
    [['phase', 'rollback', '--help'], 'tenantfence phase rollback'],
    [['phase', 'check', '-h'], 'tenantfence phase check <n>'],
    [['help', 'phase', 'env'], 'tenantfence phase env <n>'],
    [['phase', '--help'], 'tenantfence phase <env|rollback|check>'],
    [['report', '--help'], 'tenantfence report'],
    [['status', '-h'], 'tenantfence status'],
    [['generate', '--help'], 'tenantfence generate'],
    [['init', '--help'], 'tenantfence init'],
    [['init', '-h'], 'tenantfence init'],
    [['audit', '-h'], 'tenantfence audit'],
    [['audit', '--help'], 'tenantfence audit'],
    [['scan', '--help'], 'tenantfence scan'],
    [['help', 'report'], 'tenantfence report'],
  ]
  it.each(helps)('%j prints its help and exits 0', async (argv, head) => {
    const res = await runCli(argv)
    expect(res.stderr).toBe('')
    expect(res.stdout.startsWith(head), res.stdout).toBe(true)
    expect(res.code).toBe(0)
  })

  const typos: [string[], RegExp][] = [
    [['staus'], /unknown command "staus": did you mean "tenantfence status"\?/],
    [['phase', 'rolback'], /unknown phase command "rolback" \(did you mean "phase rollback"\?\)/],
    [['phase', 'env', '2', '--kubctl', 'deployment/api'], /unknown option --kubctl: did you mean --kubectl\?/],
    [['phase', 'env', 'selective'], /phase "selective" does not exist \(did you mean phase 2, Selective enforcement\?\)/],
    [['phase', 'check', 'hardend', '--prometheus', 'http://127.0.0.1:9'], /phase "hardend" does not exist \(did you mean phase 4, Hardened\?\)/],
    [['report', '--fromat', 'json'], /unknown option --fromat: did you mean --format\?/],
    [['report', '--logs', 'x', '--format', 'markdwn'], /--format markdwn: expected one of text, markdown, json; did you mean markdown\?/],
    [['generate', '--chek'], /unknown option --chek: did you mean --check\?/],
    [['scan', '--format', 'jsno'], /--format: "jsno" is not a format; use one of text, json, sarif \(did you mean json\?\)/],
    [['report', '--logs'], /--logs needs a value/],
  ]
  it.each(typos)('%j names the closest valid one', async (argv, message) => {
    const res = await runCli(argv)
    expect(res.thrown).toBeUndefined()
    expect(res.stderr).toMatch(message)
    expect(res.code).toBe(2)
  })

  it('no config found names the command that writes one', async () => {
    await expect(loadConfig(undefined, dir)).rejects.toThrow(/no config found: looked for tenantfence\.config\.ts, .* run `npx tenantfence init` to write one from the Prisma schema, or pass --config <path>/)
  })
})

describe('bad input gets a message and a non-zero exit, never a stack trace', () => {
  const cases: [string, () => string[], number, RegExp][] = [
    ['missing log file', () => ['report', '--logs', join(dir, 'nope.log')], 1, /--logs .*nope\.log: cannot read the file \(ENOENT\)/],
    ['a directory as log file', () => ['report', '--logs', dir], 1, /is a directory/],
    ['bad --date', () => ['report', '--logs', 'x', '--date', '2025-02-30'], 2, /--date 2025-02-30: expected a day as YYYY-MM-DD/],
    ['no source', () => ['report'], 2, /give exactly one of --logs FILE or --loki URL/],
    ['bad --format', () => ['report', '--logs', 'x', '--format', 'html'], 2, /--format html: expected one of text, markdown, json/],
    ['bad phase', () => ['phase', 'env', '7'], 2, /phase "7" does not exist; phases are 0 \(Deploy disabled\), 1 \(Log only\), 2 \(Selective enforcement\), 3 \(Full enforcement\), 4 \(Hardened\)/],
    ['phase not a number', () => ['phase', 'check', 'two', '--prometheus', 'http://localhost:9090'], 2, /phase "two" does not exist/],
    ['unknown phase verb', () => ['phase', 'enable', '2'], 2, /unknown phase command "enable"/],
    ['bad kubectl target', () => ['phase', 'env', '1', '--kubectl', 'api'], 2, /--kubectl api: expected a workload such as deployment\/my-app/],
    ['check without prometheus', () => ['phase', 'check', '1'], 2, /phase check needs --prometheus URL/],
    ['bad --at', () => ['phase', 'check', '1', '--prometheus', 'http://localhost:9090', '--at', 'yesterday'], 2, /--at yesterday: expected RFC 3339/],
    ['not a URL', () => ['status', '--prometheus', 'localhost:9090'], 2, /--prometheus localhost:9090: not an http\(s\) URL/],
    ['status without source', () => ['status'], 2, /give exactly one of --prometheus URL or --metrics URL/],
    ['unknown option', () => ['report', '--log', 'x'], 2, /unknown option --log/],
    ['missing config', () => ['phase', 'env', '1', '--config', join(dir, 'none.config.ts')], 1, /config file not found/],
  ]
  it.each(cases)('%s', async (_name, argv, code, message) => {
    const res = await runCli(argv())
    expect(res.thrown).toBeUndefined()
    expect(res.stderr).toMatch(message)
    expect(res.code).toBe(code)
    expect(res.stderr).not.toMatch(/\n\s+at /)
  })

  it('unreachable Prometheus for check and status', async () => {
    const port = await freePort()
    for (const argv of [['phase', 'check', '1', '--prometheus', `http://127.0.0.1:${port}`], ['status', '--prometheus', `http://127.0.0.1:${port}`]]) {
      const res = await runCli(argv)
      expect(res.code).toBe(1)
      expect(res.stderr).toContain(`cannot reach Prometheus at http://127.0.0.1:${port}: ECONNREFUSED`)
    }
  })

  it('a file of only malformed lines is no report: one line, exit 1', async () => {
    const res = await runCli(['report', '--logs', join(dir, 'only-garbage.log')])
    expect(res.code).toBe(1)
    expect(res.stdout).toBe('')
    expect(res.stderr).toContain('no readable log line in 2 lines')
  })

  it('the real binary prints the message, not a stack (spawned through tsx)', { timeout: testTimeoutFor() }, async () => {
    const res = await runTsx('src/cli.ts', ['report', '--logs', join(dir, 'nope.log')])
    expect(res.code).toBe(1)
    expect(res.stderr.trim()).toBe(`tenantfence report: --logs ${join(dir, 'nope.log')}: cannot read the file (ENOENT)`)
  })
})
