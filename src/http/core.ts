// The framework-agnostic part of every adapter (Express, Fastify, Web `Request` handlers):
// verify the bearer token, read and type-check the user and tenant claims, let the app resolve
// the tenant from where it keeps it (URL, header, membership table), and answer either "run the
// request as this tenant" or "refuse it with this status and body". Adapters stay thin.
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose'
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose'
import { assertTenantContext, isTenantId, tenantStorage, withoutTenantEnforcement } from '../enforcement/context.ts'
import type { TenantContext, TenantId, TenantStore } from '../enforcement/context.ts'

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
  /**
   * Seconds of clock skew tolerated on exp, nbf and iat (default 60: clocks synchronised by NTP
   * stay within a second; a minute absorbs a drifting VM without keeping dead tokens alive long).
   */
  clockTolerance?: number
  /**
   * Longest a token may live, in seconds (default 86 400: one day, the longest access-token
   * lifetime common identity providers issue; theirs are 5 minutes to 24 hours). A token issued
   * (`iat`) longer ago is expired; one whose `exp` lies further ahead is refused as invalid (a
   * token that would outlive the bound). `false` lifts the bound (the app checks age itself).
   */
  maxTokenAge?: number | false
  /**
   * Refuse tokens without `exp` (default true): a stolen token without one works forever. `false`
   * accepts them (then `maxTokenAge` needs `iat` to bound them); say why where you set it.
   */
  requireExp?: boolean
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
   * Two levels of tenancy (config.levels): return `{ tenantIds: { organization, team }, scope? }`
   * (docs/levels.md); validated as runWithTenant validates them.
   */
  resolveTenant?: (req: Req, claims: TenantClaims) => ResolvedTenant | null | undefined | PromiseLike<ResolvedTenant | null | undefined>
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

/** What resolveTenant returns: the tenant, or (two levels) one id per level and the scope. */
export type ResolvedTenant = TenantId | { readonly tenantIds: Readonly<Record<string, TenantId>>; readonly scope?: string }

/** The tenant part of an authenticated request: one tenant, or one id per level (two levels). */
export type RequestTenant = { tenantId: TenantId } | { tenantId?: undefined; tenantIds: Readonly<Record<string, TenantId>>; scope?: string }

export type AuthOutcome =
  | ({ ok: true; userId: string | number } & RequestTenant)
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
  const skew = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE
  if (!(Number.isFinite(skew) && skew >= 0 && skew <= 3600)) {
    throw new Error(`tenantContext: clockTolerance is ${String(skew)}; valid: seconds from 0 to 3600 (default ${DEFAULT_CLOCK_TOLERANCE})`)
  }
  const maxAge = options.maxTokenAge ?? DEFAULT_MAX_TOKEN_AGE
  if (maxAge !== false && !(Number.isFinite(maxAge) && maxAge > 0)) {
    throw new Error(`tenantContext: maxTokenAge is ${String(maxAge)}; valid: seconds above 0 (default ${DEFAULT_MAX_TOKEN_AGE}), or false`)
  }
  const requiredClaims = options.requireExp ?? true ? ['exp'] : []
  const verifyOptions = { algorithms, issuer: options.issuer, audience: options.audience, clockTolerance: skew, requiredClaims }

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
    const age = tokenAge(payload, skew, maxAge)
    if (age !== undefined) return unauthenticated(age)
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
      if (isLevelIds(resolved)) {
        // The same rule as runWithTenant's (a bad id is the app's bug: a 500 naming nothing to the client).
        const tenant = { tenantIds: resolved.tenantIds, ...(resolved.scope === undefined ? undefined : { scope: resolved.scope }) }
        assertTenantContext(tenant)
        return { ok: true, ...tenant, userId }
      }
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

/** resolveTenant's two-level answer: a plain object with tenantIds (anything else is judged as one id). */
function isLevelIds(v: unknown): v is { tenantIds: Readonly<Record<string, TenantId>>; scope?: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'tenantIds' in v
}

/**
 * The store every adapter runs an authenticated request in: its context checked by
 * assertTenantContext (the rule runWithTenant applies) and frozen, so no adapter can enter a
 * context that runWithTenant would refuse, and no handler can change the tenant mid-request.
 */
export function requestStore(
  outcome: { userId: string | number } & RequestTenant,
  method: string,
  endpoint: TenantContext['endpoint'],
): TenantStore {
  const context: TenantContext =
    outcome.tenantId !== undefined
      ? { tenantId: outcome.tenantId, userId: outcome.userId, method, endpoint }
      : { tenantIds: Object.freeze({ ...outcome.tenantIds }), ...(outcome.scope === undefined ? undefined : { scope: outcome.scope }), userId: outcome.userId, method, endpoint }
  assertTenantContext(context)
  return { context: Object.freeze(context), bypass: undefined }
}
export const DEFAULT_CLOCK_TOLERANCE = 60
export const DEFAULT_MAX_TOKEN_AGE = 86_400

/**
 * The checks jose leaves to the caller: an `iat` in the future (beyond the skew) is forged or
 * from a broken clock; an `iat` older than maxAge is expired; an `exp` further ahead than maxAge
 * is a token that would outlive the bound (the only bound of a token without `iat`).
 */
function tokenAge(payload: JWTPayload, skew: number, maxAge: number | false): AuthFailure | undefined {
  const now = Math.floor(Date.now() / 1000)
  const { iat, exp } = payload
  if (iat !== undefined && (typeof iat !== 'number' || iat > now + skew)) return 'invalid_token'
  if (maxAge === false) return undefined
  if (typeof iat === 'number' && now - iat > maxAge + skew) return 'token_expired'
  if (typeof exp === 'number' && exp - now > maxAge + skew) return 'invalid_token'
  return undefined
}

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

/**
 * A claim as an id of the wanted type, or undefined when it cannot be one. The result passes
 * isTenantId, runWithTenant's rule: -1, "-1", -0, " 1" (never trimmed), a float, an object are
 * refused whatever idType says. `number` takes only canonical digit strings ("7", not "07" or "7 ").
 */
function convert(v: unknown, idType: IdType): string | number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined
  let id: string | number = v
  if (idType === 'string') id = typeof v === 'number' ? (Number.isSafeInteger(v) && !Object.is(v, -0) ? String(v) : '') : v
  else if (idType === 'number' && typeof v === 'string') id = /^(0|[1-9]\d*)$/.test(v) ? Number(v) : NaN
  return isTenantId(id) ? id : undefined
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
