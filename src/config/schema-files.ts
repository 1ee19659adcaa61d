// Find the app's Prisma schema where Prisma itself finds it, and read its text. Apps keep it in
// prisma/schema.prisma, somewhere named by prisma.config.ts or package.json, or split over a folder
// of .prisma files (prisma/schema/*.prisma): reading only one file of a split schema would make
// the audit say "every model is classified" about models it never saw.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { TenantConfigError } from './define.ts'

/** Where the schema was found, in Prisma's order of precedence. */
export type SchemaOrigin = '--schema' | 'prisma.config.ts' | 'package.json' | 'default'

export interface SchemaSource {
  /** the schema file, or the folder of a multi-file schema */
  path: string
  /** every .prisma file read, sorted */
  files: readonly string[]
  /** the files' text, concatenated (models may reference each other across files) */
  text: string
  origin: SchemaOrigin
}

export const PRISMA_CONFIG_FILES = ['prisma.config.ts', 'prisma.config.mts', 'prisma.config.js', 'prisma.config.mjs', 'prisma.config.cjs', '.config/prisma.ts']
/** Prisma's default locations, in its order: the single file first, then the folder. */
export const DEFAULT_SCHEMA_PATHS = ['prisma/schema.prisma', 'schema.prisma', 'prisma/schema']

/**
 * The schema of the app in `cwd`: `--schema` when given, else prisma.config.ts's `schema`, else
 * package.json's `prisma.schema`, else the default locations. A folder means every .prisma file
 * under it (a multi-file schema).
 */
export async function findSchema(options: { schema?: string; cwd?: string } = {}): Promise<SchemaSource> {
  const cwd = options.cwd ?? process.cwd()
  if (options.schema) return readSchema(resolve(cwd, options.schema), '--schema', '--schema')
  const fromConfig = await prismaConfigSchema(cwd)
  if (fromConfig) return readSchema(fromConfig.path, 'prisma.config.ts', `"schema" in ${relative(cwd, fromConfig.file)}`)
  const fromPackage = packageJsonSchema(cwd)
  if (fromPackage) return readSchema(fromPackage, 'package.json', '"prisma.schema" in package.json')
  for (const p of DEFAULT_SCHEMA_PATHS) {
    const full = resolve(cwd, p)
    if (existsSync(full) && (!statSync(full).isDirectory() || prismaFiles(full).length > 0)) return readSchema(full, 'default', p)
  }
  throw new TenantConfigError(
    `no Prisma schema found in ${cwd}: looked at --schema, the "schema" of prisma.config.ts, "prisma.schema" in package.json ` +
      `and ${DEFAULT_SCHEMA_PATHS.join(', ')}; pass --schema <file or folder>`,
  )
}

async function readSchema(path: string, origin: SchemaOrigin, namedBy: string): Promise<SchemaSource> {
  if (!existsSync(path)) throw new TenantConfigError(`the Prisma schema named by ${namedBy} does not exist: ${path}`)
  const files = statSync(path).isDirectory() ? prismaFiles(path) : [path]
  if (files.length === 0) throw new TenantConfigError(`the Prisma schema folder ${path} (named by ${namedBy}) holds no .prisma file`)
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')))
  // One newline between files so a model closing one file never runs into the next one's first line.
  return { path, files, text: texts.join('\n'), origin }
}

/** Every .prisma file under a folder, at any depth (Prisma reads subfolders too), sorted. */
export function prismaFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) {
      // migrations hold SQL, and node_modules is never a schema
      if (entry.name !== 'migrations' && entry.name !== 'node_modules') out.push(...prismaFiles(full))
    } else if (entry.name.endsWith('.prisma')) {
      out.push(full)
    }
  }
  return out.sort()
}

/**
 * The `schema` of prisma.config.ts, resolved against the config file's folder as Prisma does.
 * A string literal is read from the text without running the file (a config that calls
 * `env('DATABASE_URL')` throws where that variable is unset, as it is in CI); anything else is
 * evaluated through the TypeScript loader.
 */
async function prismaConfigSchema(cwd: string): Promise<{ file: string; path: string } | undefined> {
  const file = PRISMA_CONFIG_FILES.map((f) => resolve(cwd, f)).find((f) => existsSync(f))
  if (!file) return undefined
  const text = await readFile(file, 'utf8')
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1')
  const literal = /\bschema\s*:\s*(['"`])([^'"`$]+)\1/.exec(code)
  if (literal) return { file, path: resolve(dirname(file), literal[2]!) }
  if (!/\bschema\s*:/.test(code)) return undefined
  let value: unknown
  try {
    const { importTypeScript } = await import('./ts-import.ts')
    const mod = await importTypeScript(file)
    const config = (mod.default ?? mod) as { schema?: unknown; default?: { schema?: unknown } }
    value = config.schema ?? config.default?.schema // a CommonJS config arrives wrapped once more
  } catch (err) {
    throw new TenantConfigError(`could not evaluate ${file} to find its "schema": ${(err as Error).message}; pass --schema <file or folder>`)
  }
  if (typeof value !== 'string') return undefined
  return { file, path: resolve(dirname(file), value) }
}

function packageJsonSchema(cwd: string): string | undefined {
  const file = resolve(cwd, 'package.json')
  if (!existsSync(file)) return undefined
  try {
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { prisma?: { schema?: unknown } }
    return typeof pkg.prisma?.schema === 'string' ? resolve(cwd, pkg.prisma.schema) : undefined
  } catch {
    return undefined // an unreadable package.json is npm's problem to report, not ours
  }
}
