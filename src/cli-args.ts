// node:util parseArgs for the commands, with usage errors as the CLI reports them: one line
// naming the bad option, the command's help, exit 2.
import { parseArgs } from 'node:util'
import { CliError } from './cli-error.ts'

export type OptionSpec = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>

/** Strict parse with no positionals; a bad option is a usage error (exit 2) followed by the help. */
export function parseCommandLine(argv: string[], options: OptionSpec, help: string): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${help}`, 2)
  }
}
