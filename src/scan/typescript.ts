// The scan reads the app with the TypeScript compiler API. `typescript` is a peer dependency of
// `tenantfence scan` only: the extension never loads it, and an app without it gets a clear
// error naming the install command instead of a module-not-found stack.
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
  let mod: { default?: TypeScript } & Partial<TypeScript>
  try {
    mod = (await import('typescript')) as { default?: TypeScript } & Partial<TypeScript>
  } catch {
    throw new ScanSetupError('tenantfence scan needs the "typescript" package (5.x or 6.x): npm install --save-dev typescript@5')
  }
  const ts = (mod.default ?? mod) as TypeScript
  const major = Number(String(ts.version).split('.')[0])
  if (!(SUPPORTED_TYPESCRIPT as readonly number[]).includes(major)) {
    throw new ScanSetupError(`tenantfence scan needs typescript ${SUPPORTED_TYPESCRIPT.join(' or ')}.x (its JavaScript compiler API); found ${ts.version}: npm install --save-dev typescript@5`)
  }
  return ts
}
