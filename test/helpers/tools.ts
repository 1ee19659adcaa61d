// External tools the tests run for real (promtool, prometheus, docker-compose). A missing tool is a
// failure that names the apt package to install, never a skip: CI must not pass by testing less.
import { spawnSync } from 'node:child_process'

const found = new Map<string, boolean>()

/** Throws `<bin> not found: install it with apt-get install -y <aptPackage>` when `bin --version` fails. */
export function requireTool(bin: string, aptPackage: string): void {
  if (!found.has(bin)) {
    const probe = spawnSync(bin, ['--version'], { stdio: 'ignore', timeout: 60_000 })
    found.set(bin, !probe.error && probe.status === 0)
  }
  if (!found.get(bin)) {
    const ci = process.env.CI === 'true' ? ' (CI=true)' : ''
    throw new Error(`${bin} not found${ci}: install it with \`apt-get install -y ${aptPackage}\``)
  }
}
