// An unexpected error as a log line may show it: its type, its code (Prisma's P2002, Node's
// ECONNREFUSED), the model and operation of the query that raised it, that query's sanitized
// arguments, and the app's frames of its stack. Never its message: Prisma's validation errors
// quote the query's arguments with their values (`where: { password: "hunter2" }`), and any
// error's message may hold what a user typed.
import { cleanStack } from './stack.ts'

export interface QueryOfError {
  model: string | undefined
  operation: string
  /** already sanitized (sanitizeArgs with the schema's names) */
  args: unknown
}

/** Errors raised by a query through the tenantfence extension, with what the query was. */
const queries = new WeakMap<object, QueryOfError>()

/** Remember which query raised this error (the extension calls it; the first note wins). */
export function noteQueryError(err: unknown, query: () => QueryOfError): void {
  if (err === null || typeof err !== 'object' || queries.has(err)) return
  try {
    queries.set(err, query())
  } catch {
    // a note is best effort: the error itself goes on unchanged
  }
}

const IDENT = /^[A-Za-z_$][\w$]{0,63}$/
/** Prisma's codes (P2002) and Node's (ECONNREFUSED, ERR_INVALID_ARG_TYPE): names, never data. */
const CODE = /^(?:P\d{4}|[A-Z][A-Z0-9_]{2,47})$/
/** `Invalid \`prisma.user.findMany()\` invocation`: the model and operation, identifiers only. */
const INVOCATION = /Invalid `(?:[\w$]+\.)*?([\w$]+)\.([\w$]+)\(\)` invocation/

export interface ErrorFields {
  type: string
  code?: string
  model?: string
  operation?: string
  args?: unknown
  stack: string
}

/** The fields of an unexpected error's log line (HTTP_UNHANDLED_ERROR and the like). */
export function errorFields(err: unknown): ErrorFields {
  if (err === null || typeof err !== 'object') return { type: typeof err, stack: '' }
  const e = err as { name?: unknown; code?: unknown; message?: unknown; stack?: unknown; meta?: { modelName?: unknown } }
  const ctor = (err as { constructor?: { name?: unknown } }).constructor?.name
  const type = typeof e.name === 'string' && IDENT.test(e.name) ? e.name : typeof ctor === 'string' && IDENT.test(ctor) ? ctor : 'Error'
  const out: ErrorFields = { type, stack: stackOf(e) }
  if (typeof e.code === 'string' && CODE.test(e.code)) out.code = e.code
  const noted = queries.get(err)
  const invocation = typeof e.message === 'string' ? INVOCATION.exec(e.message) : null
  const model = noted?.model ?? e.meta?.modelName ?? invocation?.[1]
  const operation = noted?.operation ?? invocation?.[2]
  if (typeof model === 'string' && IDENT.test(model)) out.model = model
  if (typeof operation === 'string' && IDENT.test(operation)) out.operation = operation
  if (noted) out.args = noted.args
  return out
}

/**
 * The app's frames only. The stack begins with the message (Prisma's spans many lines, with the
 * query's values): everything before the first frame is dropped before the frames are read, so a
 * value shaped like a frame (`at x (hunter2:1:1)`) inside the message cannot pass as one.
 */
function stackOf(e: { name?: unknown; message?: unknown; stack?: unknown }): string {
  if (typeof e.stack !== 'string') return ''
  let stack = e.stack
  const header = typeof e.message === 'string' ? `${typeof e.name === 'string' ? e.name : 'Error'}: ${e.message}` : undefined
  if (header !== undefined && stack.startsWith(header)) stack = stack.slice(header.length)
  else if (typeof e.message === 'string' && e.message !== '') {
    // a stack that does not start as expected (a subclass that changed its name): cut at the message's end
    const end = stack.lastIndexOf(e.message)
    stack = end >= 0 ? stack.slice(end + e.message.length) : ''
  }
  return cleanStack(stack)
}
