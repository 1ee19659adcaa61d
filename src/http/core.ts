// The framework-agnostic part of every adapter (Express, Fastify, Web `Request` handlers):
// verify the bearer token, read and type-check the user and tenant claims, let the app resolve
// the tenant from where it keeps it (URL, header, membership table), and answer either "run the
// request as this tenant" or "refuse it with this status and body". Adapters stay thin.
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose'
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose'
import { isTenantId, tenantStorage, withoutTenantEnforcement, type TenantId } from '../enforcement/context.ts'

export { isTenantId, type TenantId }
export type IdType = 'number' | 'string' | 'none'

/** The verified token, as resolveTenant sees it. */
export interface TenantClaims {
  /** the user claim (`sub` by default), type-checked: never undefined */
  userId: string | number
  /** the tenant claim, when the token carries one */
  tenantId: TenantId | undefined
  /** every claim of the verified token */
  payload: JWTPayload
}

export interface TenantAuthOptions<Req> {
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
  /**
   * Convert claim values: `number` for integer ids, `string`, or `none` (as signed; default). One
   * value for both claims, or one each (`{ tenantId: 'number', userId: 'string' }` for UUID users).
   */
  idType?: IdType | { tenantId?: IdType; userId?: IdType }
  /**
   * Header that some clients send to name a tenant (default `x-tenant-id`; `false` to ignore).
   * Without resolveTenant, a header naming another tenant than the token's is refused with 403
   * TENANT_MISMATCH (serving the token's tenant instead would hide the client's bug).
   */
  tenantHeader?: string | false
  /**
   * The tenant of this request, for apps where a user belongs to several tenants and the request
   * names one (URL, header): check the membership and return the tenant id, or null/undefined
   * when the user is not a member (403 TENANT_FORBIDDEN). Replaces the token's tenant claim, which
   * is then optional. It runs before any tenant is known, outside any tenant context: a membership
   * lookup that pins the requested tenant (`membership.findFirst({ where: { userId, tenantId } })`)
   * passes the check as it is; one that does not, needs `resolveTenantBypass`.
   */
  resolveTenant?: (req: Req, claims: TenantClaims) => TenantId | null | undefined | PromiseLike<TenantId | null | undefined>
  /**
   * Run resolveTenant inside `withoutTenantEnforcement({ reason, actor: "user:<id>" })`: audited
   * (counted, logged with its stack), granted only while ALLOW_BYPASS is on, and in hardened mode
   * only if `reason` is one of the config's `bypass.reasons`. Use it when the lookup cannot pin
   * one tenant (listing a user's memberships). Default: no bypass.
   */
  resolveTenantBypass?: { reason: string }
}

/** Why a request was refused before it reached a route. */
export type AuthFailure = 'missing_token' | 'invalid_token' | 'token_expired' | 'missing_claim' | 'invalid_claim'

export type AuthOutcome =
  | { ok: true; tenantId: TenantId; userId: string | number }
  | { ok: false; status: 401 | 403; body: Record<string, string>; headers: Record<string, string> }

/**
 * Validate the options once and return the per-request step. `header(name)` reads a request
 * header (lower-case name) in the adapter's own way.
 */
export type Authenticate<Req> = (req: Req, header: (name: string) => string | undefined) => Promise<AuthOutcome>

