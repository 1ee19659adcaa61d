// Line sources for the report: a file or stdin, streamed line by line.
import { createReadStream } from 'node:fs'
import { access, constants, stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { CliError } from '../../cli-error.ts'

export async function* fileLines(path: string): AsyncGenerator<string> {
  if (path !== '-') {
    try {
      await access(path, constants.R_OK)
      if ((await stat(path)).isDirectory()) throw new CliError(`--logs ${path}: is a directory, not a log file`)
    } catch (err) {
      if (err instanceof CliError) throw err
      throw new CliError(`--logs ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
  const input = path === '-' ? process.stdin : createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 16 })
  const rl = createInterface({ input, crlfDelay: Infinity })
  try {
    for await (const line of rl) yield line
  } catch (err) {
    throw new CliError(`--logs ${path}: read failed (${(err as Error).message})`)
  } finally {
    rl.close()
  }
}
