// The TypeScript program the scan reads: the app's tsconfig (its paths, module resolution, the
// generated Prisma client it resolves to) with only the files to scan as roots, so a scan of
// one folder does not parse the whole repository.
import { readdirSync, statSync } from 'node:fs'
import { dirname, extname, join, relative, resolve, sep } from 'node:path'
import type * as TS from 'typescript'
import { ScanSetupError, type TypeScript } from './typescript.ts'

export interface ScanProgram {
  readonly program: TS.Program
  /** the folder paths in reports are relative to (the tsconfig's, else the working directory) */
  readonly root: string
  /** the files whose queries are reported (absolute) */
  readonly targets: readonly string[]
  readonly tsconfig: string | undefined
}

const SOURCE = new Set(['.ts', '.tsx', '.mts', '.cts'])
const SCRIPT = new Set(['.js', '.jsx', '.mjs', '.cjs'])
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', 'coverage'])

export interface ScanProgramOptions {
  cwd: string
  paths: readonly string[]
  project?: string | undefined
  oldProgram?: TS.Program | undefined
}

export function createScanProgram(ts: TypeScript, o: ScanProgramOptions): ScanProgram {
  const tsconfig = o.project ? resolve(o.cwd, o.project) : ts.findConfigFile(o.cwd, ts.sys.fileExists)
  let options: TS.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    allowJs: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
  }
  let configured: readonly string[] = []
  if (tsconfig) {
    if (!ts.sys.fileExists(tsconfig)) throw new ScanSetupError(`--project: ${tsconfig} does not exist`)
    const problems: string[] = []
    const onUnRecoverableConfigFileDiagnostic = (d: TS.Diagnostic) => void problems.push(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic })
    if (!parsed) throw new ScanSetupError(`cannot read ${tsconfig}: ${problems.join('; ') || 'unknown error'}`)
    options = parsed.options
    configured = parsed.fileNames
  }
  options = { ...options, noEmit: true }
  const root = tsconfig ? dirname(tsconfig) : o.cwd
  const wanted = (f: string) => !f.endsWith('.d.ts') && (SOURCE.has(extname(f)) || (options.allowJs === true && SCRIPT.has(extname(f))))
  let targets: string[]
  if (o.paths.length) {
    targets = []
    for (const p of o.paths) {
      const abs = resolve(o.cwd, p)
      let st
      try {
        st = statSync(abs)
      } catch {
        throw new ScanSetupError(`cannot scan ${p}: no such file or folder`)
      }
      if (st.isDirectory()) targets.push(...walk(abs).filter(wanted))
      else targets.push(abs)
    }
  } else {
    if (!tsconfig) throw new ScanSetupError(`no tsconfig.json found from ${o.cwd}: name the files or folders to scan, or pass --project`)
    targets = configured.filter(wanted).map((f) => resolve(f))
  }
  targets = [...new Set(targets)].sort()
  if (targets.length === 0) throw new ScanSetupError(`nothing to scan: no TypeScript file under ${o.paths.join(', ') || tsconfig}`)
  const host = ts.createCompilerHost(options, true)
  // JSDoc carries types in JavaScript files only; skipping it in TypeScript files saves much of the parse.
  host.jsDocParsingMode = ts.JSDocParsingMode.ParseForTypeInfo
  const program = ts.createProgram({ rootNames: targets, options, host, ...(o.oldProgram ? { oldProgram: o.oldProgram } : {}) })
  return { program, root, targets, tsconfig }
}

function walk(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || SKIP_DIRS.has(e.name)) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...walk(p))
    else if (e.isFile()) out.push(p)
  }
  return out
}

/** A path for reports: relative to the root, with forward slashes. */
export function reportPath(root: string, file: string): string {
  return relative(root, file).split(sep).join('/')
}
