// Line sources for the report: a file or stdin, gzip or plain (told apart by the gzip magic
// bytes, whatever the file is called), streamed line by line.
import { createReadStream } from 'node:fs'
import { access, constants, stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { CliError } from '../../cli-error.ts'

const GZIP_MAGIC = [0x1f, 0x8b]

/** The input's bytes, gunzipped when they start with gzip's magic bytes. */
async function decoded(input: Readable): Promise<{ stream: Readable; gzip: boolean }> {
  const chunks = input[Symbol.asyncIterator]()
  const first = await chunks.next()
  if (first.done) return { stream: Readable.from([]), gzip: false }
  const head = first.value as Buffer
  const all = Readable.from(
    (async function* () {
      yield head
      for (let c = await chunks.next(); !c.done; c = await chunks.next()) yield c.value as Buffer
    })(),
  )
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) return { stream: all, gzip: false }
  const gunzip = createGunzip()
  all.once('error', (err) => gunzip.destroy(err))
  return { stream: all.pipe(gunzip), gzip: true }
}

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
  const raw = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 16 })
  let gzip = false
  try {
    const input = await decoded(raw)
    gzip = input.gzip
    input.stream.setEncoding('utf8')
    const rl = createInterface({ input: input.stream, crlfDelay: Infinity })
    try {
      for await (const line of rl) yield line
    } finally {
      rl.close()
    }
  } catch (err) {
    if (err instanceof CliError) throw err
    throw new CliError(`--logs ${path}: read failed${gzip ? ' (gzip)' : ''} (${(err as Error).message})`)
  }
}
