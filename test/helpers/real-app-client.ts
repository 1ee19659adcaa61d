// The Prisma clients of the real-app fixtures (test/fixtures/real-apps/<app>), whose types the scan
// needs to find the query fixtures under <app>/queries/. Generated on first use, offline (the schema
// engine is a stub: `prisma generate` never runs it), into <app>/queries/.generated/ (git-ignored,
// and skipped by the scan's folder walk as every dot-folder is), from the app's schema as findSchema
// reads it (Dub's is a folder), with the generator and datasource lines Prisma 7 takes.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from '../../src/config/index.ts'
import type { Severity, TenantFenceConfig } from '../../src/config/schema.ts'
import { findSchema } from '../../src/config/schema-files.ts'
import demo from '../../tenantfence.config.ts'
import { realApps } from '../fixtures/real-apps/index.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const REAL_APPS_DIR = join(ROOT, 'test/fixtures/real-apps')

/** Generate `app`'s client unless the one there is newer than its schema; returns the app's folder. */
export async function ensureRealAppClient(app: string): Promise<string> {
  const spec = realApps[app]
  if (!spec) throw new Error(`no real-app fixture "${app}": one of ${Object.keys(realApps).join(', ')}`)
  const appDir = join(REAL_APPS_DIR, app)
  const source = await findSchema({ schema: join(appDir, spec.schema) })
  const out = join(appDir, 'queries/.generated')
  const client = join(out, 'client/client.ts')
  const newest = Math.max(...source.files.map((f) => statSync(f).mtimeMs))
  if (existsSync(client) && statSync(client).mtimeMs >= newest) return appDir
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  // One file, with Prisma 7's generator and a datasource without url (the connection is the adapter's).
  const text = source.text
    .replace(/generator\s+\w+\s*\{[^}]*\}/g, '')
    .replace(/^\s*url\s*=.*$/gm, '')
    .replace(/^\s*directUrl\s*=.*$/gm, '')
  const generator = 'generator client {\n  provider     = "prisma-client"\n  output       = "./client"\n  moduleFormat = "esm"\n}\n'
  writeFileSync(join(out, 'schema.prisma'), `${generator}\n${text}`)
  const env: NodeJS.ProcessEnv = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' }
  env.PRISMA_SCHEMA_ENGINE_BINARY ??= existsSync('/bin/true') ? '/bin/true' : process.execPath
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/prisma/build/index.js'), 'generate', '--schema', join(out, 'schema.prisma')], { cwd: ROOT, env, encoding: 'utf8' })
  if (run.status !== 0 || !existsSync(client)) throw new Error(`prisma generate for ${app} failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`)
  return appDir
}

/** tenantfence's config for a real app, from its hand classification (expected.ts); the rest is the demo's. */
export function realAppConfig(app: string): TenantFenceConfig {
  const spec = realApps[app]!
  const models: Record<string, { severity: Severity; via?: string; field?: string }> = {}
  const globalModels: string[] = []
  for (const [name, o] of Object.entries(spec.models)) {
    if (o.kind === 'field') models[name] = o.field ? { severity: 'HIGH', field: o.field } : { severity: 'HIGH' }
    else if (o.kind === 'via') models[name] = { severity: 'HIGH', via: o.via }
    else if (o.kind === 'global') globalModels.push(name)
  }
  return defineConfig({
    ...demo,
    app: { name: spec.app, job: app.replace(/\W/g, '-'), runbookBaseUrl: demo.app.runbookBaseUrl },
    tenant: { field: spec.tenant.field, model: spec.tenant.model, idField: 'id', severity: 'HIGH' },
    models,
    globalModels,
    phases: demo.phases.map((p) => (p.mode === 'selective' ? { ...p, flags: { ...p.flags, TENANT_ENFORCEMENT_ENFORCE_MODELS: 'all', TENANT_ENFORCEMENT_LOG_MODELS: '' } } : p)),
  })
}
