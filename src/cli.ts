#!/usr/bin/env node
// tenantfence <command>: each command lives in its own module and is loaded on demand, so
// `tenantfence phase env` does not load the dashboard SDK and the other way round.
import { readFileSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { TenantConfigError } from './config/define.ts'
import { TenantFlagError } from './config/flags.ts'
import { closest } from './config/suggest.ts'

type Command = { run(argv: string[]): Promise<number>; summary: string }
const COMMANDS: Record<string, () => Promise<Command>> = {
  init: () => import('./init/cli.ts'),
  generate: () => import('./generate/cli.ts'),
  audit: () => import('./enforcement/audit-cli.ts'),
  report: () => import('./ops/report-cli.ts'),
  status: () => import('./ops/status-cli.ts'),
  phase: () => import('./ops/phase-cli.ts'),
  scan: () => import('./scan/cli.ts'),
}

export const USAGE = `tenantfence <command> [options]

Commands:
  init [--schema FILE|DIR] [--force]               write a starter tenantfence.config.ts from the Prisma schema
  generate [--check] [--config FILE] [--out DIR]   write (or check) dashboards/ and alerts/ from the config
  audit [--config FILE] [--schema FILE|DIR]        list schema models the config does not classify, and stale entries
  report (--logs FILE | --loki URL) [--date D]     the daily violation report
  status (--prometheus URL | --metrics URL)        the terminal dashboards
  phase env <n> [--kubectl deployment/NAME]        phase n's flags, for where the app reads them
  phase rollback [--kubectl deployment/NAME]       the instant rollback, for where the app reads its flags
  phase check <n> --prometheus URL                 phase n's success criteria (exit 0 when all hold)
  scan [paths…] [--baseline FILE] [--format F]      find unscoped queries in the app's code (needs typescript)

Run \`tenantfence <command> --help\` (or \`tenantfence help <command>\`) for a command's options,
\`tenantfence --version\` for the version.`

export async function main(argv: string[]): Promise<number> {
  const [first, ...others] = argv
  // `tenantfence help phase env` is `tenantfence phase env --help`.
  const [name, ...rest] = first === 'help' && others.length ? [...others, '--help'] : argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE)
    return name ? 0 : 2
  }
  if (name === '--version' || name === '-v') {
    console.log(version())
    return 0
  }
  const load = COMMANDS[name]
  if (!load) {
    const near = closest(name, Object.keys(COMMANDS))
    console.error(`tenantfence: unknown command "${name}"${near ? `: did you mean "tenantfence ${near}"?` : '.'} Commands: ${Object.keys(COMMANDS).join(', ')}; \`tenantfence --help\` says what each does`)
    return 2
  }
  try {
    return await (await load()).run(rest)
  } catch (err) {
    // Expected failures get their message, never a stack trace.
    if (err instanceof TenantConfigError || err instanceof TenantFlagError || (err as { userFacing?: boolean }).userFacing) {
      const code = (err as { exitCode?: number }).exitCode
      console.error(`tenantfence ${name}: ${(err as Error).message}`)
      return code ?? 1
    }
    throw err
  }
}

/** The package's version, from its package.json (one folder up from src/ and from dist/). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

// Run when executed (node dist/cli.js, the `tenantfence` bin symlink, tsx src/cli.ts), not when imported by tests.
const invokedDirectly = (() => {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
  } catch {
    return false
  }
})()
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`tenantfence: internal error: ${(err as Error).stack ?? err}`)
      process.exit(70)
    },
  )
}
