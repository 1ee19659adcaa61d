// Demo JWTs: HS256 with a demo secret (never use it anywhere else).
import { SignJWT } from 'jose'

export const DEMO_JWT_SECRET = process.env.DEMO_JWT_SECRET ?? 'tenantfence-demo-secret-do-not-use-in-production'

/** A token for this user of this tenant, valid for `ttlSeconds` (negative: already expired). */
export async function signDemoToken(user: { id: number; tenantId: number }, options: { secret?: string; ttlSeconds?: number; tenantId?: unknown } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const ttl = options.ttlSeconds ?? 3600
  return new SignJWT({ tenantId: options.tenantId ?? user.tenantId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(user.id))
    .setIssuedAt(ttl < 0 ? now + ttl - 60 : now)
    .setExpirationTime(now + ttl)
    .sign(new TextEncoder().encode(options.secret ?? DEMO_JWT_SECRET))
}
