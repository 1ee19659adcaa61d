// The demo's enforced client: the plain client extended with tenantEnforcement. The extension
// only adds a query hook, so the extended client keeps the plain client's model API (typed so).
import { tenantEnforcement, type TenantEnforcementHandle, type TenantEnforcementOptions } from '../enforcement/extension.ts'
import type { PrismaClient } from './generated/prisma/client.ts'

export interface EnforcedClient {
  prisma: PrismaClient
  enforcement: TenantEnforcementHandle
}

export function enforcedClient(base: PrismaClient, options: TenantEnforcementOptions): EnforcedClient {
  const extension = tenantEnforcement(options)
  return { prisma: base.$extends(extension) as unknown as PrismaClient, enforcement: extension }
}
