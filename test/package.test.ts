// The published package as users get it: `npm run build`, `npm pack`, then `npm install` of the
// tarball into two fresh projects with their own node_modules (a plain `npm init -y` CommonJS
// project and a `"type": "module"` one). In each: every entry through require/import, the
// extension on a real Prisma client, the CLI with a TypeScript config (init, audit, phase env,
// generate, --version), and a TypeScript consumer with no Express installed. Slow (one build, one
// pack and two installs per run, shared by every test here): kept in its own file for test:slow.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import demoConfig from '../tenantfence.config.ts'

const root = resolve('.')
const work = mkdtempSync(join(tmpdir(), 'tf-package-'))
const repoModule = (name: string) => join(root, 'node_modules', name)
const pkgJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; engines: Record<string, string>; scripts: Record<string, string> }
const prismaClientVersion = (JSON.parse(readFileSync(join(repoModule('@prisma/client'), 'package.json'), 'utf8')) as { version: string }).version
let tarball: string
let installed: string // the unpacked package inside the ESM project

// Under `npm test`, npm exports its settings as npm_config_* (local_prefix: this repository): a
// child npm must see none of them, or it could install into the repository instead of the project.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)))

const KINDS = ['cjs', 'esm'] as const
type Kind = (typeof KINDS)[number]
const project = (kind: Kind) => join(work, `${kind}-app`)

function npmInstall(cwd: string, args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d))
    child.on('close', (code) => (code === 0 ? ok() : fail(new Error(`npm install in ${cwd} failed (${code}): ${err.slice(-2000)}`))))
  })
}

beforeAll(async () => {
  // Built and packed from a copy of the sources, so the run leaves the working tree's dist/ alone.
  const source = join(work, 'source')
  for (const dir of ['src', 'scripts', 'docs']) cpSync(join(root, dir), join(source, dir), { recursive: true })
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE']) cpSync(join(root, file), join(source, file))
  symlinkSync(join(root, 'node_modules'), join(source, 'node_modules'), 'dir')
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: source, stdio: 'pipe' })
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: source, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  tarball = join(work, (JSON.parse(out) as [{ filename: string }])[0].filename)

  for (const kind of KINDS) {
    const dir = project(kind)
    mkdirSync(join(dir, 'prisma'), { recursive: true })
    // `npm init -y` for CommonJS; the ESM project says "type": "module".
    execFileSync('npm', ['init', '-y'], { cwd: dir, env, stdio: 'ignore' })
    if (kind === 'esm') writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')), type: 'module' }, null, 2))
    cpSync(join(root, 'prisma/schema.prisma'), join(dir, 'prisma/schema.prisma'))
    writeFileSync(join(dir, 'demo-config.json'), JSON.stringify(demoConfig))
    // The app's own Prisma client, compiled as the app would (CommonJS or ESM), on its own @prisma/client.
    await build({
      entryPoints: [join(root, 'src/demo/generated/prisma/client.ts')],
      outfile: join(dir, kind === 'cjs' ? 'prisma-client.cjs' : 'prisma-client.mjs'),
      bundle: true,
      format: kind,
      platform: 'node',
      target: 'node20',
      external: ['@prisma/client', '@prisma/client/*'],
      ...(kind === 'cjs' ? { define: { 'import.meta.url': '__importMetaUrl' }, banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" } } : {}),
      logLevel: 'error',
    })
  }
  // Both installs at once; the tarball's dependencies and the app's @prisma/client come from the registry (or npm's cache).
  await Promise.all(KINDS.map((kind) => npmInstall(project(kind), [tarball, `@prisma/client@${prismaClientVersion}`])))
  installed = join(project('esm'), 'node_modules', 'tenantfence')
}, 600_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

function run(kind: Kind, script: string, extra: Record<string, string> = {}) {
  const file = join(project(kind), kind === 'cjs' ? 'check.cjs' : 'check.mjs')
  writeFileSync(file, script)
  const res = spawnSync(process.execPath, [file], { cwd: project(kind), encoding: 'utf8', env: { ...env, ...extra } })
  return { status: res.status, stdout: res.stdout, stderr: res.stderr, json: () => JSON.parse(res.stdout.trim().split('\n').at(-1) ?? 'null') as Record<string, unknown> }
}

function cli(kind: Kind, ...args: string[]) {
  const res = spawnSync(join(project(kind), 'node_modules/.bin/tenantfence'), args, { cwd: project(kind), env, encoding: 'utf8' })
  return { status: res.status, stdout: res.stdout, stderr: res.stderr }
}

const load = (kind: Kind, name: string) => (kind === 'cjs' ? `require(${JSON.stringify(name)})` : `await import(${JSON.stringify(name)})`)

describe('the tarball', () => {
  it('ships dist (no source, no source maps), types for every entry, no prepare script, and says which Node runs it', () => {
    const files = (function list(dir: string): string[] {
      return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? list(join(dir, f)).map((x) => `${f}/${x}`) : [f]))
    })(installed)
    expect(files.filter((f) => f.startsWith('src/') || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { exports: Record<string, { types?: string; default?: string }>; scripts?: Record<string, string>; engines: Record<string, string> }
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue
      expect([entry, existsSync(join(installed, target.types!)), existsSync(join(installed, target.default!))]).toEqual([entry, true, true])
    }
    expect(pkg.scripts?.prepare).toBeUndefined()
    expect(pkg.engines.node).toBe('^20.19 || ^22.12 || >=24.0')
    expect(pkgJson.scripts.prepare).toBeUndefined()
  })

  it('a production install pulls neither the CLI\'s nor the generator\'s dependencies', () => {
    for (const kind of KINDS) {
      const modules = readdirSync(join(project(kind), 'node_modules'))
      expect(modules.filter((m) => ['tsx', 'esbuild', 'jiti', 'yaml', 'typescript', '@grafana', 'express', 'fastify', 'hono'].includes(m))).toEqual([])
    }
  })
})

