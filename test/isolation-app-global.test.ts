// Round 2 of issue 10's red team on the multi-team app schema (see isolation-app.test.ts for the
// setup and the both-ways judgement): the global User reached from tenant rows and tenant rows reached
// from it, membership-based queries, the global Plan and its cascades, Comment scoped through its
// document, cursors and named compound uniques, the tenant model's own rows, operations, queries
// outside any request (jobs, signups) and selective mode (phase 2 flags).
import { describe, expect, it, beforeEach } from 'vitest'
import { runWithTenant, stringifyFlags } from '../src/index.ts'
import { setFlags } from './helpers/isolation-db.ts'
import { bothWays } from './helpers/isolation-both-ways.ts'
import {
  useAppIsolation,
  appConfig,
  q,
  ids,
  rolledBack,
  A,
  G,
  L,
  MISMATCH,
  NESTED_READ,
  NESTED_WRITE,
  RELATION_FILTER,
  REQUEST,
} from './helpers/isolation-app-env.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
const app = useAppIsolation()

describe('membership-based queries and the global User (a person in several teams)', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: 'members of the team with all their memberships (alice is in team_Globex too)',
        run: q('User', 'findMany', { where: { memberships: { some: { teamId: A } } }, include: { memberships: true } }),
        violation: NESTED_READ,
        model: 'Membership',
      },
      {
        name: 'members of the team with a count of all their memberships',
        run: q('User', 'findMany', {
          where: { memberships: { some: { teamId: A } } },
          select: { id: true, _count: { select: { memberships: true } } },
        }),
        violation: NESTED_READ,
      },
      {
        name: 'users whose every membership is in the team (an oracle over the others)',
        run: q('User', 'findMany', { where: { memberships: { every: { teamId: A } } } }),
        violation: RELATION_FILTER,
      },
      {
        name: 'users with no membership in another team',
        run: q('User', 'findMany', { where: { memberships: { none: { teamId: G } } } }),
        violation: MISMATCH,
      },
      {
        name: "documents with their author's memberships everywhere",
        run: q('Document', 'findMany', {
          where: { teamId: A },
          include: { author: { include: { memberships: true } } },
        }),
        violation: NESTED_READ,
      },
      {
        name: "documents with their author's relation counts",
        run: q('Document', 'findMany', { where: { teamId: A }, include: { author: { select: { _count: true } } } }),
        violation: NESTED_READ,
      },
      {
        name: "the team's documents whose author has a document in another team",
        run: q('Document', 'findMany', { where: { teamId: A, author: { documents: { some: { teamId: G } } } } }),
        violation: MISMATCH,
      },
      {
        name: "the team's memberships whose user is a plain member somewhere (alice, in team_Globex)",
        run: q('Membership', 'findMany', { where: { teamId: A, user: { memberships: { some: { role: 'member' } } } } }),
        violation: RELATION_FILTER,
      },
      {
        name: "the team's comments ordered by their author's comment count everywhere",
        run: q('Comment', 'findMany', {
          where: { document: { teamId: A } },
          orderBy: { author: { comments: { _count: 'desc' } } },
        }),
        violation: RELATION_FILTER,
      },
      {
        name: "a user's memberships counted across teams",
        run: q('Membership', 'count', { where: { userId: 'u_alice' } }),
        violation: 'missing_tenant_id',
      },
      {
        name: "the user's teams (my teams): reads other teams' rows, a job for a bypass",
        run: q('Team', 'findMany', { where: { memberships: { some: { userId: 'u_alice' } } } }),
        model: 'Team',
      },
      {
        name: 'documents of every team the user belongs to (membership instead of a pin)',
        run: q('Document', 'findMany', { where: { team: { memberships: { some: { userId: 'u_alice' } } } } }),
        violation: 'missing_tenant_id',
      },
      {
        name: "a global user deleted (cascades into other teams, sets their documents' author null)",
        run: q('User', 'delete', { where: { id: 'u_carol' } }),
        violation: NESTED_WRITE,
      },
      {
        name: "a user's memberships deleted in every team",
        run: q('User', 'update', { where: { id: 'u_carol' }, data: { memberships: { deleteMany: {} } } }),
        violation: NESTED_WRITE,
      },
      {
        name: "a user's documents unlinked everywhere (set: [])",
        run: q('User', 'update', { where: { id: 'u_alice' }, data: { documents: { set: [] } } }),
        violation: NESTED_WRITE,
      },
      {
        name: "another team's document unlinked from its author",
        run: q('User', 'update', { where: { id: 'u_alice' }, data: { documents: { disconnect: { id: 'd_b1' } } } }),
        violation: NESTED_WRITE,
      },
      {
        name: "another team's document connected to a user",
        run: q('User', 'update', { where: { id: 'u_alice' }, data: { documents: { connect: { id: 'd_b2' } } } }),
        violation: MISMATCH,
      },
      {
        name: "a comment created on another team's document through the global user",
        run: q('User', 'update', {
          where: { id: 'u_alice' },
          data: { comments: { create: { body: 'x', documentId: 'd_b1' } } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'a membership in another team through the global user',
        run: q('User', 'update', {
          where: { id: 'u_erin' },
          data: { memberships: { create: { team: { connect: { id: G } } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "another team's membership upserted through the global user",
        run: q('User', 'update', {
          where: { email: 'carol@example.test' },
          data: {
            memberships: {
              upsert: {
                where: { teamId_userId: { teamId: G, userId: 'u_carol' } },
                create: { teamId: A },
                update: { role: 'member' },
              },
            },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: "the author's memberships everywhere deleted through the request's document",
        run: q('Document', 'update', {
          where: { id: 'd_a1', teamId: A },
          data: { author: { update: { memberships: { deleteMany: {} } } } },
        }),
        violation: NESTED_WRITE,
      },
      {
        name: "the author's comments everywhere rewritten through the request's document",
        run: q('Document', 'update', {
          where: { id: 'd_a1', teamId: A },
          data: { author: { update: { comments: { updateMany: { where: {}, data: { body: 'x' } } } } } },
        }),
        violation: NESTED_WRITE,
      },
      {
        name: "the member's documents everywhere rewritten through the request's membership",
        run: q('Membership', 'update', {
          where: { id: 'm_a1', teamId: A },
          data: { user: { update: { documents: { updateMany: { where: {}, data: { status: 'x' } } } } } },
        }),
        violation: NESTED_WRITE,
      },
      {
        name: "the author deleted through the request's document (cascades into another team)",
        run: q('Document', 'update', { where: { id: 'd_a1', teamId: A }, data: { author: { delete: true } } }),
        violation: NESTED_WRITE,
      },
      {
        name: 'a new author created with a membership in another team',
        run: q('Document', 'create', {
          data: {
            team: { connect: { id: A } },
            title: 't',
            author: { create: { email: 'z@z', name: 'z', memberships: { create: { teamId: G } } } },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: 'a user deleted who has no rows anywhere (the rule is static)',
        run: q('User', 'delete', { where: { id: 'u_erin' } }),
        violation: NESTED_WRITE,
        ruleOnly: 'erin has no membership, document or comment, so nothing cascades on this seed',
      },
      {
        name: "documents filtered by their team's slug (over-blocking: a slug names one team, but reads look nothing up)",
        run: q('Document', 'findMany', { where: { team: { slug: 'acme' } } }),
        violation: 'missing_tenant_id',
        ruleOnly: "acme is the request's team",
      },
    ],
    passes: [
      {
        name: 'members of the team (a pinned some)',
        run: q('User', 'findMany', { where: { memberships: { some: { teamId: A } } } }),
        check: (r) => expect(ids(r)).toEqual(['u_alice', 'u_bob']),
      },
      {
        name: 'members of the team with their membership in it and its team',
        run: q('User', 'findMany', {
          where: { memberships: { some: { team: { id: A } } } },
          include: { memberships: { where: { teamId: A }, include: { team: true } } },
        }),
        check: (r) =>
          expect(r.map((u: any) => [u.id, ids(u.memberships), u.memberships[0].team.id])).toEqual([
            ['u_alice', ['m_a1'], A],
            ['u_bob', ['m_a2'], A],
          ]),
      },
      {
        name: "users outside the team (NOT some, pinned: only the team's rows decide)",
        run: q('User', 'findMany', { where: { NOT: { memberships: { some: { teamId: A } } } } }),
        check: (r) => expect(ids(r)).toEqual(['u_carol', 'u_dave', 'u_erin']),
      },
      {
        name: "a user's documents, comments and counts in the team",
        run: q('User', 'findUnique', {
          where: { id: 'u_alice' },
          include: {
            documents: { where: { teamId: A }, include: { tags: true, folder: { include: { parent: true } } } },
            comments: { where: { document: { teamId: A } }, include: { document: { include: { team: true } } } },
            _count: { select: { documents: { where: { team: { id: A } } }, memberships: { where: { teamId: A } } } },
          },
        }),
        check: (r) => {
          expect(ids(r.documents)).toEqual(['d_a1'])
          expect(ids(r.comments)).toEqual(['c_a2'])
          expect(r._count).toEqual({ documents: 1, memberships: 1 })
        },
      },
      {
        name: "documents with their author and the author's documents in the team",
        run: q('Document', 'findMany', {
          where: { teamId: A },
          include: { comments: { include: { author: { include: { documents: { where: { teamId: A } } } } } } },
          orderBy: { author: { name: 'asc' } },
        }),
        check: (r) =>
          expect(r.flatMap((d: any) => d.comments.map((c: any) => [c.id, ids(c.author.documents)]))).toEqual([
            ['c_a1', ['d_a2']],
            ['c_a2', ['d_a1']],
          ]),
      },
      {
        name: "the team's documents whose author owns the team (a pinned membership filter through the global author)",
        run: q('Document', 'findMany', {
          where: { teamId: A, author: { memberships: { some: { teamId: A, role: 'owner' } } } },
        }),
        check: (r) => expect(ids(r)).toEqual(['d_a1']),
      },
      {
        name: "pinned documents filtered by their team's memberships",
        run: q('Document', 'findMany', { where: { team: { id: A, memberships: { some: { userId: 'u_bob' } } } } }),
        check: (r) => expect(ids(r)).toEqual(['d_a1', 'd_a2', 'd_a3']),
      },
      {
        name: 'a new user invited into the team, and an existing one upserted into it',
        run: (p) =>
          rolledBack(p, async (tx) => [
            await tx.user.create({
              data: { email: 'new@example.test', name: 'N', memberships: { create: { teamId: A } } },
              include: { memberships: { where: { teamId: A } } },
            }),
            await tx.user.upsert({
              where: { email: 'carol@example.test' },
              create: { email: 'carol@example.test', name: 'C' },
              update: { memberships: { create: { teamId: A, role: 'member' } } },
              include: { memberships: { where: { teamId: A } } },
            }),
          ]),
        check: (r) => expect(r.map((u: any) => u.memberships.map((m: any) => m.teamId))).toEqual([[A], [A]]),
      },
      {
        name: "a user's memberships in the team deleted, documents in the team updated, a pinned document unlinked",
        run: q('User', 'update', {
          where: { id: 'u_alice' },
          data: {
            memberships: { deleteMany: { teamId: A } },
            documents: {
              updateMany: { where: { teamId: A }, data: { status: 'seen' } },
              disconnect: { id: 'd_a1', teamId: A },
            },
          },
        }),
        check: async (_r, base) => {
          expect(ids(await base.membership.findMany({ where: { userId: 'u_alice' } }))).toEqual(['m_b1'])
          expect(await base.document.findUnique({ where: { id: 'd_a1' } })).toMatchObject({
            status: 'seen',
            authorId: null,
          })
          expect((await base.document.findUnique({ where: { id: 'd_b1' } })).status).toBe('draft')
        },
      },
      {
        name: "the request's document connected to a user (verified)",
        run: q('User', 'update', { where: { id: 'u_carol' }, data: { documents: { connect: { id: 'd_a3' } } } }),
        check: async (_r, base) =>
          expect((await base.document.findUnique({ where: { id: 'd_a3' } })).authorId).toBe('u_carol'),
      },
      {
        name: "the global author renamed, and disconnected, through the request's document",
        run: q('Document', 'update', {
          where: { id: 'd_a1', teamId: A },
          data: {
            author: { update: { name: 'Alicia' } },
            comments: { create: { body: 'c', author: { connect: { id: 'u_erin' } } } },
          },
        }),
        check: async (_r, base) =>
          expect((await base.user.findUnique({ where: { id: 'u_alice' } })).name).toBe('Alicia'),
      },
      {
        name: 'a new author with a membership in the team, and an existing author connect-or-created',
        run: q('Document', 'create', {
          data: {
            team: { connect: { id: A } },
            title: 't',
            author: { create: { email: 'z@z', name: 'z', memberships: { create: { teamId: A } } } },
          },
          include: { author: { include: { memberships: { where: { teamId: A } } } } },
        }),
        check: (r) => expect(r.author.memberships).toMatchObject([{ teamId: A }]),
      },
    ],
  })
})

describe('the global Plan: cascades into teams, and the chain breaks at it', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: "a plan another team is on deleted (cascades into that team's rows)",
        run: q('Plan', 'delete', { where: { id: 'plan_pro' } }),
        violation: NESTED_WRITE,
        model: 'Team',
      },
      {
        name: "the request's own plan deleted (cascades into the case twin too)",
        run: q('Plan', 'delete', { where: { id: 'plan_free' } }),
        violation: NESTED_WRITE,
      },
      {
        name: "a plan's teams deleted",
        run: q('Plan', 'update', { where: { id: 'plan_pro' }, data: { teams: { deleteMany: {} } } }),
        violation: NESTED_WRITE,
      },
      {
        name: 'plans filtered by an unpinned team',
        run: q('Plan', 'findMany', { where: { teams: { some: { slug: 'globex' } } } }),
        violation: RELATION_FILTER,
      },
      {
        name: 'plans with a count of every team',
        run: q('Plan', 'findMany', { select: { id: true, _count: { select: { teams: true } } } }),
        violation: NESTED_READ,
      },
      {
        name: "the request's plan with every team on it",
        run: q('Team', 'findUnique', { where: { id: A }, include: { plan: { include: { teams: true } } } }),
        violation: NESTED_READ,
      },
      {
        name: "the request's plan with its team count",
        run: q('Team', 'findUnique', { where: { id: A }, select: { plan: { select: { _count: true } } } }),
        violation: NESTED_READ,
      },
      {
        name: 'teams by plan name',
        run: q('Team', 'findMany', { where: { plan: { name: 'free' } } }),
        model: 'Team',
      },
      {
        name: "the request's team filtered by the other teams on its plan",
        run: q('Team', 'findMany', { where: { id: A, plan: { teams: { some: { slug: 'acme-2' } } } } }),
        violation: RELATION_FILTER,
      },
      {
        name: 'a team created under a plan',
        run: q('Plan', 'create', { data: { name: 'n', teams: { create: { id: 'team_new', slug: 'n', name: 'n' } } } }),
        violation: MISMATCH,
      },
      {
        name: 'another team moved to a new plan',
        run: q('Plan', 'create', { data: { name: 'n', teams: { connect: { id: G } } } }),
        violation: MISMATCH,
      },
      {
        name: 'a plan without teams deleted (the rule reads the schema, not the rows)',
        run: q('Plan', 'deleteMany', { where: { name: 'legacy' } }),
        violation: NESTED_WRITE,
        ruleOnly: 'no team is on plan_empty',
      },
    ],
    passes: [
      {
        name: "plans the request's team is on, with that team only",
        run: q('Plan', 'findMany', { where: { teams: { some: { id: A } } }, include: { teams: { where: { id: A } } } }),
        check: (r) => expect(r.map((p: any) => [p.id, ids(p.teams)])).toEqual([['plan_free', [A]]]),
      },
      {
        name: 'a plan renamed, and its pinned team renamed through it',
        run: q('Plan', 'update', {
          where: { id: 'plan_free' },
          data: { name: 'gratis', teams: { updateMany: { where: { id: A }, data: { name: 'Acme 2' } } } },
        }),
        check: async (_r, base) =>
          expect((await base.team.findMany({ orderBy: { id: 'asc' } })).map((t: any) => t.name)).toEqual([
            'Acme 2',
            'Globex',
            'Acme',
          ]),
      },
      {
        name: "the request's team switching plans (connect, connectOrCreate of a global row)",
        run: q('Team', 'update', {
          where: { id: A },
          data: { plan: { connectOrCreate: { where: { name: 'pro' }, create: { name: 'pro' } } } },
          include: { plan: { include: { teams: { where: { id: A } } } } },
        }),
        check: (r) => expect(r.plan).toMatchObject({ id: 'plan_pro', teams: [{ id: A }] }),
      },
      {
        name: "a new plan with the request's team",
        run: q('Plan', 'create', { data: { name: 'n', teams: { connect: { id: A } } } }),
        check: async (_r, base) =>
          expect((await base.team.findUnique({ where: { id: A } })).planId).not.toBe('plan_free'),
      },
    ],
  })
})

describe('Comment, scoped through its document', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: "a comment moved to another team's document by documentId (verified)",
        run: q('Comment', 'update', { where: { id: 'c_a1', document: { teamId: A } }, data: { documentId: 'd_b1' } }),
        violation: MISMATCH,
      },
      {
        name: 'a comment moved by document: { connect }',
        run: q('Comment', 'update', {
          where: { id: 'c_a1', document: { teamId: A } },
          data: { document: { connect: { id: 'd_b1' } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "another team's comment connected to the request's document",
        run: q('Document', 'update', {
          where: { id: 'd_a1', teamId: A },
          data: { comments: { connect: { id: 'c_b1' } } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'a comment whose new document is created in another team',
        run: q('Comment', 'create', {
          data: { body: 'x', author: { connect: { id: 'u_bob' } }, document: { create: { title: 't', teamId: G } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "a comment connect-or-created on another team's document",
        run: q('Comment', 'create', {
          data: {
            body: 'x',
            author: { connect: { id: 'u_bob' } },
            document: { connectOrCreate: { where: { id: 'd_b1' }, create: { title: 't', teamId: A } } },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: "createMany with one comment on another team's document",
        run: q('Comment', 'createMany', {
          data: [
            { body: 'x', documentId: 'd_a1', authorId: 'u_bob' },
            { body: 'y', documentId: 'd_b1', authorId: 'u_bob' },
          ],
        }),
        violation: MISMATCH,
      },
      {
        name: "another team's comment upserted by id alone",
        run: q('Comment', 'upsert', {
          where: { id: 'c_b1' },
          create: { body: 'x', documentId: 'd_a1', authorId: 'u_bob' },
          update: { body: 'y' },
        }),
        violation: 'missing_relation_filter',
      },
      {
        name: "the team's comments filtered by their author's comments in another team",
        run: q('Comment', 'findMany', {
          where: { document: { teamId: A }, author: { comments: { some: { document: { teamId: G } } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'a comment updated by id alone',
        run: q('Comment', 'update', { where: { id: 'c_a1' }, data: { body: 'x' } }),
        violation: 'missing_relation_filter',
        ruleOnly: "c_a1 is the request's comment",
      },
    ],
    passes: [
      {
        name: "the team's comments through the document's pin, and through its team relation",
        run: q('Comment', 'findMany', {
          where: { OR: [{ document: { teamId: A } }, { document: { team: { id: A } } }] },
        }),
        check: (r) => expect(ids(r)).toEqual(['c_a1', 'c_a2']),
      },
      {
        name: "a comment on the request's document by bare documentId (verified)",
        run: q('Comment', 'create', { data: { documentId: 'd_a1', authorId: 'u_bob', body: 'x' } }),
        check: (r) => expect(r.documentId).toBe('d_a1'),
      },
      {
        name: "a comment on a pinned connect, a created document, and the team's comments deleted by author",
        run: (p) =>
          rolledBack(p, async (tx) => [
            (
              await tx.comment.create({
                data: {
                  body: 'x',
                  author: { connect: { id: 'u_bob' } },
                  document: { connect: { id: 'd_a2', teamId: A } },
                },
              })
            ).documentId,
            (
              await tx.comment.create({
                data: {
                  body: 'x',
                  author: { connect: { id: 'u_bob' } },
                  document: { create: { title: 't', teamId: A } },
                },
                include: { document: true },
              })
            ).document.teamId,
            (await tx.comment.deleteMany({ where: { document: { teamId: A }, author: { email: 'bob@example.test' } } }))
              .count,
          ]),
        check: (r) => expect(r).toEqual(['d_a2', A, 3]),
      },
      {
        name: 'a comment created inside a transaction on a document created earlier in it (the lookup runs in the transaction)',
        run: (p) =>
          rolledBack(p, async (tx) => {
            const doc = await tx.document.create({ data: { teamId: A, title: 'fresh' } })
            return tx.comment.create({
              data: { documentId: doc.id, authorId: 'u_bob', body: 'x' },
              include: { document: true },
            })
          }),
        check: (r) => expect(r.document).toMatchObject({ teamId: A, title: 'fresh' }),
      },
    ],
  })
})

describe('cursors, named compound uniques, and operations', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: "a cursor on another team's document (where the page starts tells it exists)",
        run: q('Document', 'findMany', {
          where: { teamId: A },
          cursor: { id: 'd_b1' },
          orderBy: { id: 'desc' },
          take: 2,
        }),
        violation: 'missing_tenant_id',
      },
      {
        name: 'a named compound unique (team_slug) of another team',
        run: q('Tag', 'findUnique', { where: { team_slug: { teamId: G, slug: 'urgent' } } }),
        violation: MISMATCH,
      },
      {
        name: 'the compound unique teamId_id of another team',
        run: q('Folder', 'findUnique', { where: { teamId_id: { teamId: G, id: 'f_b1' } } }),
        violation: MISMATCH,
      },
      {
        name: 'updateManyAndReturn unscoped',
        run: q('Document', 'updateManyAndReturn', { where: { title: 'Roadmap' }, data: { status: 'x' } }),
        violation: 'missing_tenant_id',
      },
      {
        name: 'findFirstOrThrow and findUniqueOrThrow unscoped',
        run: q('Document', 'findUniqueOrThrow', { where: { id: 'd_b1' } }),
        violation: 'missing_tenant_id',
      },
      {
        name: 'not: { not: team } (never a pin)',
        run: q('Document', 'findMany', { where: { teamId: { not: { not: A } } } }),
        violation: 'missing_tenant_id',
      },
      {
        name: "a count through the team's documents naming another team deep in a filter",
        run: q('Team', 'findUnique', {
          where: { id: A },
          select: {
            _count: { select: { documents: { where: { author: { memberships: { some: { teamId: G } } } } } } },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: 'a field reference in place of the tenant (matches every row)',
        run: (p) => p.document.findMany({ where: { teamId: { equals: app.db.base.document.fields.teamId } } }),
        violation: 'missing_tenant_id',
      },
      {
        name: 'a batch transaction whose second query is unscoped',
        run: (p) => p.$transaction([p.document.findMany({ where: { teamId: A } }), p.document.findMany()]),
        violation: 'missing_tenant_id',
      },
    ],
    passes: [
      {
        name: 'cursors by the compound uniques teamId_id and team_slug',
        run: (p) =>
          Promise.all([
            p.folder.findMany({ where: { teamId: A }, cursor: { teamId_id: { teamId: A, id: 'f_a2' } } }),
            p.tag.findMany({ where: { teamId: A }, cursor: { team_slug: { teamId: A, slug: 'q3' } } }),
            p.document.findMany({ where: { teamId: A }, cursor: { id: 'd_a2', teamId: A }, take: 2 }),
          ]),
        check: (r) => expect(r.map(ids)).toEqual([['f_a2'], ['t_a2'], ['d_a2', 'd_a3']]),
      },
      {
        name: 'lookups and updates by the named compound unique team_slug, and by teamId_userId',
        run: (p) =>
          rolledBack(p, async (tx) => [
            (await tx.tag.update({ where: { team_slug: { teamId: A, slug: 'urgent' } }, data: { label: 'x' } })).id,
            (
              await tx.membership.findUnique({
                where: { teamId_userId: { teamId: A, userId: 'u_bob' } },
                include: { user: true },
              })
            ).user.id,
          ]),
        check: (r) => expect(r).toEqual(['t_a1', 'u_bob']),
      },
      {
        name: 'updateManyAndReturn, groupBy with having, aggregate, distinct, orderBy through relations',
        run: (p) =>
          rolledBack(p, async (tx) => [
            (await tx.document.updateManyAndReturn({ where: { teamId: A, title: 'Roadmap' }, data: { status: 'x' } }))
              .length,
            await tx.document.groupBy({
              by: ['status'],
              where: { teamId: A },
              having: { status: { not: 'y' } },
              _count: { _all: true },
              orderBy: { status: 'asc' },
            }),
            (await tx.document.aggregate({ where: { teamId: A }, _count: { authorId: true } }))._count.authorId,
            ids(
              await tx.document.findMany({
                where: { teamId: A },
                distinct: ['title'],
                orderBy: [{ folder: { name: 'asc' } }, { tags: { _count: 'desc' } }],
              }),
            ),
          ]),
        check: (r) =>
          expect(r).toEqual([
            2,
            [
              { status: 'published', _count: { _all: 1 } },
              { status: 'x', _count: { _all: 2 } },
            ],
            2,
            ['d_a2', 'd_a3'],
          ]),
      },
      {
        name: 'the team row by id and its own counts; its slug changed',
        run: (p) =>
          rolledBack(p, async (tx) => [
            await tx.team.findUnique({ where: { id: A }, select: { _count: true } }),
            (await tx.team.update({ where: { id: A }, data: { slug: 'acme-new' } })).slug,
          ]),
        check: (r) =>
          expect(r).toEqual([{ _count: { memberships: 2, folders: 2, documents: 3, tags: 2 } }, 'acme-new']),
      },
    ],
  })
})

describe('the tenant model (Team)', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: "another team's row updated",
        run: q('Team', 'update', { where: { id: G }, data: { name: 'x' } }),
        violation: MISMATCH,
      },
      {
        // a new team is allowed (tenant.createInRequest, isolation-app-owned.test.ts); one with the id of
        // team_acme (the request's id but for case) would answer P2002, telling that it exists
        name: "a team created inside a request with team_acme's id",
        run: q('Team', 'create', { data: { id: L, slug: 'new', name: 'New', planId: 'plan_free' } }),
        violation: MISMATCH,
      },
      {
        name: "the request's team id renamed (every row of the team follows by ON UPDATE CASCADE into a new tenant)",
        run: q('Team', 'update', { where: { id: A }, data: { id: 'team_Renamed' } }),
        violation: MISMATCH,
      },
      {
        name: "another team's membership connected to the request's team",
        run: q('Team', 'update', { where: { id: A }, data: { memberships: { connect: { id: 'm_b1' } } } }),
        violation: MISMATCH,
      },
      {
        name: 'a team by slug (over-blocking in apps that route by slug: the request already knows its team)',
        run: q('Team', 'findUnique', { where: { slug: 'acme' } }),
        violation: 'missing_tenant_id',
        ruleOnly: "acme is the request's team",
      },
    ],
    passes: [
      {
        name: 'a member added under the team, and the team deleted with everything it owns',
        run: (p) =>
          rolledBack(p, async (tx) => [
            (
              await tx.team.update({
                where: { id: A },
                data: { memberships: { create: { userId: 'u_erin' } } },
                include: { memberships: true },
              })
            ).memberships.length,
            (await tx.team.delete({ where: { id: A } })).id,
          ]),
        check: (r) => expect(r).toEqual([3, A]),
      },
    ],
  })
})

describe('outside any request (a job): the query must name one tenant', () => {
  bothWays(
    app.env,
    {
      blocked: [
        { name: 'documents of every team', run: q('Document', 'findMany', {}), violation: 'missing_tenant_id' },
        {
          name: 'documents of two teams that differ by case',
          run: q('Document', 'findMany', { where: { teamId: { in: [G, L] } } }),
          violation: MISMATCH,
        },
        {
          name: "team_Globex's document moved into team_Acme's folder",
          run: q('Document', 'update', {
            where: { id: 'd_b1', teamId: G },
            data: { folder: { connect: { id: 'f_a1' } } },
          }),
          violation: MISMATCH,
        },
        {
          name: "a signup that connects an existing team's document to the new team",
          run: q('Team', 'create', {
            data: {
              id: 'team_New',
              slug: 'new',
              name: 'N',
              planId: 'plan_free',
              documents: { connect: { id: 'd_a3' } },
            },
          }),
          violation: MISMATCH,
        },
        {
          name: "a signup that takes an existing team's settings",
          run: q('Team', 'create', {
            data: { id: 'team_New', slug: 'new', name: 'N', planId: 'plan_free', settings: { connect: { id: 's_a' } } },
          }),
          violation: MISMATCH,
        },
        {
          name: "a signup whose first folder hangs under an existing team's folder",
          run: q('Team', 'create', {
            data: {
              id: 'team_New',
              slug: 'new',
              name: 'N',
              planId: 'plan_free',
              folders: { create: { name: 'x', parentId: 'f_a1' } },
            },
          }),
          violation: MISMATCH,
        },
        {
          name: "a signup whose first tag links an existing team's document",
          run: q('Team', 'create', {
            data: {
              id: 'team_New',
              slug: 'new',
              name: 'N',
              planId: 'plan_free',
              tags: { create: { slug: 's', label: 'l', documents: { connect: { id: 'd_a1' } } } },
            },
          }),
          violation: MISMATCH,
        },
      ],
      passes: [
        {
          name: "one team's documents",
          run: q('Document', 'findMany', { where: { teamId: G } }),
          check: (r) => expect(ids(r)).toEqual(['d_b1', 'd_b2']),
        },
        {
          name: 'a signup: the team with its owner, settings, first folder and document',
          run: (p) =>
            rolledBack(p, (tx) =>
              tx.team.create({
                data: {
                  id: 'team_New',
                  slug: 'new',
                  name: 'N',
                  plan: { connect: { id: 'plan_free' } },
                  memberships: { create: { userId: 'u_erin', role: 'owner' } },
                  settings: { create: { locale: 'en' } },
                  folders: { create: { name: 'Inbox', documents: { create: { title: 'Welcome' } } } },
                },
                include: { folders: { include: { documents: true } }, settings: true, memberships: true },
              }),
            ),
          check: (r) => {
            expect(r.folders[0].documents[0]).toMatchObject({ teamId: 'team_New', title: 'Welcome' })
            expect(r.settings.teamId).toBe('team_New')
          },
        },
      ],
    },
    { context: false },
  )
})

describe('selective mode (phase 2: Membership and Document enforced, the others logged)', () => {
  const phase2 = () => setFlags(stringifyFlags(appConfig.phases[2]!.flags))
  beforeEach(phase2)
  bothWays(app.env, {
    blocked: [
      {
        name: "a logged model's unscoped read carrying an enforced model's rows (comments with their documents)",
        run: q('Comment', 'findMany', { include: { document: true } }),
        model: 'Document',
      },
      {
        name: 'tags with all their documents',
        run: q('Tag', 'findMany', { include: { documents: true } }),
        model: 'Document',
      },
      {
        name: 'users with all their memberships',
        run: q('User', 'findMany', { include: { memberships: true } }),
        model: 'Membership',
      },
      {
        name: "the request's tag linked to another team's document (the finding is on Document)",
        run: q('Tag', 'update', {
          where: { team_slug: { teamId: A, slug: 'urgent' } },
          data: { documents: { connect: { id: 'd_b1' } } },
        }),
        model: 'Document',
      },
    ],
  })
  it('logs an unscoped read of a logged model (folders of every team) and lets it through', async () => {
    const rows = await runWithTenant(REQUEST, () => app.db.prisma.folder.findMany())
    expect(ids(rows)).toEqual(['f_a1', 'f_a2', 'f_b1', 'f_b2', 'f_c1'])
    expect(app.db.violations()).toMatchObject([{ model: 'Folder', violation: 'missing_tenant_id', decision: 'logged' }])
  })
})
