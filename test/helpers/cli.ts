// Run `tenantfence <argv>` in-process through src/cli.ts's main and capture what it prints.
// A test about what a command does (its output, its exit code, its messages) runs it here: no tsx
// start-up (1-2 s each, far more on a busy machine). Keep one real spawn per concern for what only a
// process shows (the bin entry, exit codes through process.exit, stdout as a pipe): test/helpers/spawn.ts.
import { vi } from 'vitest'
import { main } from '../../src/cli.ts'

export interface CliRun {
  code: number
  stdout: string
  stderr: string
  /** set when main threw (an internal error: the CLI would print a stack) */
  thrown?: unknown
}

export async function runCli(argv: string[]): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString()
    return true
  })
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString()
    return true
  })
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (stdout += a.join(' ') + '\n'))
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (stderr += a.join(' ') + '\n'))
  try {
    return { code: await main(argv), stdout, stderr }
  } catch (thrown) {
    return { code: 70, stdout, stderr, thrown }
  } finally {
    out.mockRestore()
    err.mockRestore()
    log.mockRestore()
    error.mockRestore()
  }
}
