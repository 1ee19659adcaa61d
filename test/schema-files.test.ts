// The schema wherever Prisma finds it (--schema, prisma.config.ts, package.json, the default
// locations, multi-file folders), and `tenantfence audit` on each: a model in a second file of a
// split schema is seen, a stale globalModels entry is named as stale.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { main } from '../src/cli.ts'
import { findSchema } from '../src/config/schema-files.ts'

const root = resolve('.')
const demoSchema = readFileSync(join(root, 'prisma/schema.prisma'), 'utf8')
/** The demo schema split in two: SecurityAlert (and its back-relation's model text) in a second file. */
const securityAlert = /^model SecurityAlert \{[^}]*\}\n/m.exec(demoSchema)![0]
const mainPart = demoSchema.replace(securityAlert, '')

let dirs: string[] = []
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs = []
  vi.restoreAllMocks()
})

function app(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tf-schema-'))
  dirs.push(dir)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

/** A config file in the app: the demo config, with SecurityAlert forgotten or a stale global model. */
const forgetfulConfig = `export { default } from ${JSON.stringify(join(root, 'test/fixtures/config/forgetful.config.ts'))}\n`
const staleConfig = `import { defineConfig } from ${JSON.stringify(join(root, 'src/config/index.ts'))}
import demo from ${JSON.stringify(join(root, 'tenantfence.config.ts'))}
export default defineConfig({ ...demo, globalModels: ['Permission', 'LegacyPlan'] })
`

async function audit(cwd: string, ...args: string[]) {
  const out: string[] = []
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')))
  vi.spyOn(process, 'cwd').mockReturnValue(cwd)
  const code = await main(['audit', ...args])
  vi.restoreAllMocks()
  return { code, out: out.join('\n') }
}

describe('findSchema', () => {
  it('reads every .prisma file of a schema folder (prisma/schema/), subfolders included, as one text', async () => {
    const dir = app({ 'prisma/schema/main.prisma': mainPart, 'prisma/schema/security/alerts.prisma': securityAlert, 'prisma/schema/migrations/x.prisma': 'model Ignored { id Int @id }' })
    const s = await findSchema({ cwd: dir })
    expect(s.origin).toBe('default')
    expect(s.files.map((f) => f.slice(dir.length))).toEqual(['/prisma/schema/main.prisma', '/prisma/schema/security/alerts.prisma'])
    expect(s.text).toContain('model SecurityAlert')
    expect(s.text).not.toContain('Ignored')
  })

  it('prefers prisma.config.ts "schema" (a literal, read without running the file) over the default location', async () => {
    const dir = app({
      'prisma.config.ts': `import { defineConfig, env } from 'prisma/config'\nexport default defineConfig({\n  // schema: 'wrong/commented.prisma',\n  schema: 'db/schema',\n  datasource: { url: env('DATABASE_URL_THAT_IS_NOT_SET') },\n})\n`,
      'db/schema/a.prisma': mainPart,
      'db/schema/b.prisma': securityAlert,
      'prisma/schema.prisma': 'model Decoy { id Int @id }',
    })
    const s = await findSchema({ cwd: dir })
    expect(s.origin).toBe('prisma.config.ts')
    expect(s.path).toBe(join(dir, 'db/schema'))
    expect(s.files).toHaveLength(2)
  })

  it('evaluates prisma.config.ts when "schema" is not a literal (through the TypeScript loader)', async () => {
    const dir = app({ 'prisma.config.ts': `import { join } from 'node:path'\nconst folder: string = 'db'\nexport default { schema: join(folder, 'app.prisma') }\n`, 'db/app.prisma': demoSchema })
    const s = await findSchema({ cwd: dir })
    expect(s.origin).toBe('prisma.config.ts')
    expect(s.path).toBe(join(dir, 'db/app.prisma'))
  })

  it('reads package.json "prisma.schema", and --schema wins over everything', async () => {
    const dir = app({ 'package.json': JSON.stringify({ name: 'x', prisma: { schema: 'src/db.prisma' } }), 'src/db.prisma': demoSchema, 'other.prisma': 'model Other { id Int @id }' })
    expect((await findSchema({ cwd: dir })).path).toBe(join(dir, 'src/db.prisma'))
    const flagged = await findSchema({ cwd: dir, schema: 'other.prisma' })
    expect([flagged.origin, flagged.text]).toEqual(['--schema', 'model Other { id Int @id }'])
  })

  it('names every place it looked when there is no schema, and the bad path when one is named', async () => {
    const dir = app({ 'package.json': '{}' })
    await expect(findSchema({ cwd: dir })).rejects.toThrow(/no Prisma schema found .*prisma\.config\.ts.*package\.json.*prisma\/schema\.prisma, schema\.prisma, prisma\/schema; pass --schema/)
    await expect(findSchema({ cwd: dir, schema: 'nope.prisma' })).rejects.toThrow(`the Prisma schema named by --schema does not exist: ${join(dir, 'nope.prisma')}`)
  })
})

describe('tenantfence audit', () => {
  it('sees a forgotten model in the second file of a multi-file schema (one file alone would say all is classified)', async () => {
    const dir = app({ 'prisma/schema/main.prisma': mainPart, 'prisma/schema/alerts.prisma': securityAlert, 'tenantfence.config.ts': forgetfulConfig })
    const res = await audit(dir)
    expect(res.code).toBe(1)
    expect(res.out).toContain('prisma/schema (2 files)')
    expect(res.out).toContain('SecurityAlert has a "tenantId" field. Add it to "models"')
    // The old reading (one file) is the bug this guards against: that file alone hides SecurityAlert.
    expect((await audit(dir, '--schema', 'prisma/schema/main.prisma')).out).toContain('is classified')
  })

  it('names a stale globalModels entry as stale', async () => {
    const dir = app({ 'prisma/schema.prisma': demoSchema, 'tenantfence.config.ts': staleConfig })
    const res = await audit(dir)
    expect(res.code).toBe(1)
    expect(res.out).toContain('LegacyPlan is listed in globalModels but the schema has no such model (renamed or removed?). Remove it')
  })

  it('at start-up (TENANT_AUDIT) too: the client\'s own data model covers every schema file; a stale entry is named stale', async () => {
    const { openDatabase } = await import('../src/demo/db.ts')
    const { tenantEnforcement, defineConfig } = await import('../src/index.ts')
    const { captureLogger, config } = await import('./helpers/fence.ts')
    const db = await openDatabase()
    try {
      const { logger, lines } = captureLogger()
      db.prisma.$extends(tenantEnforcement({ config: defineConfig({ ...config, globalModels: ['Permission', 'LegacyPlan'] }), logger }))
      const audit = lines.filter((l) => String(l.msg).startsWith('TENANT_AUDIT'))
      expect(audit.map((l) => l.msg)).toEqual(['TENANT_AUDIT: 1 config entry names a model the schema does not have (stale): LegacyPlan'])
      expect(audit[0]!.models).toEqual([{ model: 'LegacyPlan', kind: 'stale', reason: 'is listed in globalModels but the schema has no such model (renamed or removed?)' }])
    } finally {
      await db.close()
    }
  })

  it('passes on the demo, and refuses an unknown option with exit 2', async () => {
    expect((await audit(root)).code).toBe(0)
    const err: string[] = []
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')))
    expect(await main(['audit', '--schemas', 'x'])).toBe(2)
    expect(err.join('\n')).toContain('unknown option --schemas: did you mean --schema?')
  })
})
