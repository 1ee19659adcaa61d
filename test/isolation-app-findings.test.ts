// Round 2 of issue 10's red team: what attacking the core on the multi-team app schema found (see
// isolation-app.test.ts for the setup and the both-ways judgement). Each leak below leaks on the plain
// client and tenantfence lets it through today; the last describe is a promise of docs/isolation.md
// that is not kept (an over-blocking). These tests fail until the core closes them (or the rule is
// changed, and the case moved, with its reason, to the files that pin the rule). The same leaks exist
// on the demo schema: the shapes are repeated there at the end.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runWithTenant, stringifyFlags } from '../src/index.ts'
import {
  isolationDatabase,
  setFlags,
  stable,
  config as demoConfig,
  type IsolationDb,
} from './helpers/isolation-db.ts'
import { bothWays } from './helpers/isolation-both-ways.ts'
import {
  useAppIsolation,
  appConfig,
  q,
  ids,
  A,
  G,
  ENFORCE,
  NESTED_WRITE,
  REQUEST,
  rolledBack,
} from './helpers/isolation-app-env.ts'
import { openTruthDatabases, snapshot, type TruthDatabases } from './helpers/isolation-truth.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
const app = useAppIsolation()

describe('leaks the core lets through today (round 2: these fail until the core closes them)', () => {
  // 1. A global row's referenced key changed: ON UPDATE CASCADE (Prisma's default onUpdate) rewrites the
  //    foreign keys of every team's rows that reference it; with Restrict the error would be an oracle.
  //    The rule covers deletion of global rows (onDelete) but not updates of the keys relations reference.
  bothWays(app.env, {
    blocked: [
      {
        name: "a plan's id changed (rewrites team_acme's planId)",
        run: q('Plan', 'update', { where: { id: 'plan_free' }, data: { id: 'plan_new' } }),
        violation: NESTED_WRITE,
        model: 'Team',
      },
      {
        name: "a user's id changed (rewrites memberships, documents and comments of other teams)",
        run: q('User', 'update', { where: { id: 'u_carol' }, data: { id: 'u_carol2' } }),
        violation: NESTED_WRITE,
      },
      {
        name: 'a plan id changed by updateMany',
        run: q('Plan', 'updateMany', { where: { name: 'pro' }, data: { id: 'plan_y' } }),
        violation: NESTED_WRITE,
      },
      {
        name: "a plan id changed through the request's own team (nested update of a global row)",
        run: q('Team', 'update', { where: { id: A }, data: { plan: { update: { id: 'plan_zz' } } } }),
        violation: NESTED_WRITE,
      },
    ],
  })
  bothWays(
    app.env,
    {
      blocked: [
        {
          name: "outside a request too: a plan's id changed",
          run: q('Plan', 'update', { where: { id: 'plan_pro' }, data: { id: 'plan_x' } }),
          violation: NESTED_WRITE,
        },
      ],
    },
    { context: false },
  )

  // 2. A globally unique column of a tenant-owned model written with a value another team holds: the
  //    unique-constraint error tells that the row exists (with integer or natural keys, an enumeration).
  bothWays(app.env, {
    blocked: [
      {
        name: "a document created with another team's document id (P2002 tells d_b1 exists)",
        run: q('Document', 'create', { data: { id: 'd_b1', teamId: A, title: 't' } }),
      },
      {
        name: "a document's id changed to another team's document id",
        run: q('Document', 'update', { where: { id: 'd_a3', teamId: A }, data: { id: 'd_b2' } }),
      },
    ],
  })

  // 3. Selective mode judges a cross-team link on the linked model only. Linking the request's Document
  //    (enforced) to another team's Tag (logged) is only logged, and from then on the other team reads
  //    the request's document through its own tag, a proven chain that even enforce lets through.
  describe('selective mode', () => {
    beforeEach(() => setFlags(stringifyFlags(appConfig.phases[2]!.flags)))
    bothWays(app.env, {
      blocked: [
        {
          name: "the request's document linked to another team's tag (the Document's rows cross, the finding is on Tag)",
          run: q('Document', 'update', {
            where: { id: 'd_a2', teamId: A },
            data: { tags: { connect: { id: 't_b1' } } },
          }),
          model: ['Document', 'Tag'],
        },
      ],
    })
    it("after such a link, the other team reads the request's document through its own tag, in enforce too", async () => {
      const linked = await runWithTenant(REQUEST, () =>
        app.db.prisma.document
          .update({ where: { id: 'd_a2', teamId: A }, data: { tags: { connect: { id: 't_b1' } } } })
          .then(
            () => 'linked',
            (e: { code?: string }) => e.code,
          ),
      )
      setFlags(ENFORCE)
      // team_Globex reads its own tag: a proven parent, so tenantfence lets the include through
      const seen = await runWithTenant({ ...REQUEST, tenantId: G, userId: 'u_carol' }, () =>
        app.db.prisma.tag.findUnique({
          where: { team_slug: { teamId: G, slug: 'urgent' } },
          include: { documents: true },
        }),
      )
      expect({ linked, seenByGlobex: ids(seen.documents) }).toEqual({
        linked: 'TENANT_CONTEXT_REQUIRED',
        seenByGlobex: ['d_b1'],
      })
    })
  })
})

