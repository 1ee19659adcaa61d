// Round 2 of issue 10's red team: the isolation rule (docs/isolation.md) attacked as a black box on a
// schema the core was not written for, a multi-team app (test/fixtures/isolation-app): string ids,
// Team as the tenant model, a global User in several teams through a tenant-owned Membership, a
// folder tree (self-relation), Document.folder by a composite key that includes the team, an implicit
// many-to-many of documents and tags, TeamSettings on the far side of a 1:1, @@map/@map names, a
// named compound unique, a global Plan whose deletion cascades into teams.
//
// Every case runs twice: on the plain client, where the database says whether the shape leaks
// (returns, changes or depends on another team's rows), and through tenantfence in enforce as
// team_Acme (user alice). Blocked shapes must leak on the plain client unless marked `ruleOnly` (the
// rule blocks them although this seed shows no leak; the reason is given): helpers/isolation-both-ways.ts.
// The teams: team_Acme (the request's), team_Globex, and team_acme, whose id differs from the
// request's only by case; the seed is in helpers/isolation-app.ts.
//
// This file: the tenant-owned shapes (composite key, folder tree, many-to-many, the 1:1's far side,
// ids that differ by case). isolation-app-global.test.ts: the global User and Plan, Comment, the
// tenant model, operations, jobs and selective mode. isolation-app-findings.test.ts: what this round found.
import { describe, expect, it } from 'vitest'
import { bothWays } from './helpers/isolation-both-ways.ts'
import { useAppIsolation, q, ids, rolledBack, A, G, L, MISMATCH, REQUEST } from './helpers/isolation-app-env.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
const app = useAppIsolation()

describe('the schema and its ground truth', () => {
  it('names the request, the three teams and the seed it was written for', async () => {
    expect(REQUEST.tenantId).toBe('team_Acme')
    expect(A.toLowerCase()).toBe(L) // two tenants whose ids differ only by case
    expect(ids(await app.db.base.team.findMany())).toEqual([G, A, L].sort())
    expect(await app.db.base.$queryRawUnsafe('SELECT count(*) AS n FROM "_DocumentToTag"')).toEqual([{ n: 6n }])
  })
})

