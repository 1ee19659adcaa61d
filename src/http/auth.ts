// JWT verification (jose) and the request's tenant context. The tenant comes from a verified
// token only: a header or parameter never chooses the tenant.
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { tenantStorage, type TenantContext } from '../enforcement/context.ts'
import { routeTemplate, trackRoute } from './route.ts'

export interface TenantContextOptions {
  /** HS256 shared secret (string is UTF-8 encoded). Give this or `jwks`. */
  secret?: string | Uint8Array
  /** A JWKS: its URL (fetched and cached by jose's createRemoteJWKSet) or the key set itself. */
  jwks?: string | URL | JSONWebKeySet
  /** Accepted algorithms (default: HS256 with `secret`; RS256, ES256, PS256, EdDSA with `jwks`). */
  algorithms?: string[]
  issuer?: string | string[]
  audience?: string | string[]
  /** Seconds of clock skew tolerated on exp/nbf (default 0). */
  clockTolerance?: number
  /** Claim names (default `tenantId` and `sub`). A dotted name reads a nested claim (`app.tenant`). */
  claims?: { tenantId?: string; userId?: string }
  /** Convert claim values: `number` for integer ids (the demo's Int columns), `string`, or `none` (as signed). Default `none`. */
  idType?: 'number' | 'string' | 'none'
  /**
   * Requests that need no token and get no tenant context: exact paths (`/healthz`), prefixes
   * ending in `/*` (`/public/*`) or RegExps, tested against `req.path`. Routes mounted before
   * this middleware are public as well.
   */
  publicPaths?: Array<string | RegExp>
  /**
   * Header that some clients send to name a tenant (default `x-tenant-id`; `false` to ignore).
   * When it names another tenant than the token's, the request is refused with 403
   * TENANT_MISMATCH: serving the token's tenant instead would hide the client's bug.
   */
  tenantHeader?: string | false
}

/** Why a request was refused before it reached a route. */
export type AuthFailure = 'missing_token' | 'invalid_token' | 'token_expired' | 'missing_claim'

/**
 * Express middleware: verify the bearer token, then run the rest of the request inside the
 * tenant context (AsyncLocalStorage), so every Prisma query awaited by a handler sees it.
 * 401 `{ error: "UNAUTHENTICATED", reason }` for a missing, invalid or expired token;
 * 403 `{ error: "TENANT_MISMATCH" }` when the tenant header names another tenant.
 */
export function tenantContext(options: TenantContextOptions): RequestHandler {
  const key = keyOf(options)
  const algorithms = options.algorithms ?? (options.secret !== undefined ? ['HS256'] : ['RS256', 'ES256', 'PS256', 'EdDSA'])
  const tenantClaim = options.claims?.tenantId ?? 'tenantId'
  const userClaim = options.claims?.userId ?? 'sub'
  const idType = options.idType ?? 'none'
  const isPublic = publicMatcher(options.publicPaths ?? [])
  const header = options.tenantHeader === false ? undefined : (options.tenantHeader ?? 'x-tenant-id').toLowerCase()
  const verifyOptions = { algorithms, issuer: options.issuer, audience: options.audience, clockTolerance: options.clockTolerance }

  return async function tenantContextMiddleware(req: Request, res: Response, next: NextFunction) {
    if (isPublic(req.path)) return next()
    const auth = req.headers.authorization
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null
    if (!m) return refuse(res, 'missing_token')
    let payload: JWTPayload
    try {
      payload = (typeof key === 'function' ? await jwtVerify(m[1]!, key, verifyOptions) : await jwtVerify(m[1]!, key, verifyOptions)).payload
    } catch (err) {
      return refuse(res, err instanceof joseErrors.JWTExpired ? 'token_expired' : 'invalid_token')
    }
    const tenantId = convert(claim(payload, tenantClaim), idType)
    const userId = convert(claim(payload, userClaim), idType)
    if (tenantId === undefined) return refuse(res, 'missing_claim')
    if (header) {
      const named = req.headers[header]
      if (typeof named === 'string' && named.trim() !== '' && named.trim() !== String(tenantId)) {
        res.status(403).json({ error: 'TENANT_MISMATCH' })
        return
      }
    }
    trackRoute(req)
    const context: TenantContext = { tenantId, userId, method: req.method, endpoint: () => routeTemplate(req) }
    res.locals.tenant = context
    tenantStorage.run({ context, bypass: undefined }, next)
  }
}

function refuse(res: Response, reason: AuthFailure): void {
  res.setHeader('WWW-Authenticate', reason === 'missing_token' ? 'Bearer' : `Bearer error="invalid_token"`)
  res.status(401).json({ error: 'UNAUTHENTICATED', reason })
}

function keyOf(options: TenantContextOptions): Uint8Array | JWTVerifyGetKey {
  if ((options.secret === undefined) === (options.jwks === undefined)) throw new Error('tenantContext: give exactly one of `secret` (HS256) or `jwks`')
  if (options.secret !== undefined) {
    const secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret
    if (secret.length < 32) throw new Error('tenantContext: an HS256 secret must be at least 32 bytes')
    return secret
  }
  const jwks = options.jwks!
  return typeof jwks === 'string' || jwks instanceof URL ? createRemoteJWKSet(new URL(jwks)) : createLocalJWKSet(jwks)
}

function claim(payload: JWTPayload, name: string): unknown {
  let v: unknown = payload
  for (const part of name.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined
  return v
}

function convert(v: unknown, idType: 'number' | 'string' | 'none'): string | number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined
  if (typeof v === 'string' && v.trim() === '') return undefined
  if (idType === 'string') return String(v)
  if (idType === 'number') {
    const n = typeof v === 'number' ? v : /^-?\d+$/.test(v.trim()) ? Number(v) : NaN
    return Number.isSafeInteger(n) ? n : undefined
  }
  return v
}

function publicMatcher(paths: Array<string | RegExp>): (path: string) => boolean {
  if (paths.length === 0) return () => false
  return (path) =>
    paths.some((p) => {
      if (p instanceof RegExp) return p.test(path)
      if (p.endsWith('/*')) return path === p.slice(0, -2) || path.startsWith(p.slice(0, -1))
      return path === p
    })
}
