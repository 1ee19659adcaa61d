// The call site of a violation, for the log line: app frames only, paths made relative so no
// home directory or user name reaches a log.
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'

const OWN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const NOISE = ['node_modules', 'node:internal', 'node:async_hooks', '<anonymous>', '(native)']

export function cleanStack(stack: string | undefined, maxFrames = 8): string {
  if (!stack) return ''
  const cwd = process.cwd()
  const frames: string[] = []
  for (const line of stack.split('\n')) {
    const t = line.trim()
    if (!t.startsWith('at ')) continue
    if (t.includes(OWN_DIR) && !t.includes(`${OWN_DIR}/demo`)) continue
    if (NOISE.some((n) => t.includes(n))) continue
    frames.push(t.split(cwd).join('.').replace(/file:\/\/\.?/g, ''))
    if (frames.length >= maxFrames) break
  }
  return frames.join('\n')
}

/** The current call site (captured only for lines that are actually logged). */
export function captureStack(): string {
  return cleanStack(new Error().stack)
}
