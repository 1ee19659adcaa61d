/** An error whose message is meant for the CLI user as is (bad input, unreachable URL). */
export class CliError extends Error {
  readonly userFacing = true
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message)
    this.name = 'CliError'
  }
}

/** Minimal flag parser for the CLI: --name value, --name=value, --bool, positionals. */
export function parseArgs(argv: string[], spec: { strings?: string[]; booleans?: string[] }): { values: Record<string, string | undefined>; bools: Record<string, boolean>; positionals: string[] } {
  const values: Record<string, string | undefined> = {}
  const bools: Record<string, boolean> = {}
  const positionals: string[] = []
  const strings = new Set(spec.strings ?? [])
  const booleans = new Set(spec.booleans ?? [])
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      positionals.push(arg)
      continue
    }
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
    if (booleans.has(rawName)) {
      bools[rawName] = true
    } else if (strings.has(rawName)) {
      const value = inline ?? argv[++i]
      if (value === undefined || value.startsWith('--')) throw new CliError(`--${rawName} needs a value`, 2)
      values[rawName] = value
    } else {
      const known = [...strings, ...booleans].map((n) => `--${n}`)
      throw new CliError(`unknown option --${rawName}${known.length ? ` (options: ${known.join(', ')})` : ''}`, 2)
    }
  }
  return { values, bools, positionals }
}
