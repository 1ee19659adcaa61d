// The call site of a violation, for the log line: app frames only, paths made relative so no
// home directory or user name reaches a log. A frame is judged by where its code lives, never
// by its function name: an anonymous arrow handler (`at <anonymous> (src/app.ts:55:25)`,
// `at /app/src/x.ts:1:2`) is the app's own code and the most useful frame of all.
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'

/** tenantfence's own source or build folder (src/ or dist/); its demo counts as an app. */
const OWN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const OWN_DEMO = `${OWN_DIR}/demo/`

/** `at name (location)` or `at location`; the location is file:line:col, node:…, native or <anonymous>. */
const FRAME = /^at (?:(?<name>.*?) \((?<inner>.*)\)|(?<bare>.*))$/

/** Where a frame's code lives, or undefined for a line that is no frame. */
export function frameLocation(line: string): string | undefined {
  const m = FRAME.exec(line.trim())
  if (!m?.groups) return undefined
  return m.groups.inner ?? m.groups.bare
}

/** Is this location the app's code (not Node's, not a dependency's, not tenantfence's)? */
export function isAppLocation(location: string): boolean {
  const path = location.replace(/^file:\/\//, '').replace(/^async /, '')
  // code has a file:line:col; `<anonymous>`, `native`, `index 0` (Promise.all) are no place in a file
  if (!/:\d+:\d+$/.test(path) || path.startsWith('node:') || path.startsWith('<')) return false
  if (/[\\/]node_modules[\\/]/.test(path)) return false
  if (path.startsWith(`${OWN_DIR}/`) && !path.startsWith(OWN_DEMO)) return false
  return true
}

export function cleanStack(stack: string | undefined, maxFrames = 8): string {
  if (!stack) return ''
  const cwd = process.cwd()
  const frames: string[] = []
  for (const line of stack.split('\n')) {
    const location = frameLocation(line)
    if (location === undefined || !isAppLocation(location)) continue
    frames.push(line.trim().replace(/file:\/\//g, '').split(`${cwd}/`).join(''))
    if (frames.length >= maxFrames) break
  }
  return frames.join('\n')
}

/** The current call site (captured only for lines that are actually logged). */
export function captureStack(): string {
  return cleanStack(new Error().stack)
}
