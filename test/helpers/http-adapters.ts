// Shared by the adapter tests (Express, Fastify, Web): tokens, and the scenarios each framework
// must pass on a real Prisma client with tenantfence in enforce.
import { SignJWT } from 'jose'

export const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long'

/** A token with exactly these claims (no `sub` unless given). */
export function token(claims: Record<string, unknown>, sub?: string): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h')
  if (sub !== undefined) jwt = jwt.setSubject(sub)
  return jwt.sign(new TextEncoder().encode(SECRET))
}

/** Seeded users (test/helpers/fence.ts): 1 and 2 in tenant 1, 3 in tenant 2. */
export const ALICE = { id: 1, tenantId: 1 }
export const CAROL = { id: 3, tenantId: 2 }

/** The label set of http_requests_total, as "route status" strings, sorted. */
export async function requestSeries(registry: { getSingleMetric(name: string): unknown }): Promise<string[]> {
  const metric = registry.getSingleMetric('http_requests_total') as { get(): Promise<{ values: Array<{ labels: Record<string, unknown> }> }> } | undefined
  if (!metric) return []
  return (await metric.get()).values.map((v) => `${String(v.labels.route)} ${String(v.labels.status)}`).sort()
}