export function tenantAuthenticator<Req>(options: TenantAuthOptions<Req>): Authenticate<Req> {
  const key = keyOf(options)
  const algorithms = options.algorithms ?? (options.secret !== undefined ? ['HS256'] : ['RS256', 'ES256', 'PS256', 'EdDSA'])
  const tenantClaim = options.claims?.tenantId ?? 'tenantId'
  const userClaim = options.claims?.userId ?? 'sub'
  const types = typeof options.idType === 'object' ? options.idType : { tenantId: options.idType, userId: options.idType }
  for (const [which, t] of Object.entries(types)) {
    if (t === undefined || ID_TYPES.includes(t)) continue
    const where = typeof options.idType === 'object' ? `idType.${which}` : 'idType'
    throw new Error(`tenantContext: ${where} is "${String(t)}"; valid: ${ID_TYPES.join(', ')}`)
  }
  const header = options.tenantHeader === false ? undefined : (options.tenantHeader ?? 'x-tenant-id').toLowerCase()
  const { resolveTenant, resolveTenantBypass } = options
  if (resolveTenant !== undefined && typeof resolveTenant !== 'function') {
    throw new Error('tenantContext: resolveTenant must be a function (req, claims) => tenant id')
  }
  if (resolveTenantBypass !== undefined && !(typeof resolveTenantBypass.reason === 'string' && resolveTenantBypass.reason.trim())) {
    throw new Error('tenantContext: resolveTenantBypass needs a reason (listed in the config\'s bypass.reasons for hardened mode)')
  }
  const verifyOptions = { algorithms, issuer: options.issuer, audience: options.audience, clockTolerance: options.clockTolerance }

  return async function authenticate(req, readHeader) {
    const auth = readHeader('authorization')
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null
    if (!m) return unauthenticated('missing_token')
    let payload: JWTPayload
    try {
      const verified = typeof key === 'function' ? await jwtVerify(m[1]!, key, verifyOptions) : await jwtVerify(m[1]!, key, verifyOptions)
      payload = verified.payload
    } catch (err) {
      return unauthenticated(err instanceof joseErrors.JWTExpired ? 'token_expired' : 'invalid_token')
    }
    const rawUser = claim(payload, userClaim)
    const userId = convert(rawUser, types.userId ?? 'none')
    if (rawUser === undefined || rawUser === null) return unauthenticated('missing_claim')
    if (userId === undefined || typeof userId === 'bigint') return unauthenticated('invalid_claim')
    const rawTenant = claim(payload, tenantClaim)
    const tokenTenant = convert(rawTenant, types.tenantId ?? 'none')
    if (rawTenant !== undefined && rawTenant !== null && tokenTenant === undefined) return unauthenticated('invalid_claim')

    if (resolveTenant) {
      const claims: TenantClaims = { userId, tenantId: tokenTenant, payload }
      // Before a tenant is known: outside any tenant context, or inside the configured audited bypass.
      const run = () => resolveTenant(req, claims)
      const bypass = resolveTenantBypass && { reason: resolveTenantBypass.reason, actor: `user:${String(userId)}` }
      const resolved = await tenantStorage.exit(async () => (bypass ? await withoutTenantEnforcement(bypass, run) : await run()))
      if (resolved === null || resolved === undefined) return refused('TENANT_FORBIDDEN')
      if (!isTenantId(resolved)) {
        const valid = 'a non-empty string, an integer or a bigint (or null when the user is not a member)'
        throw new TypeError(`tenantContext: resolveTenant returned ${describe(resolved)}; return ${valid}`)
      }
      return { ok: true, tenantId: resolved, userId }
    }
    if (tokenTenant === undefined) return unauthenticated('missing_claim')
    if (header) {
      const named = readHeader(header)
      if (typeof named === 'string' && named.trim() !== '' && named.trim() !== String(tokenTenant)) return refused('TENANT_MISMATCH')
    }
    return { ok: true, tenantId: tokenTenant, userId }
  }
}

const ID_TYPES: readonly IdType[] = ['number', 'string', 'none']

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`
  return v === null ? 'null' : typeof v
}

function unauthenticated(reason: AuthFailure): AuthOutcome {
  const challenge = reason === 'missing_token' ? 'Bearer' : 'Bearer error="invalid_token"'
  return { ok: false, status: 401, body: { error: 'UNAUTHENTICATED', reason }, headers: { 'WWW-Authenticate': challenge } }
}

function refused(error: 'TENANT_MISMATCH' | 'TENANT_FORBIDDEN'): AuthOutcome {
  return { ok: false, status: 403, body: { error }, headers: {} }
}

function keyOf(options: TenantAuthOptions<never>): Uint8Array | JWTVerifyGetKey {
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

/** A claim as an id of the wanted type, or undefined when it cannot be one (a float, an object, ""). */
function convert(v: unknown, idType: IdType): string | number | undefined {
  if (typeof v === 'string' && v.trim() === '') return undefined
  if (typeof v === 'number' && !Number.isSafeInteger(v)) return undefined
  if (typeof v !== 'string' && typeof v !== 'number') return undefined
  if (idType === 'string') return String(v)
  if (idType === 'number') {
    const n = typeof v === 'number' ? v : /^-?\d+$/.test(v.trim()) ? Number(v) : NaN
    return Number.isSafeInteger(n) ? n : undefined
  }
  return v
}

/** Paths that need no token: exact (`/healthz`), prefixes ending in `/*` (`/public/*`), or RegExps. */
export function publicMatcher(paths: Array<string | RegExp>): (path: string) => boolean {
  if (paths.length === 0) return () => false
  return (path) =>
    paths.some((p) => {
      if (p instanceof RegExp) return p.test(path)
      if (p.endsWith('/*')) return path === p.slice(0, -2) || path.startsWith(p.slice(0, -1))
      return path === p
    })
}
