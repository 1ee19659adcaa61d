// node:util parseArgs for the commands, with usage errors as the CLI reports them: one line
// naming the bad option (and the closest valid one), the command's help, exit 2.
import { parseArgs } from 'node:util'
import { CliError } from './cli-error.ts'
import { closest } from './config/suggest.ts'

export type OptionSpec = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>
export type OptionValues = Record<string, string | boolean | undefined>

/** Strict parse; a bad option is a usage error (exit 2) followed by the help. `help` and `-h` are always accepted. */
export function parseCommand(argv: string[], options: OptionSpec, help: string, allowPositionals = false): { values: OptionValues; positionals: string[] } {
  const all: OptionSpec = { ...options, help: { type: 'boolean', short: 'h' } }
  try {
    const r = parseArgs({ args: argv, options: all, strict: true, allowPositionals })
    return { values: r.values as OptionValues, positionals: r.positionals }
  } catch (err) {
    throw usageError(err, argv, all, help)
  }
}

/** Strict parse with no positionals (values only). */
export function parseCommandLine(argv: string[], options: OptionSpec, help: string): OptionValues {
  return parseCommand(argv, options, help).values
}

/** A parseArgs error as a usage error: the bad option with the closest valid one, then the help (exit 2). */
export function usageError(err: unknown, argv: string[], options: Record<string, unknown>, help: string): CliError {
  return new CliError(`${usageMessage(err as Error & { code?: string }, argv, options)}\n\n${help}`, 2)
}

function usageMessage(err: Error & { code?: string }, argv: string[], options: Record<string, unknown>): string {
  const names = Object.keys(options).map((n) => `--${n}`)
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // parseArgs names the token as given ('--fromat' or '-x'); argv has it too, with any =value.
    const given = /'([^']+)'/.exec(err.message)?.[1] ?? argv.find((a) => a.startsWith('-')) ?? '?'
    const near = closest(given.replace(/=.*/, ''), names)
    return `unknown option ${given}${near ? `: did you mean ${near}?` : ''} (options: ${names.join(', ')})`
  }
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const extra = /'([^']+)'/.exec(err.message)?.[1]
    return `unexpected argument${extra ? ` "${extra}"` : ''}`
  }
  // ERR_PARSE_ARGS_INVALID_OPTION_VALUE: "Option '--logs <value>' argument missing", or a value given to a switch.
  const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(err.message)
  if (missing) return `${missing[1]} needs a value`
  return err.message.split('. To specify')[0]!
}

/** A value outside its set: names it, the closest valid one and all of them. */
export function invalidValue(option: string, value: string, valid: readonly string[]): CliError {
  const near = closest(value, valid)
  return new CliError(`${option} ${value}: expected one of ${valid.join(', ')}${near ? `; did you mean ${near}?` : ''}`, 2)
}
