// `npm run build` makes a publishable package; import it as a user would: by its name, through
// its exports map, from another folder; run its CLI through the bin entry.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = resolve('.')
let app: string
let pkgDir: string

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'pipe' })
  // What `npm publish` would ship, unpacked into a user's node_modules.
  const packDir = mkdtempSync(join(tmpdir(), 'tf-pack-'))
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const [{ filename }] = JSON.parse(out) as [{ filename: string }]
  app = mkdtempSync(join(tmpdir(), 'tf-user-app-'))
  pkgDir = join(app, 'node_modules', 'tenantfence')
  mkdirSync(pkgDir, { recursive: true })
  execFileSync('tar', ['-xzf', join(packDir, filename), '-C', pkgDir, '--strip-components=1'])
  // The package's own dependencies resolve from the repository's node_modules, as npm would install them.
  symlinkSync(join(root, 'node_modules'), join(pkgDir, 'node_modules'), 'dir')
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'user-app', type: 'module' }))
  rmSync(packDir, { recursive: true, force: true })
}, 120_000)

afterAll(() => rmSync(app, { recursive: true, force: true }))

describe('the published package', () => {
  it('ships dist and README only, with an exports map and type declarations', () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' })
    expect(readFileSync(join(pkgDir, 'dist/index.d.ts'), 'utf8')).toContain('tenantEnforcement')
    expect(() => readFileSync(join(pkgDir, 'src/index.ts'))).toThrow()
  })

  it('imports by name from a user project and exposes the public API', () => {
    const script = `
      import * as tf from 'tenantfence'
      const names = ['tenantEnforcement', 'runWithTenant', 'withoutTenantEnforcement', 'TenantContextRequiredError', 'defineConfig', 'inspect', 'decide', 'tenantContext', 'tenantErrorHandler', 'requestMetrics', 'metricsHandler', 'createLogger']
      const missing = names.filter((n) => typeof tf[n] !== 'function')
      const err = new tf.TenantContextRequiredError('User', 'findMany', 'missing_tenant_id')
      console.log(JSON.stringify({ missing, message: err.message, code: err.code }))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' })
    expect(JSON.parse(out)).toEqual({ missing: [], message: 'TENANT_CONTEXT_REQUIRED: User', code: 'TENANT_CONTEXT_REQUIRED' })
  })

  it('runs the CLI through its bin entry with a TypeScript config', () => {
    const bin = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).bin.tenantfence as string
    const res = spawnSync(process.execPath, [join(pkgDir, bin), 'phase', 'env', '1', '--config', join(root, 'tenantfence.config.ts')], { cwd: app, encoding: 'utf8' })
    expect(res.stderr).toBe('')
    expect(res.stdout).toContain('TENANT_ENFORCEMENT_MODE=log_only')
    expect(res.status).toBe(0)
  })
})
