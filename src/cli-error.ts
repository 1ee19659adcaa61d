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