describe.each(KINDS)('a fresh %s project', (kind) => {
  it('loads every entry (require in CommonJS, import in ESM); the entries share one tenant context', () => {
    const res = run(
      kind,
      `${kind === 'esm' ? '' : '(async () => {'}
      const tf = ${load(kind, 'tenantfence')}
      const express = ${load(kind, 'tenantfence/express')}
      const fastify = ${load(kind, 'tenantfence/fastify')}
      const web = ${load(kind, 'tenantfence/web')}
      const { SignJWT } = ${load(kind, 'jose')}
      const names = { tf: ['tenantEnforcement', 'runWithTenant', 'withoutTenantEnforcement', 'defineConfig', 'httpMetrics', 'isTenantId'], express: ['tenantContext', 'requestMetrics', 'metricsHandler', 'tenantErrorHandler'], fastify: ['tenantfence'], web: ['webTenantContext', 'withTenant', 'honoTenantContext'] }
      const mods = { tf, express, fastify, web }
      const missing = Object.entries(names).flatMap(([m, ns]) => ns.filter((n) => typeof mods[m][n] !== 'function').map((n) => m + '.' + n))
      const secret = 'a-test-secret-that-is-at-least-32-bytes-long'
      const jwt = await new SignJWT({ tenantId: 4 }).setProtectedHeader({ alg: 'HS256' }).setSubject('9').setExpirationTime('1h').sign(new TextEncoder().encode(secret))
      const guard = web.webTenantContext({ secret, idType: 'number' })
      // set by the web entry, read through the main entry: one AsyncLocalStorage
      const res = await guard.handle(new Request('http://x/a', { headers: { authorization: 'Bearer ' + jwt } }), '/a', () => Response.json(tf.getTenantContext()))
      console.log(JSON.stringify({ missing, context: await res.json() }))
      ${kind === 'esm' ? '' : '})()'}`,
    )
    expect(res.stderr).toBe('') // no ExperimentalWarning, no error
    expect(res.json()).toEqual({ missing: [], context: { tenantId: 4, userId: 9, method: 'GET', endpoint: '/a' } })
  })

  it('has the test-time guard entries: tenantfence/jest outside Jest says where it belongs', () => {
    const res = run(
      kind,
      `${kind === 'esm' ? '' : '(async () => {'}
      let message = 'loaded'
      try { ${load(kind, 'tenantfence/jest')} } catch (e) { message = e.message }
      console.log(JSON.stringify({ message }))
      ${kind === 'esm' ? '' : '})()'}`,
    )
    expect(res.json()).toEqual({ message: expect.stringContaining('tenantfence/jest: Jest globals are missing') })
  })

  it('enforces on a real Prisma client: a scoped query returns its tenant\'s rows, an unscoped one is blocked', () => {
    const client = kind === 'cjs' ? './prisma-client.cjs' : './prisma-client.mjs'
    const res = run(
      kind,
      `${kind === 'esm' ? '' : '(async () => {'}
      const { readFileSync, readdirSync } = ${load(kind, 'node:fs')}
      const { join } = ${load(kind, 'node:path')}
      const { tenantEnforcement, runWithTenant } = ${load(kind, 'tenantfence')}
      const { PrismaClient } = ${load(kind, client)}
      const Database = ${kind === 'cjs' ? `require(${JSON.stringify(repoModule('better-sqlite3'))})` : `(await import(${JSON.stringify(repoModule('better-sqlite3/lib/index.js'))})).default`}
      const { PrismaBetterSqlite3 } = ${kind === 'cjs' ? `require(${JSON.stringify(repoModule('@prisma/adapter-better-sqlite3'))})` : `await import(${JSON.stringify(join(repoModule('@prisma/adapter-better-sqlite3'), 'dist/index.mjs'))})`}
      const file = join(process.cwd(), 'app.db') // inside the project, removed with it
      const sqlite = new Database(file)
      const migrations = ${JSON.stringify(join(root, 'prisma/migrations'))}
      for (const m of readdirSync(migrations).filter((d) => !d.endsWith('.toml')).sort()) sqlite.exec(readFileSync(join(migrations, m, 'migration.sql'), 'utf8'))
      sqlite.exec("INSERT INTO Tenant (id, name) VALUES (1, 'a'), (2, 'b'); INSERT INTO User (id, tenantId, email) VALUES (1, 1, 'a@a'), (2, 2, 'b@b')")
      sqlite.close()
      process.env.TENANT_ENFORCEMENT_MODE = 'enforce'
      const config = JSON.parse(readFileSync('demo-config.json', 'utf8'))
      const logs = []
      const logger = { info() {}, warn() {}, error(o, m) { logs.push(m) }, debug() {}, child() { return logger } }
      const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: 'file:' + file }) })
      const prisma = base.$extends(tenantEnforcement({ config, logger, audit: false }))
      const scoped = await runWithTenant({ tenantId: 1, userId: 1 }, () => prisma.user.findMany({ where: { tenantId: 1 } }))
      const blocked = await runWithTenant({ tenantId: 1, userId: 1 }, () => prisma.user.findMany()).then(() => null, (e) => ({ code: e.code, model: e.model }))
      await base.$disconnect()
      console.log(JSON.stringify({ version: base._clientVersion, scoped: scoped.map((u) => u.email), blocked }))
      ${kind === 'esm' ? '' : '})()'}`,
    )
    expect(res.stderr).toBe('')
    expect(res.json()).toEqual({ version: expect.stringMatching(/^7\./), scoped: ['a@a'], blocked: { code: 'TENANT_CONTEXT_REQUIRED', model: 'User' } })
  })

  it('runs the CLI with a TypeScript config: init, audit, phase env, generate, --version', () => {
    expect(cli(kind, '--version').stdout.trim()).toBe(pkgJson.version)
    const init = cli(kind, 'init')
    expect([init.status, init.stderr]).toEqual([0, ''])
    expect(readFileSync(join(project(kind), 'tenantfence.config.ts'), 'utf8')).toContain("from 'tenantfence'")
    // init leaves every severity at 'TO_REVIEW': audit names each one (exit 1) until the team sets them
    const audit = cli(kind, 'audit')
    expect([audit.status, audit.stderr]).toEqual([1, ''])
    expect(audit.stdout).toContain('audit: 9 problem(s) with prisma/schema.prisma:')
    expect(audit.stdout).toContain("  - User has severity 'TO_REVIEW' (runs as MEDIUM): set CRITICAL, HIGH, MEDIUM or LOW.")
    const phaseEnv = cli(kind, 'phase', 'env', '1')
    expect([phaseEnv.status, phaseEnv.stderr]).toEqual([0, ''])
    expect(phaseEnv.stdout).toContain('TENANT_ENFORCEMENT_MODE=log_only')
    const gen = cli(kind, 'generate', '--out', 'ops')
    expect([gen.status, gen.stderr]).toEqual([0, ''])
    expect(JSON.parse(readFileSync(join(project(kind), 'ops/dashboards/tenant-violations.json'), 'utf8'))).toHaveProperty('uid')
    // scan needs the optional peer typescript, which this project lacks: one clear line, exit 2
    const scan = cli(kind, 'scan')
    expect([scan.status, scan.stderr.trim()]).toEqual([2, expect.stringContaining('tenantfence scan needs the "typescript" package')])
    const again = cli(kind, 'init')
    expect([again.status, again.stderr.trim()]).toEqual([1, 'tenantfence init: tenantfence.config.ts already exists; pass --force to overwrite it'])
  }, 120_000)

  it('type-checks a TypeScript consumer of the runtime and the Web adapter, with no Express or Fastify installed', () => {
    const dir = project(kind)
    // The app's own @types/node (copied: a typeRoots pointing into this repository would also find @types/express).
    for (const m of ['@types/node', 'undici-types']) cpSync(repoModule(m), join(dir, 'node_modules', m), { recursive: true })
    writeFileSync(
      join(dir, 'consumer.ts'),
      `import { tenantEnforcement, runWithTenant, defineConfig, type TenantContext } from 'tenantfence'
import { webTenantContext, withTenant } from 'tenantfence/web'
const ctx: TenantContext = { tenantId: 1, userId: 2 }
const guard = webTenantContext({ secret: 'a-test-secret-that-is-at-least-32-bytes-long', resolveTenant: (req) => req.headers.get('x-team') })
export const GET = withTenant(guard, '/api/x', async () => Response.json(await runWithTenant(ctx, () => 1)))
export const fence = (config: Parameters<typeof defineConfig>[0]) => tenantEnforcement({ config })
`,
    )
    // ESM: every declaration file checked (skipLibCheck off: our .d.ts must not need express or fastify).
    // CommonJS: node16-style and classic (node10 + esModuleInterop) resolution, as most CJS projects have it.
    const settings =
      kind === 'esm'
        ? [{ module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: false }]
        : [{ module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: true }, { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, skipLibCheck: true }]
    for (const s of settings) {
      const tsconfig = { compilerOptions: { ...s, target: 'es2022', strict: true, noEmit: true, types: ['node'] }, files: ['consumer.ts'] }
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig))
      const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' })
      expect([s.module, tsc.stdout.trim(), tsc.status]).toEqual([s.module, '', 0])
    }
    expect(existsSync(join(dir, 'node_modules/express')) || existsSync(join(dir, 'node_modules/@types/express'))).toBe(false)
  }, 300_000)
})
