// The nightly job: deletes expired tokens of every tenant, so it must run without tenant
// enforcement. Its bypass names a documented reason (config.bypass.reasons), so it is allowed in
// hardened mode too, and every run is counted and logged.
import { withoutTenantEnforcement } from '../enforcement/context.ts'
import type { PrismaClient } from './generated/prisma/client.ts'

export async function nightlyCleanup(prisma: PrismaClient, now = new Date()): Promise<{ refreshTokens: number; passwordResetTokens: number }> {
  return withoutTenantEnforcement({ reason: 'nightly_cleanup', actor: 'cron:nightly-cleanup' }, async () => {
    const refresh = await prisma.refreshToken.deleteMany({ where: { expiresAt: { lt: now } } })
    const reset = await prisma.passwordResetToken.deleteMany({ where: { expiresAt: { lt: now } } })
    return { refreshTokens: refresh.count, passwordResetTokens: reset.count }
  })
}
