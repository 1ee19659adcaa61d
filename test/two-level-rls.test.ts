// Two levels with rls: true on a real PostgreSQL (a server the run starts itself): the membership
// lookup runs under the context's settings, one per level, so a project table under row-level
// security (a project seen by its own id or its organisation's, as the generated policy has it)
// still shows a project of the organisation to its own lookup, and never one of another. The app role
// is subject to the policy; the owner seeds.
import { PrismaPg } from '@prisma/adapter-pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runWithTenant, tenantEnforcement } from '../src/index.ts'
import config from './fixtures/two-level-app/tenantfence.config.ts'
import { captureLogger, setFlags } from './helpers/fence.ts'
import { ORG_A, ORG_B, P_A1, P_B1, PROJECT_CONTEXT } from './helpers/two-level-app.ts'
import { openTwoLevelPostgres, twoLevelClientClass, type TwoLevelClient, type TwoLevelDatabase } from './helpers/two-level-client.ts'

const POLICY = `
ALTER TABLE "projects" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_project ON "projects" USING (
  "id" = current_setting('app.project_id', true) OR "org_id" = current_setting('app.organization_id', true));`

let db: TwoLevelDatabase
let app: TwoLevelClient
beforeAll(async () => {
  db = await openTwoLevelPostgres({ setupSql: POLICY })
  await db.prisma.organization.createMany({ data: [{ id: ORG_A, name: 'Acme' }, { id: ORG_B, name: 'Globex' }] })
  await db.prisma.project.createMany({ data: [{ id: P_A1, orgId: ORG_A, name: 'a1' }, { id: P_B1, orgId: ORG_B, name: 'b1' }] })
  const PrismaClient = await twoLevelClientClass('postgresql')
  app = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.pg!.url('app'), max: 2 }) })
})
afterAll(async () => {
  await app?.$disconnect()
  await db?.close()
})

describe('two levels with rls', () => {
  it('proves membership under the context settings: its own project passes, another organisation project is refused', async () => {
    setFlags({ TENANT_ENFORCEMENT_MODE: 'enforce' })
    const { logger } = captureLogger()
    const fence = tenantEnforcement({ config, logger, audit: false, rls: true })
    const prisma = app.$extends(fence)
    // the policy alone: the app role sees no project outside a context
    expect(await app.project.count()).toBe(0)
    expect(await runWithTenant(PROJECT_CONTEXT, () => prisma.project.findMany({ where: { orgId: ORG_A } }))).toEqual([{ id: P_A1, orgId: ORG_A, name: 'a1' }])
    const foreign = { ...PROJECT_CONTEXT, tenantIds: { organization: ORG_A, project: P_B1 } }
    await expect(runWithTenant(foreign, () => prisma.project.findMany({ where: { id: P_B1 } }))).rejects.toMatchObject({ code: 'TENANT_CONTEXT_REQUIRED', path: 'context' })
    fence.close()
  })
})