describe('composite foreign key that includes the tenant (Document.folder: [teamId, folderId] → Folder [teamId, id])', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: "folder: { connect } by id to another team's folder (Prisma sets teamId from the folder: the document moves)",
        run: q('Document', 'update', {
          where: { id: 'd_a3', teamId: A },
          data: { folder: { connect: { id: 'f_b1' } } },
        }),
        violation: MISMATCH,
        model: 'Folder',
      },
      {
        name: 'folder: { connect } by the compound key naming another team',
        run: q('Document', 'update', {
          where: { id: 'd_a3', teamId: A },
          data: { folder: { connect: { teamId_id: { teamId: G, id: 'f_b1' } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "folder: { connectOrCreate } whose where finds another team's folder",
        run: q('Document', 'update', {
          where: { id: 'd_a3', teamId: A },
          data: {
            folder: { connectOrCreate: { where: { id: 'f_b1' }, create: { name: 'x', team: { connect: { id: A } } } } },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: "a new document: team connects the request's team, folder connects another team's (the folder's team wins)",
        run: q('Document', 'create', {
          data: { title: 't', team: { connect: { id: A } }, folder: { connect: { id: 'f_b1' } } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'a new document whose new folder is created in another team',
        run: q('Document', 'create', {
          data: {
            title: 't',
            team: { connect: { id: A } },
            folder: { create: { name: 'x', team: { connect: { id: G } } } },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: "a document created under the request's team, in another team's folder",
        run: q('Team', 'update', {
          where: { id: A },
          data: { documents: { create: { title: 't', folder: { connect: { id: 'f_b1' } } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "a document created under the request's folder that connects another team",
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: { documents: { create: { title: 't', team: { connect: { id: G } } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "a nested update of the document's folder that moves it to another team (ON UPDATE CASCADE moves its documents)",
        run: q('Document', 'update', { where: { id: 'd_a1', teamId: A }, data: { folder: { update: { teamId: G } } } }),
        violation: MISMATCH,
      },
      {
        name: 'a folder moved to another team by its tenant field (the composite key cascades into its documents)',
        run: q('Folder', 'update', { where: { id: 'f_a2', teamId: A }, data: { teamId: G } }),
        violation: MISMATCH,
      },
      {
        name: 'a folder moved to another team by its team relation',
        run: q('Folder', 'update', { where: { id: 'f_a1', teamId: A }, data: { team: { connect: { id: G } } } }),
        violation: MISMATCH,
      },
      {
        name: 'a document moved by teamId and folderId together',
        run: q('Document', 'update', { where: { id: 'd_a3', teamId: A }, data: { folderId: 'f_b1', teamId: G } }),
        violation: MISMATCH,
      },
      {
        name: 'a document without a folder moved by teamId',
        run: q('Document', 'update', { where: { id: 'd_a3', teamId: A }, data: { teamId: G } }),
        violation: MISMATCH,
      },
      {
        name: 'a document whose team connectOrCreate finds another team',
        run: q('Document', 'update', {
          where: { id: 'd_a3', teamId: A },
          data: {
            team: {
              connectOrCreate: { where: { id: G }, create: { id: G, slug: 'z', name: 'z', planId: 'plan_free' } },
            },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: "another team's document connected to the request's folder (it moves into the request's team)",
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: { documents: { connect: { id: 'd_b1' } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "another team's document connect-or-created under the request's team",
        run: q('Team', 'update', {
          where: { id: A },
          data: { documents: { connectOrCreate: { where: { id: 'd_b1' }, create: { title: 'x' } } } },
        }),
        violation: MISMATCH,
      },
    ],
    passes: [
      {
        name: "folderId alone pointing at another team's folder: the composite key refuses it (no lookup needed)",
        run: q('Document', 'update', { where: { id: 'd_a3', teamId: A }, data: { folderId: 'f_b1' } }),
        rejects: 'P2003',
      },
      {
        name: "updateMany moving the request's documents into another team's folder: refused by the composite key",
        run: q('Document', 'updateMany', { where: { teamId: A }, data: { folderId: 'f_b1' } }),
        rejects: 'P2003',
      },
      {
        name: "a new document in the request's team with another team's folderId: refused by the composite key",
        run: q('Document', 'create', { data: { title: 't', teamId: A, folderId: 'f_b1' } }),
        rejects: 'P2003',
      },
      {
        name: "folderId of the request's folder",
        run: q('Document', 'update', { where: { id: 'd_a3', teamId: A }, data: { folderId: 'f_a2' } }),
        check: async (_r, base) =>
          expect((await base.document.findUnique({ where: { id: 'd_a3' } })).folderId).toBe('f_a2'),
      },
      {
        name: "folder: { connect } to the request's folder, verified",
        run: q('Document', 'update', {
          where: { id: 'd_a3', teamId: A },
          data: { folder: { connect: { id: 'f_a2' } } },
        }),
        check: async (_r, base) =>
          expect(await base.document.findUnique({ where: { id: 'd_a3' } })).toMatchObject({
            teamId: A,
            folderId: 'f_a2',
          }),
      },
      {
        name: "team and folder both the request's",
        run: q('Document', 'create', {
          data: { title: 'new', team: { connect: { id: A } }, folder: { connect: { id: 'f_a1' } } },
        }),
        check: (r) => expect(r).toMatchObject({ teamId: A, folderId: 'f_a1' }),
      },
      {
        name: "a document created under the request's folder inherits its team through the composite key",
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: { documents: { create: { title: 'inherits' } } },
        }),
        check: async (_r, base) =>
          expect(await base.document.findMany({ where: { title: 'inherits' } })).toMatchObject([
            { teamId: A, folderId: 'f_a1' },
          ]),
      },
      {
        name: "a document created under the request's team in the request's folder",
        run: q('Team', 'update', {
          where: { id: A },
          data: { documents: { create: { title: 'in-a', folder: { connect: { id: 'f_a2' } } } } },
        }),
        check: async (_r, base) =>
          expect(await base.document.findMany({ where: { title: 'in-a' } })).toMatchObject([
            { teamId: A, folderId: 'f_a2' },
          ]),
      },
      {
        name: "the folder's upsert and nested update under the request's document",
        run: q('Document', 'update', {
          where: { id: 'd_a1', teamId: A },
          data: {
            folder: { upsert: { create: { name: 'x', team: { connect: { id: A } } }, update: { name: 'Renamed' } } },
          },
        }),
        check: async (_r, base) =>
          expect((await base.folder.findUnique({ where: { id: 'f_a1' } })).name).toBe('Renamed'),
      },
      {
        name: "the document's team row renamed through it",
        run: q('Document', 'update', {
          where: { id: 'd_a3', teamId: A },
          data: { team: { update: { name: 'Acme Inc' } } },
        }),
        check: async (_r, base) => expect((await base.team.findUnique({ where: { id: A } })).name).toBe('Acme Inc'),
      },
      {
        name: 'folderId set to null (the composite key keeps teamId)',
        run: q('Document', 'update', { where: { id: 'd_a1', teamId: A }, data: { folderId: null } }),
        check: (r) => expect(r).toMatchObject({ teamId: A, folderId: null }),
      },
      {
        name: "the document's folder deleted through it (cascades into the request's documents only)",
        run: q('Document', 'update', { where: { id: 'd_a1', teamId: A }, data: { folder: { delete: true } } }),
        check: async (_r, base) =>
          expect(ids(await base.document.findMany())).toEqual(['d_a3', 'd_b1', 'd_b2', 'd_c1']),
      },
      {
        name: "a folder's id renamed (ON UPDATE CASCADE reaches the request's documents only)",
        run: q('Folder', 'update', { where: { id: 'f_a1', teamId: A }, data: { id: 'f_a1_new' } }),
        check: async (_r, base) =>
          expect((await base.document.findUnique({ where: { id: 'd_a1' } })).folderId).toBe('f_a1_new'),
      },
      {
        // Prisma nulls every field of the relation, the team too: the database refuses (not a tenantfence matter)
        name: 'folder: { disconnect: true } on the composite relation: Prisma nulls teamId too, the database refuses',
        run: q('Document', 'update', { where: { id: 'd_a1', teamId: A }, data: { folder: { disconnect: true } } }),
        rejects: 'P2011',
      },
    ],
  })
})

describe('composite keys need no lookup (references: violation)', () => {
  bothWays(
    app.env,
    {
      blocked: [
        {
          name: 'a bare foreign key that is not part of a composite key (Comment.documentId) is unverified',
          run: q('Comment', 'create', { data: { documentId: 'd_a1', authorId: 'u_bob', body: 'x' } }),
          violation: 'unverified_reference',
          ruleOnly: "d_a1 is the request's document: without a lookup tenantfence cannot know",
        },
        {
          name: 'a tenant connect by a unique key other than its id (Team.slug) is unverified',
          run: q('Document', 'create', { data: { title: 't', team: { connect: { slug: 'acme' } } } }),
          violation: 'unverified_reference',
          ruleOnly: "slug acme is the request's team: without a lookup tenantfence cannot know",
        },
      ],
      passes: [
        {
          name: 'a new document with teamId and folderId',
          run: q('Document', 'create', { data: { teamId: A, folderId: 'f_a1', title: 'nl' } }),
          check: (r) => expect(r).toMatchObject({ teamId: A, folderId: 'f_a1' }),
        },
        {
          name: 'folderId changed under a pinned where',
          run: q('Document', 'update', { where: { id: 'd_a3', teamId: A }, data: { folderId: 'f_a2' } }),
          check: (r) => expect(r).toMatchObject({ teamId: A, folderId: 'f_a2' }),
        },
        {
          name: 'updateMany of folderId under a pinned where',
          run: q('Document', 'updateMany', { where: { teamId: A, status: 'draft' }, data: { folderId: 'f_a2' } }),
          check: (r) => expect(r).toEqual({ count: 2 }),
        },
        {
          name: 'documents created and createMany-ed under a pinned folder',
          run: q('Folder', 'update', {
            where: { id: 'f_a1', teamId: A },
            data: { documents: { create: { title: 'c1' }, createMany: { data: [{ title: 'c2' }] } } },
          }),
          check: async (_r, base) =>
            expect(
              await base.document.count({ where: { title: { in: ['c1', 'c2'] }, teamId: A, folderId: 'f_a1' } }),
            ).toBe(2),
        },
        {
          name: 'folder and tag connected by compound keys that name the request',
          run: q('Document', 'update', {
            where: { id: 'd_a3', teamId: A },
            data: {
              folder: { connect: { teamId_id: { teamId: A, id: 'f_a2' } } },
              tags: { connect: { team_slug: { teamId: A, slug: 'urgent' } } },
            },
          }),
          check: async (_r, base) =>
            expect(await base.document.findUnique({ where: { id: 'd_a3' }, include: { tags: true } })).toMatchObject({
              folderId: 'f_a2',
              tags: [{ id: 't_a1' }],
            }),
        },
        {
          name: "a membership's global user by foreign key (global rows need no proof)",
          run: q('Membership', 'create', { data: { teamId: A, userId: 'u_erin' } }),
          check: (r) => expect(r).toMatchObject({ teamId: A, userId: 'u_erin' }),
        },
      ],
    },
    { client: () => app.noLookups },
  )
})

describe('the folder tree (self-relation, bare foreign key parentId: verified by lookup)', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: "a new folder whose parentId is another team's folder",
        run: q('Folder', 'create', { data: { teamId: A, name: 'x', parentId: 'f_b1' } }),
        violation: MISMATCH,
        model: 'Folder',
      },
      {
        name: "a folder re-parented under another team's folder by parentId",
        run: q('Folder', 'update', { where: { id: 'f_a2', teamId: A }, data: { parentId: 'f_b1' } }),
        violation: MISMATCH,
      },
      {
        name: "a folder re-parented under the case twin's folder (team_acme)",
        run: q('Folder', 'create', { data: { teamId: A, name: 'x', parentId: 'f_c1' } }),
        violation: MISMATCH,
      },
      {
        name: "parent: { connect } to another team's folder",
        run: q('Folder', 'update', { where: { id: 'f_a1', teamId: A }, data: { parent: { connect: { id: 'f_b1' } } } }),
        violation: MISMATCH,
      },
      {
        name: 'parent: { create } in another team',
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: { parent: { create: { name: 'x', team: { connect: { id: G } } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'parent: { update } moving the parent to another team',
        run: q('Folder', 'update', { where: { id: 'f_a2', teamId: A }, data: { parent: { update: { teamId: G } } } }),
        violation: MISMATCH,
      },
      {
        name: "children: { connect } of another team's folder (its parentId changes)",
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: { children: { connect: { id: 'f_b2' } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "children: { connectOrCreate } finding another team's folder",
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: { children: { connectOrCreate: { where: { id: 'f_b2' }, create: { name: 'x', teamId: A } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "children: { set } to another team's folder",
        run: q('Folder', 'update', { where: { id: 'f_a1', teamId: A }, data: { children: { set: [{ id: 'f_b2' }] } } }),
        violation: MISMATCH,
      },
      {
        name: "a child created in another team under the request's folder",
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: { children: { create: { name: 'x', teamId: G } } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'children createMany with one row in another team',
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: {
            children: {
              createMany: {
                data: [
                  { name: 'x', teamId: A },
                  { name: 'y', teamId: G },
                ],
              },
            },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: 'the children moved to another team by a nested updateMany',
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: { children: { updateMany: { where: {}, data: { teamId: G } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "folders createMany-ed under the request's team with another team's parentId",
        run: q('Team', 'update', {
          where: { id: A },
          data: { folders: { createMany: { data: [{ name: 'x', parentId: 'f_b1' }] } } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'subfolders filtered by a pinned parent only (over-blocking: the parent does not prove the child)',
        run: q('Folder', 'findMany', { where: { parent: { teamId: A } } }),
        violation: 'missing_tenant_id',
        ruleOnly: 'a field-scoped model is proven by its own tenant field; no folder links across teams in the seed',
      },
    ],
    passes: [
      {
        name: "a new folder under the request's folder, parentId verified",
        run: q('Folder', 'create', { data: { teamId: A, name: 'Sub', parentId: 'f_a2' } }),
        check: (r) => expect(r).toMatchObject({ teamId: A, parentId: 'f_a2' }),
      },
      {
        name: "folders createMany-ed under the request's team with the request's parentId",
        run: q('Team', 'update', {
          where: { id: A },
          data: { folders: { createMany: { data: [{ name: 'cm', parentId: 'f_a1' }] } } },
        }),
        check: async (_r, base) =>
          expect(await base.folder.findMany({ where: { name: 'cm' } })).toMatchObject([
            { teamId: A, parentId: 'f_a1' },
          ]),
      },
      {
        name: "a child (with a document of its own) created under the request's folder",
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: { children: { create: { teamId: A, name: 'Deep', documents: { create: { title: 'Deep doc' } } } } },
        }),
        check: async (_r, base) =>
          expect(await base.folder.findMany({ where: { name: 'Deep' }, include: { documents: true } })).toMatchObject([
            { teamId: A, parentId: 'f_a1', documents: [{ title: 'Deep doc', teamId: A }] },
          ]),
      },
      {
        name: "children: { set: [] } and a no-op disconnect of another team's folder",
        run: q('Folder', 'update', {
          where: { id: 'f_a1', teamId: A },
          data: { children: { set: [], disconnect: { id: 'f_b2' } } },
        }),
        check: async (_r, base) => {
          expect((await base.folder.findUnique({ where: { id: 'f_a2' } })).parentId).toBeNull()
          expect((await base.folder.findUnique({ where: { id: 'f_b2' } })).parentId).toBe('f_b1')
        },
      },
      {
        name: "a cycle within the request's folders (parent connect, verified)",
        run: q('Folder', 'update', { where: { id: 'f_a1', teamId: A }, data: { parent: { connect: { id: 'f_a2' } } } }),
        check: (r) => expect(r).toMatchObject({ id: 'f_a1', parentId: 'f_a2' }),
      },
      {
        name: 'the tree read three levels deep from pinned roots',
        run: q('Folder', 'findMany', {
          where: { teamId: A, parentId: null },
          include: { children: { include: { children: true, documents: true } }, parent: true },
        }),
        check: (r) =>
          expect(r).toMatchObject([
            { id: 'f_a1', parent: null, children: [{ id: 'f_a2', children: [], documents: [{ id: 'd_a2' }] }] },
          ]),
      },
      {
        name: "a subtree deleted (cascades into the request's folders and documents)",
        run: q('Folder', 'delete', { where: { id: 'f_a1', teamId: A } }),
        check: async (_r, base) => {
          expect(ids(await base.folder.findMany())).toEqual(['f_b1', 'f_b2', 'f_c1'])
          expect(ids(await base.document.findMany())).toEqual(['d_a3', 'd_b1', 'd_b2', 'd_c1'])
        },
      },
    ],
  })
})

describe('the implicit many-to-many (Document.tags ↔ Tag.documents, table _DocumentToTag)', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: "tags: { connect } another team's tag",
        run: q('Document', 'update', { where: { id: 'd_a2', teamId: A }, data: { tags: { connect: { id: 't_b1' } } } }),
        violation: MISMATCH,
        model: 'Tag',
      },
      {
        name: "tags: { set } to another team's tag",
        run: q('Document', 'update', { where: { id: 'd_a2', teamId: A }, data: { tags: { set: [{ id: 't_b1' }] } } }),
        violation: MISMATCH,
      },
      {
        name: 'tags: { connect } by the named compound unique (team_slug) of another team',
        run: q('Document', 'update', {
          where: { id: 'd_a2', teamId: A },
          data: { tags: { connect: { team_slug: { teamId: G, slug: 'urgent' } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'tags: { connect } by team_slug of the case twin (team_acme)',
        run: q('Document', 'update', {
          where: { id: 'd_a2', teamId: A },
          data: { tags: { connect: { team_slug: { teamId: L, slug: 'urgent' } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "tags: { connectOrCreate } finding another team's tag",
        run: q('Document', 'update', {
          where: { id: 'd_a2', teamId: A },
          data: { tags: { connectOrCreate: { where: { id: 't_b1' }, create: { teamId: A, slug: 'x', label: 'x' } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'tags: { connectOrCreate } whose create names another team',
        run: q('Document', 'update', {
          where: { id: 'd_a3', teamId: A },
          data: {
            tags: {
              connectOrCreate: {
                where: { team_slug: { teamId: A, slug: 'new' } },
                create: { teamId: G, slug: 'new', label: 'x' },
              },
            },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: "documents: { connect } another team's document, from the request's tag",
        run: q('Tag', 'update', {
          where: { team_slug: { teamId: A, slug: 'urgent' } },
          data: { documents: { connect: { id: 'd_b1' } } },
        }),
        violation: MISMATCH,
        model: 'Document',
      },
      {
        name: "a new tag linked to another team's document",
        run: q('Tag', 'create', {
          data: { teamId: A, slug: 'n', label: 'n', documents: { connect: [{ id: 'd_b1' }] } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'a tag created in another team under a new document of the request',
        run: q('Document', 'create', {
          data: { teamId: A, title: 't', tags: { create: { teamId: G, slug: 's', label: 'l' } } },
        }),
        violation: MISMATCH,
      },
      {
        name: 'a tag created under a new document that connects another team',
        run: q('Document', 'create', {
          data: {
            title: 't',
            team: { connect: { id: A } },
            tags: { create: { slug: 's', label: 'l', team: { connect: { id: G } } } },
          },
        }),
        violation: MISMATCH,
      },
      {
        name: 'a linked tag moved to another team by a nested update',
        run: q('Document', 'update', {
          where: { id: 'd_a1', teamId: A },
          data: { tags: { update: { where: { id: 't_a1' }, data: { teamId: G } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "tags filtered through another team's documents, unpinned",
        run: q('Tag', 'findMany', { where: { documents: { some: { teamId: G } } } }),
      },
    ],
    passes: [
      {
        name: "tags: { set } to the request's tag (verified)",
        run: q('Document', 'update', {
          where: { id: 'd_a2', teamId: A },
          data: { tags: { set: [{ id: 't_a1' }] } },
          include: { tags: true },
        }),
        check: (r) => expect(ids(r.tags)).toEqual(['t_a1']),
      },
      {
        name: 'tags: { connect } by team_slug of the request (no lookup needed)',
        run: q('Document', 'update', {
          where: { id: 'd_a2', teamId: A },
          data: { tags: { connect: { team_slug: { teamId: A, slug: 'urgent' } } } },
          include: { tags: true },
        }),
        check: (r) => expect(ids(r.tags)).toEqual(['t_a1', 't_a2']),
      },
      {
        name: "documents: { connect } the request's document from its tag",
        run: q('Tag', 'update', {
          where: { team_slug: { teamId: A, slug: 'urgent' } },
          data: { documents: { connect: { id: 'd_a2' } } },
          include: { documents: true },
        }),
        check: (r) => expect(ids(r.documents)).toEqual(['d_a1', 'd_a2']),
      },
      {
        name: "tags: { disconnect } the request's tag, and a no-op disconnect of another team's",
        run: q('Document', 'update', {
          where: { id: 'd_a1', teamId: A },
          data: { tags: { disconnect: [{ id: 't_a2' }, { id: 't_b1' }] } },
          include: { tags: true },
        }),
        check: (r) => expect(ids(r.tags)).toEqual(['t_a1']),
      },
      {
        name: 'linked tags renamed and deleted through their document',
        run: q('Document', 'update', {
          where: { id: 'd_a1', teamId: A },
          data: {
            tags: { updateMany: { where: { slug: 'urgent' }, data: { label: 'Now' } }, deleteMany: { slug: 'q3' } },
          },
        }),
        check: async (_r, base) => {
          expect((await base.tag.findUnique({ where: { id: 't_a1' } })).label).toBe('Now')
          expect(ids(await base.tag.findMany())).toEqual(['t_a1', 't_b1', 't_c1', 't_c2'])
        },
      },
      {
        name: 'a tag created in the request under its new document',
        run: q('Document', 'create', {
          data: { teamId: A, title: 't', tags: { create: { teamId: A, slug: 's', label: 'l' } } },
          include: { tags: true },
        }),
        check: (r) => expect(r.tags).toMatchObject([{ teamId: A, slug: 's' }]),
      },
      {
        name: 'tags filtered by their documents under a pin, counted, and read both ways',
        run: q('Tag', 'findMany', {
          where: { teamId: A, documents: { some: { status: 'draft' } } },
          include: { _count: { select: { documents: true } }, documents: { include: { tags: true } } },
        }),
        check: (r) =>
          expect(r.map((t: any) => [t.id, t._count.documents, ids(t.documents)]).sort()).toEqual([
            ['t_a1', 1, ['d_a1']],
            ['t_a2', 2, ['d_a1', 'd_a2']],
          ]),
      },
    ],
  })
})

describe('the 1:1 whose key is on the other side (Team.settings ← TeamSettings.teamId @unique)', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: "settings: { connect } another team's settings by id",
        run: q('Team', 'update', { where: { id: A }, data: { settings: { connect: { id: 's_b' } } } }),
        violation: MISMATCH,
        model: 'TeamSettings',
      },
      {
        name: "settings: { connect } another team's settings by its unique teamId",
        run: q('Team', 'update', { where: { id: A }, data: { settings: { connect: { teamId: G } } } }),
        violation: MISMATCH,
      },
      {
        name: "settings: { connectOrCreate } finding another team's",
        run: q('Team', 'update', {
          where: { id: A },
          data: { settings: { connectOrCreate: { where: { teamId: G }, create: { locale: 'en' } } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "the request's settings moved to the case twin by team connect",
        run: q('TeamSettings', 'update', { where: { teamId: A }, data: { team: { connect: { id: L } } } }),
        violation: MISMATCH,
      },
      {
        name: "the request's settings moved to the case twin by teamId",
        run: q('TeamSettings', 'update', { where: { teamId: A }, data: { teamId: L } }),
        violation: MISMATCH,
      },
      {
        name: 'settings upserted for the case twin',
        run: q('TeamSettings', 'upsert', { where: { teamId: L }, create: { teamId: L, locale: 'en' }, update: {} }),
        violation: MISMATCH,
      },
      {
        name: 'settings created for the case twin',
        run: q('TeamSettings', 'create', { data: { teamId: L, locale: 'en' } }),
        violation: MISMATCH,
      },
      {
        name: "another team's settings by id",
        run: q('TeamSettings', 'findUnique', { where: { id: 's_b' } }),
        violation: 'missing_tenant_id',
      },
      {
        name: 'teams filtered by their settings, unpinned',
        run: q('Team', 'findMany', { where: { settings: { theme: 'dark' } } }),
        model: 'Team',
      },
      {
        name: 'a nested delete whose filter names another team',
        run: q('Team', 'update', { where: { id: A }, data: { settings: { delete: { teamId: G } } } }),
        violation: MISMATCH,
        ruleOnly: "the nested delete acts on the request's settings only, which the filter does not match",
      },
    ],
    passes: [
      {
        name: "the request's settings updated, upserted and read through its team",
        run: q('Team', 'update', {
          where: { id: A },
          data: { settings: { upsert: { create: { locale: 'en' }, update: { locale: 'de' } } } },
          include: { settings: true },
        }),
        check: (r) => expect(r.settings).toMatchObject({ id: 's_a', teamId: A, locale: 'de' }),
      },
      {
        name: "the request's settings by their unique teamId",
        run: q('TeamSettings', 'update', {
          where: { teamId: A },
          data: { theme: 'dark' },
          include: { team: { include: { documents: true } } },
        }),
        check: (r) => expect(ids(r.team.documents)).toEqual(['d_a1', 'd_a2', 'd_a3']),
      },
      {
        name: "the request's settings deleted through its team",
        run: q('Team', 'update', { where: { id: A }, data: { settings: { delete: true } } }),
        check: async (_r, base) => expect(ids(await base.teamSettings.findMany())).toEqual(['s_b']),
      },
      {
        name: 'teams without settings, pinned',
        run: q('Team', 'findMany', { where: { id: A, settings: null } }),
        check: (r) => expect(r).toEqual([]),
      },
      {
        name: 'its own settings re-connected (a no-op)',
        run: q('Team', 'update', {
          where: { id: A },
          data: { settings: { connect: { teamId: A } } },
          include: { settings: true },
        }),
        check: (r) => expect(r.settings.id).toBe('s_a'),
      },
    ],
  })

  // The request's team has settings: connecting another row fails on the unique key. Without its own,
  // the other team's settings would move in: the request first deletes its own (allowed), in one transaction.
  bothWays(app.env, {
    blocked: [
      {
        name: "another team's settings stolen once the request's are gone (one transaction)",
        run: (p) =>
          rolledBack(p, async (tx) => {
            await tx.teamSettings.delete({ where: { teamId: A } })
            return tx.team.update({
              where: { id: A },
              data: { settings: { connect: { id: 's_b' } } },
              include: { settings: true },
            })
          }),
        violation: MISMATCH,
      },
    ],
    passes: [
      {
        name: 'new settings created for the request once its own are gone (one transaction)',
        run: (p) =>
          rolledBack(p, async (tx) => {
            await tx.teamSettings.delete({ where: { teamId: A } })
            return tx.team.update({
              where: { id: A },
              data: { settings: { create: { locale: 'it' } } },
              include: { settings: true },
            })
          }),
        check: (r) => expect(r.settings).toMatchObject({ teamId: A, locale: 'it' }),
      },
    ],
  })
})

describe('string tenant ids that differ only by case (team_Acme is the request, team_acme another team)', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: "the case twin's documents",
        run: q('Document', 'findMany', { where: { teamId: L } }),
        violation: MISMATCH,
      },
      {
        name: 'both spellings in one in-list',
        run: q('Document', 'findMany', { where: { teamId: { in: [A, L] } } }),
        violation: MISMATCH,
      },
      {
        name: 'contains (SQLite LIKE ignores case: it matches both teams)',
        run: q('Document', 'findMany', { where: { teamId: { contains: 'team_acme' } } }),
        violation: 'missing_tenant_id',
      },
      {
        name: 'a document created in the case twin',
        run: q('Document', 'create', { data: { teamId: L, title: 't' } }),
        violation: MISMATCH,
      },
      {
        name: "a comment on the case twin's document (the lookup compares ids exactly)",
        run: q('Comment', 'create', { data: { documentId: 'd_c1', authorId: 'u_dave', body: 'b' } }),
        violation: MISMATCH,
      },
      {
        name: 'a membership in the case twin, its team connected by slug',
        run: q('Membership', 'create', {
          data: { team: { connect: { slug: 'acme-2' } }, user: { connect: { id: 'u_erin' } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "the case twin's document linked to the request's tag",
        run: q('Tag', 'update', {
          where: { team_slug: { teamId: A, slug: 'q3' } },
          data: { documents: { connect: { id: 'd_c1' } } },
        }),
        violation: MISMATCH,
      },
      {
        name: "the case twin's team row",
        run: q('Team', 'findUnique', { where: { id: L } }),
        violation: MISMATCH,
      },
      {
        name: 'the upper-case spelling (no such team) is another tenant, not the request',
        run: q('Document', 'findMany', { where: { teamId: A.toUpperCase() } }),
        violation: MISMATCH,
        ruleOnly: 'no team has that id',
      },
      {
        name: 'a trailing space is another tenant',
        run: q('Document', 'findMany', { where: { teamId: `${A} ` } }),
        violation: MISMATCH,
        ruleOnly: 'no team has that id',
      },
      {
        // Prisma refuses `mode` on SQLite; on PostgreSQL this filter matches team_acme too
        name: "equals with mode: 'insensitive' is no pin (on PostgreSQL it matches the case twin)",
        run: (p) => p.document.findMany({ where: { teamId: { equals: A, mode: 'insensitive' } } }),
        violation: 'missing_tenant_id',
      },
    ],
    passes: [
      {
        name: 'the request spelled twice in an in-list',
        run: q('Document', 'findMany', { where: { teamId: { in: [A, A] } } }),
        check: (r) => expect(ids(r)).toEqual(['d_a1', 'd_a2', 'd_a3']),
      },
      {
        name: 'equals beside contains (equals pins, contains narrows)',
        run: q('Document', 'findMany', { where: { teamId: { equals: A, contains: 'acme' } } }),
        check: (r) => expect(ids(r)).toEqual(['d_a1', 'd_a2', 'd_a3']),
      },
      {
        name: "a document whose team is connected by the request's slug (verified)",
        run: q('Document', 'create', { data: { title: 't', team: { connect: { slug: 'acme' } } } }),
        check: (r) => expect(r.teamId).toBe(A),
      },
    ],
  })
})
