// Round 2 of issue 10's red team: the leaks found on the multi-team app schema (see isolation-app.test.ts
// for the setup and the both-ways judgement). Each case leaks on the plain client and tenantfence lets
// it through today: these tests fail until the core closes them (or the rule is changed, and the case
// moved, with its reason, to the files that pin the rule).
import { describe, expect, it, beforeEach } from 'vitest'
import { runWithTenant, stringifyFlags } from '../src/index.ts'
import { setFlags } from './helpers/isolation-db.ts'
import { bothWays } from './helpers/isolation-both-ways.ts'
import { useAppIsolation, appConfig, q, ids, A, NESTED_WRITE, REQUEST } from './helpers/isolation-app-env.ts'

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
    it("after such a link, the other team reads the request's document through its own tag", async () => {
      const linked = await runWithTenant(REQUEST, () =>
        app.db.prisma.document
          .update({ where: { id: 'd_a2', teamId: A }, data: { tags: { connect: { id: 't_b1' } } } })
          .then(
            () => 'linked',
            (e: { code?: string }) => e.code,
          ),
      )
      // what the other team sees through its own, proven tag (the plain client shows the same)
      const seen = await app.db.base.tag.findUnique({ where: { id: 't_b1' }, include: { documents: true } })
      expect({ linked, seenByGlobex: ids(seen.documents) }).toEqual({
        linked: 'TENANT_CONTEXT_REQUIRED',
        seenByGlobex: ['d_b1'],
      })
    })
  })
})
