// The scan reads the app with the TypeScript compiler API. `typescript` is a peer dependency of
// `tenantfence scan` only: the extension never loads it, and an app without it gets a clear
// error naming the install command instead of a module-not-found stack.
import { createRequire } from 'node:module'
import type * as TS from 'typescript'

export type TypeScript = typeof TS

/** The compiler API majors whose JavaScript API the scan is written against (7 is the native port, without it). */
export const SUPPORTED_TYPESCRIPT = [5, 6] as const

export class ScanSetupError extends Error {
  readonly userFacing = true
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message)
    this.name = 'ScanSetupError'
  }
}

export async function loadTypeScript(): Promise<TypeScript> {
  let ts: TypeScript
  try {
    // require, not import(): typescript is one large CommonJS file, and import() would first
    // lex all of it for its export names (about a second).
    ts = createRequire(import.meta.url)('typescript') as TypeScript
  } catch {
    throw new ScanSetupError('tenantfence scan needs the "typescript" package (5.x or 6.x): npm install --save-dev typescript@5')
  }
  return checkTypeScript(ts)
}

/** Refuse a compiler whose JavaScript API the scan was not written against. */
export function checkTypeScript(ts: TypeScript): TypeScript {
  const major = Number(String(ts.version).split('.')[0])
  if (!(SUPPORTED_TYPESCRIPT as readonly number[]).includes(major)) {
    throw new ScanSetupError(`tenantfence scan needs typescript ${SUPPORTED_TYPESCRIPT.map((m) => `${m}.x`).join(' or ')} (its JavaScript compiler API); found ${ts.version}: npm install --save-dev typescript@5`)
  }
  return ts
}
