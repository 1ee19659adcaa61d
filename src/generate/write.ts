// Write the generated files, or compare them with what is on disk (`generate --check`).
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { GENERATED_DIRS, type GeneratedFile } from './files.ts'

/** Every generated file carries this; a file without it in a generated folder was not made by us. */
export const GENERATED_MARKER = 'DO NOT EDIT'

export interface CheckResult {
  /** on disk with other content */
  changed: Array<{ path: string; line: number }>
  /** generated but not on disk */
  missing: string[]
  /** on disk in a generated folder but not generated */
  extra: string[]
}

export const isClean = (r: CheckResult) => r.changed.length === 0 && r.missing.length === 0 && r.extra.length === 0

async function listFiles(root: string, dir: string): Promise<string[]> {
  const abs = join(root, dir)
  if (!existsSync(abs)) return []
  const entries = await readdir(abs, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort()
}

async function existingFiles(outDir: string): Promise<string[]> {
  return (await Promise.all(GENERATED_DIRS.map((d) => listFiles(outDir, d)))).flat()
}

function firstDifferentLine(a: string, b: string): number {
  const x = a.split('\n')
  const y = b.split('\n')
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return i + 1
  return 1
}

export async function checkGenerated(outDir: string, files: GeneratedFile[]): Promise<CheckResult> {
  const result: CheckResult = { changed: [], missing: [], extra: [] }
  const wanted = new Set(files.map((f) => f.path))
  for (const f of files) {
    const abs = join(outDir, f.path)
    if (!existsSync(abs)) result.missing.push(f.path)
    else {
      const actual = await readFile(abs, 'utf8')
      if (actual !== f.content) result.changed.push({ path: f.path, line: firstDifferentLine(actual, f.content) })
    }
  }
  result.extra = (await existingFiles(outDir)).filter((p) => !wanted.has(p))
  return result
}

export interface WriteResult {
  written: string[]
  unchanged: string[]
  /** stale generated files removed */
  removed: string[]
  /** files in a generated folder the generator did not make; left alone (--check reports them) */
  foreign: string[]
}

export async function writeGenerated(outDir: string, files: GeneratedFile[]): Promise<WriteResult> {
  const result: WriteResult = { written: [], unchanged: [], removed: [], foreign: [] }
  for (const f of files) {
    const abs = join(outDir, f.path)
    if (existsSync(abs) && (await readFile(abs, 'utf8')) === f.content) {
      result.unchanged.push(f.path)
      continue
    }
    await mkdir(dirname(abs), { recursive: true })
    await writeFile(abs, f.content)
    result.written.push(f.path)
  }
  const wanted = new Set(files.map((f) => f.path))
  for (const path of await existingFiles(outDir)) {
    if (wanted.has(path)) continue
    // Remove only what an earlier run generated (a renamed phase); never a hand-made file.
    if ((await readFile(join(outDir, path), 'utf8')).includes(GENERATED_MARKER)) {
      await rm(join(outDir, path))
      result.removed.push(path)
    } else result.foreign.push(path)
  }
  return result
}