describe('a promise of docs/isolation.md not kept: lookups inside a transaction see the rows it created', () => {
  // "Inside a transaction the lookup runs in that transaction (a row created earlier in it is found)":
  // true of an interactive transaction (isolation-app-global.test.ts), not of a batch, whose lookups do
  // not see the rows its earlier queries create (unverified_reference: over-blocking, not a leak).
  bothWays(app.env, {
    passes: [
      {
        name: 'a batch transaction creating a folder with its id, then a subfolder referencing it',
        run: (p) =>
          p.$transaction([
            p.folder.create({ data: { id: 'f_new', teamId: A, name: 'n' } }),
            p.folder.create({ data: { teamId: A, name: 'c', parentId: 'f_new' } }),
          ]),
        check: (r) => expect(r.map((f: { parentId: string | null }) => f.parentId)).toEqual([null, 'f_new']),
      },
      {
        name: 'the same in an interactive transaction (passes today)',
        run: (p) =>
          rolledBack(p, async (tx) => [
            await tx.folder.create({ data: { id: 'f_new', teamId: A, name: 'n' } }),
            await tx.folder.create({ data: { teamId: A, name: 'c', parentId: 'f_new' } }),
          ]),
        check: (r) => expect(r.map((f: { parentId: string | null }) => f.parentId)).toEqual([null, 'f_new']),
      },
    ],
  })
})

describe('the same leaks on the demo schema', () => {
  let demo: IsolationDb
  let demoTruth: TruthDatabases
  let seed: string
  beforeAll(async () => {
    demo = await isolationDatabase(ENFORCE)
    demoTruth = await openTruthDatabases(demo.base)
    seed = stable(await snapshot(demo.base))
  })
  afterAll(async () => {
    await demoTruth?.close()
    await demo?.close()
  })
  beforeEach(async () => {
    if (stable(await snapshot(demo.base)) !== seed) await demo.reset()
  })
  const env = () => ({ db: demo, truth: demoTruth })
  bothWays(env, {
    blocked: [
      {
        name: "a permission's id changed (ON UPDATE CASCADE rewrites tenant 2's RolePermission)",
        run: q('Permission', 'update', { where: { id: 3 }, data: { id: 30 } }),
        violation: NESTED_WRITE,
      },
      {
        name: "a user created with tenant 2's user id (P2002 tells user 3 exists: integer ids enumerate)",
        run: q('User', 'create', { data: { id: 3, tenantId: 1, email: 'probe@acme.test' } }),
      },
    ],
  })
  describe('selective mode (phase 2: User enforced, SecurityAlert logged)', () => {
    beforeEach(() => setFlags(stringifyFlags(demoConfig.phases[2]!.flags)))
    bothWays(env, {
      blocked: [
        {
          name: "tenant 2's security alert linked to tenant 1's user (tenant 2 then reads the user through its alert)",
          run: q('User', 'update', { where: { id: 1, tenantId: 1 }, data: { securityAlerts: { connect: { id: 2 } } } }),
          model: ['User', 'SecurityAlert'],
        },
      ],
    })
  })
})
