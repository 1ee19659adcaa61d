// The second isolation schema (test/fixtures/isolation-app/schema.prisma), a multi-team app, as the
// isolation tests see it: written by hand from the schema (helpers/isolation-schema.ts says why).
// Three teams with string ids, two of which differ only by case (team_Acme, the request's, and
// team_acme), one person (alice) in two teams and another (carol) in the two others, rows whose
// titles, slugs and folder names repeat across teams, and a many-to-many of documents and tags.
// DocumentMeta and TeamGlobalSettings are owned through a 1:1 whose key their owner holds; one row of
// each belongs to no tenant (created by another request, never linked): the ground truth counts such a
// row as nobody's (like a global row), so a shape the rule refuses on it is marked ruleOnly.
import { openAppDatabase } from './isolation-app-client.ts'
import type { GenQuery } from './isolation-gen.ts'
import type { IsolationSchema, ModelInfo, Row, RowId, TenantId } from './isolation-schema.ts'

/** The request's team, another team, and a third whose id differs from the request's only by case. */
export const ACME = 'team_Acme'
export const GLOBEX = 'team_Globex'
export const ACME_LOWER = 'team_acme'
export const TEAMS = [ACME, GLOBEX, ACME_LOWER] as const

/** The request of every test: team_Acme, user alice (a member of team_Globex too). */
export const REQUEST = { tenantId: ACME, userId: 'u_alice', endpoint: '/api/isolation-app', method: 'POST' } as const

const EMAILS = [
  'alice@example.test',
  'bob@example.test',
  'carol@example.test',
  'dave@example.test',
  'erin@example.test',
]

export const APP_MODELS: Record<string, ModelInfo> = {
  Plan: {
    name: 'Plan',
    prop: 'plan',
    scope: { kind: 'global' },
    strings: { name: ['free', 'pro'] },
    booleans: [],
    relations: [{ name: 'teams', model: 'Team', list: true, optional: false }],
    uniques: [{ name: 'name', fields: ['name'] }],
    plainInUnique: ['name'],
    fresh: ['name'],
  },
  Team: {
    name: 'Team',
    prop: 'team',
    scope: { kind: 'tenant' },
    strings: { slug: ['acme', 'globex'], name: ['Acme', 'Globex'] },
    booleans: [],
    relations: [
      { name: 'plan', model: 'Plan', list: false, optional: false, fk: 'planId' },
      { name: 'settings', model: 'TeamSettings', list: false, optional: true },
      { name: 'globalSettings', model: 'TeamGlobalSettings', list: false, optional: true, fk: 'globalSettingsId' },
      { name: 'memberships', model: 'Membership', list: true, optional: false },
      { name: 'folders', model: 'Folder', list: true, optional: false },
      { name: 'documents', model: 'Document', list: true, optional: false },
      { name: 'tags', model: 'Tag', list: true, optional: false },
    ],
    uniques: [{ name: 'slug', fields: ['slug'] }],
    plainInUnique: ['slug'],
    fresh: ['slug'],
  },
  TeamSettings: {
    name: 'TeamSettings',
    prop: 'teamSettings',
    scope: { kind: 'field' },
    strings: { theme: ['light', 'dark'], locale: ['en', 'fr'] },
    booleans: [],
    relations: [{ name: 'team', model: 'Team', list: false, optional: false, fk: 'teamId' }],
    uniques: [{ name: 'teamId', fields: ['teamId'] }],
    plainInUnique: ['teamId'],
  },
  User: {
    name: 'User',
    prop: 'user',
    scope: { kind: 'global' },
    strings: { email: EMAILS, name: ['Alice', 'Carol'] },
    booleans: [],
    relations: [
      { name: 'memberships', model: 'Membership', list: true, optional: false },
      { name: 'documents', model: 'Document', list: true, optional: false },
      { name: 'comments', model: 'Comment', list: true, optional: false },
    ],
    uniques: [{ name: 'email', fields: ['email'] }],
    plainInUnique: ['email'],
    fresh: ['email'],
  },
  Membership: {
    name: 'Membership',
    prop: 'membership',
    scope: { kind: 'field' },
    strings: { role: ['owner', 'member'] },
    booleans: [],
    relations: [
      { name: 'team', model: 'Team', list: false, optional: false, fk: 'teamId' },
      { name: 'user', model: 'User', list: false, optional: false, fk: 'userId' },
    ],
    uniques: [{ name: 'teamId_userId', fields: ['teamId', 'userId'] }],
  },
  Folder: {
    name: 'Folder',
    prop: 'folder',
    scope: { kind: 'field' },
    strings: { name: ['Inbox', 'Specs'] },
    booleans: [],
    relations: [
      { name: 'team', model: 'Team', list: false, optional: false, fk: 'teamId' },
      { name: 'parent', model: 'Folder', list: false, optional: true, fk: 'parentId', inverse: 'children' },
      { name: 'children', model: 'Folder', list: true, optional: false, inverse: 'parent' },
      { name: 'documents', model: 'Document', list: true, optional: false },
    ],
    uniques: [{ name: 'teamId_id', fields: ['teamId', 'id'] }],
  },
  Document: {
    name: 'Document',
    prop: 'document',
    scope: { kind: 'field' },
    strings: { title: ['Roadmap', 'Budget'], status: ['draft', 'published'] },
    booleans: ['archived'],
    relations: [
      { name: 'team', model: 'Team', list: false, optional: false, fk: 'teamId' },
      { name: 'folder', model: 'Folder', list: false, optional: true, fk: 'folderId', composite: true },
      { name: 'author', model: 'User', list: false, optional: true, fk: 'authorId' },
      { name: 'comments', model: 'Comment', list: true, optional: false },
      { name: 'tags', model: 'Tag', list: true, optional: false },
      { name: 'meta', model: 'DocumentMeta', list: false, optional: true, fk: 'metaId' },
    ],
    uniques: [],
  },
  Comment: {
    name: 'Comment',
    prop: 'comment',
    scope: { kind: 'via', relation: 'document' },
    strings: { body: ['lgtm', '+1'] },
    booleans: [],
    relations: [
      { name: 'document', model: 'Document', list: false, optional: false, fk: 'documentId' },
      { name: 'author', model: 'User', list: false, optional: false, fk: 'authorId' },
    ],
    uniques: [],
  },
  DocumentMeta: {
    name: 'DocumentMeta',
    prop: 'documentMeta',
    scope: { kind: 'owner', relation: 'document', model: 'Document', fk: 'metaId' },
    strings: { subject: ['Sign this', 'Please review'] },
    booleans: [],
    relations: [{ name: 'document', model: 'Document', list: false, optional: true }],
    uniques: [],
  },
  TeamGlobalSettings: {
    name: 'TeamGlobalSettings',
    prop: 'teamGlobalSettings',
    scope: { kind: 'owner', relation: 'team', model: 'Team', fk: 'globalSettingsId' },
    strings: { brandColor: ['#000000', '#ff0000'] },
    booleans: [],
    relations: [{ name: 'team', model: 'Team', list: false, optional: true }],
    uniques: [],
  },
  Tag: {
    name: 'Tag',
    prop: 'tag',
    scope: { kind: 'field' },
    strings: { slug: ['urgent', 'q3'], label: ['Urgent', 'Q3'] },
    booleans: [],
    relations: [
      { name: 'team', model: 'Team', list: false, optional: false, fk: 'teamId' },
      { name: 'documents', model: 'Document', list: true, optional: false },
    ],
    uniques: [{ name: 'team_slug', fields: ['teamId', 'slug'] }],
  },
}

/** The seed. Owner of each row in a comment: A is team_Acme (the request's), G team_Globex, a team_acme. */
export const APP_SEED = {
  Plan: [
    { id: 'plan_free', name: 'free' }, // team_Acme and team_acme
    { id: 'plan_pro', name: 'pro' }, // team_Globex
    { id: 'plan_empty', name: 'legacy' }, // no team
  ],
  TeamGlobalSettings: [
    { id: 'gs_a', brandColor: '#ff0000' }, // A
    { id: 'gs_b', brandColor: '#00ff00' }, // G
    { id: 'gs_orphan', brandColor: '#0000ff' }, // no team holds it: nobody's yet
  ],
  Team: [
    { id: ACME, slug: 'acme', name: 'Acme', planId: 'plan_free', globalSettingsId: 'gs_a' },
    { id: GLOBEX, slug: 'globex', name: 'Globex', planId: 'plan_pro', globalSettingsId: 'gs_b' },
    { id: ACME_LOWER, slug: 'acme-2', name: 'Acme', planId: 'plan_free' },
  ],
  TeamSettings: [
    { id: 's_a', teamId: ACME, theme: 'light', locale: 'en' },
    { id: 's_b', teamId: GLOBEX, theme: 'dark', locale: 'fr' },
    // team_acme has none: a settings row connected to it moves cleanly
  ],
  User: [
    { id: 'u_alice', email: EMAILS[0]!, name: 'Alice' }, // A owner, G member
    { id: 'u_bob', email: EMAILS[1]!, name: 'Bob' }, // A member
    { id: 'u_carol', email: EMAILS[2]!, name: 'Carol' }, // G owner, a member
    { id: 'u_dave', email: EMAILS[3]!, name: 'Dave' }, // a owner
    { id: 'u_erin', email: EMAILS[4]!, name: 'Erin' }, // no team
  ],
  Membership: [
    { id: 'm_a1', teamId: ACME, userId: 'u_alice', role: 'owner' },
    { id: 'm_a2', teamId: ACME, userId: 'u_bob', role: 'member' },
    { id: 'm_b1', teamId: GLOBEX, userId: 'u_alice', role: 'member' },
    { id: 'm_b2', teamId: GLOBEX, userId: 'u_carol', role: 'owner' },
    { id: 'm_c1', teamId: ACME_LOWER, userId: 'u_carol', role: 'member' },
    { id: 'm_c2', teamId: ACME_LOWER, userId: 'u_dave', role: 'owner' },
  ],
  Folder: [
    { id: 'f_a1', teamId: ACME, name: 'Inbox', parentId: null },
    { id: 'f_a2', teamId: ACME, name: 'Specs', parentId: 'f_a1' },
    { id: 'f_b1', teamId: GLOBEX, name: 'Inbox', parentId: null },
    { id: 'f_b2', teamId: GLOBEX, name: 'Specs', parentId: 'f_b1' },
    { id: 'f_c1', teamId: ACME_LOWER, name: 'Inbox', parentId: null },
  ],
  DocumentMeta: [
    { id: 'dm_a1', subject: 'Sign this' }, // A (d_a1)
    { id: 'dm_b1', subject: 'Sign this' }, // G (d_b1)
    { id: 'dm_orphan', subject: 'Please review' }, // no document holds it: nobody's yet
  ],
  Document: [
    {
      id: 'd_a1',
      teamId: ACME,
      folderId: 'f_a1',
      authorId: 'u_alice',
      title: 'Roadmap',
      status: 'draft',
      archived: false,
      metaId: 'dm_a1',
    },
    {
      id: 'd_a2',
      teamId: ACME,
      folderId: 'f_a2',
      authorId: 'u_bob',
      title: 'Budget',
      status: 'published',
      archived: false,
    },
    { id: 'd_a3', teamId: ACME, folderId: null, authorId: null, title: 'Roadmap', status: 'draft', archived: true },
    {
      id: 'd_b1',
      teamId: GLOBEX,
      folderId: 'f_b1',
      authorId: 'u_alice',
      title: 'Roadmap',
      status: 'draft',
      archived: false,
      metaId: 'dm_b1',
    },
    {
      id: 'd_b2',
      teamId: GLOBEX,
      folderId: 'f_b2',
      authorId: 'u_carol',
      title: 'Budget',
      status: 'published',
      archived: false,
    },
    {
      id: 'd_c1',
      teamId: ACME_LOWER,
      folderId: 'f_c1',
      authorId: 'u_dave',
      title: 'Roadmap',
      status: 'draft',
      archived: false,
    },
  ],
  Comment: [
    { id: 'c_a1', documentId: 'd_a1', authorId: 'u_bob', body: 'lgtm' },
    { id: 'c_a2', documentId: 'd_a2', authorId: 'u_alice', body: '+1' },
    { id: 'c_b1', documentId: 'd_b1', authorId: 'u_carol', body: 'lgtm' },
    { id: 'c_b2', documentId: 'd_b1', authorId: 'u_alice', body: '+1' },
    { id: 'c_c1', documentId: 'd_c1', authorId: 'u_dave', body: 'lgtm' },
  ],
  Tag: [
    { id: 't_a1', teamId: ACME, slug: 'urgent', label: 'Urgent' },
    { id: 't_a2', teamId: ACME, slug: 'q3', label: 'Q3' },
    { id: 't_b1', teamId: GLOBEX, slug: 'urgent', label: 'Urgent' },
    { id: 't_c1', teamId: ACME_LOWER, slug: 'urgent', label: 'Urgent' },
    { id: 't_c2', teamId: ACME_LOWER, slug: 'q3', label: 'Q3' },
  ],
} as const satisfies Record<string, ReadonlyArray<Row>>

/** Document ↔ Tag links (table _DocumentToTag: A is the document, B the tag). */
export const APP_LINKS: ReadonlyArray<readonly [RowId, RowId]> = [
  ['d_a1', 't_a1'],
  ['d_a1', 't_a2'],
  ['d_a2', 't_a2'],
  ['d_b1', 't_b1'],
  ['d_c1', 't_c1'],
  ['d_c1', 't_c2'],
]

const INSERT_ORDER = [
  'Plan',
  'TeamGlobalSettings',
  'Team',
  'TeamSettings',
  'User',
  'Membership',
  'Folder',
  'DocumentMeta',
  'Document',
  'Comment',
  'Tag',
]


/** The model of each seeded id (ids are unique across models here), for twists that keep an id's kind. */
const MODEL_OF_ID = new Map<unknown, string>(
  Object.entries(APP_SEED).flatMap(([m, rows]) => rows.map((r) => [r.id as unknown, m] as const)),
)
const MISSING = 'ck_missing'

/** Scoped queries of team_Acme, twisted into near misses by the fuzz test. */
const TEMPLATES: readonly GenQuery[] = [
  // composite foreign key (teamId, folderId): bare, by connect, nested under a folder and a team
  { model: 'Document', op: 'update', args: { where: { id: 'd_a1', teamId: ACME }, data: { folderId: 'f_a2' } } },
  {
    model: 'Document',
    op: 'update',
    args: { where: { id: 'd_a3', teamId: ACME }, data: { folder: { connect: { id: 'f_a2' } } } },
  },
  {
    model: 'Document',
    op: 'create',
    args: { data: { teamId: ACME, title: 'New', folderId: 'f_a1', authorId: 'u_bob' } },
  },
  {
    model: 'Document',
    op: 'create',
    args: {
      data: { title: 'New', team: { connect: { id: ACME } }, folder: { connect: { id: 'f_a1', teamId: ACME } } },
    },
  },
  {
    model: 'Folder',
    op: 'update',
    args: { where: { id: 'f_a1', teamId: ACME }, data: { documents: { connect: { id: 'd_a3' } } } },
  },
  {
    model: 'Team',
    op: 'update',
    args: {
      where: { id: ACME },
      data: { documents: { create: { title: 'New', folder: { connect: { id: 'f_a2' } } } } },
    },
  },
  {
    model: 'Document',
    op: 'update',
    args: { where: { id: 'd_a1', teamId: ACME }, data: { folder: { disconnect: true } } },
  },
  // the self-relation
  { model: 'Folder', op: 'create', args: { data: { teamId: ACME, name: 'Sub', parentId: 'f_a2' } } },
  {
    model: 'Folder',
    op: 'update',
    args: { where: { id: 'f_a2', teamId: ACME }, data: { parent: { connect: { id: 'f_a1' } } } },
  },
  {
    model: 'Folder',
    op: 'update',
    args: { where: { id: 'f_a1', teamId: ACME }, data: { children: { connect: { id: 'f_a2' } } } },
  },
  {
    model: 'Folder',
    op: 'update',
    args: {
      where: { id: 'f_a1', teamId: ACME },
      data: { children: { create: { teamId: ACME, name: 'Deep', documents: { create: { title: 'Deep doc' } } } } },
    },
  },
  {
    model: 'Folder',
    op: 'findMany',
    args: { where: { teamId: ACME, parent: { name: 'Inbox' } }, include: { parent: true, children: true } },
  },
  // the implicit many-to-many
  {
    model: 'Document',
    op: 'update',
    args: { where: { id: 'd_a2', teamId: ACME }, data: { tags: { connect: { id: 't_a1' } } } },
  },
  {
    model: 'Document',
    op: 'update',
    args: { where: { id: 'd_a2', teamId: ACME }, data: { tags: { set: [{ id: 't_a1' }] } } },
  },
  {
    model: 'Document',
    op: 'update',
    args: { where: { id: 'd_a1', teamId: ACME }, data: { tags: { disconnect: { id: 't_a2' } } } },
  },
  {
    model: 'Tag',
    op: 'update',
    args: { where: { team_slug: { teamId: ACME, slug: 'urgent' } }, data: { documents: { connect: { id: 'd_a2' } } } },
  },
  {
    model: 'Document',
    op: 'update',
    args: {
      where: { id: 'd_a3', teamId: ACME },
      data: {
        tags: {
          connectOrCreate: {
            where: { team_slug: { teamId: ACME, slug: 'q3' } },
            create: { teamId: ACME, slug: 'q3', label: 'Q3' },
          },
        },
      },
    },
  },
  {
    model: 'Tag',
    op: 'findMany',
    args: { where: { teamId: ACME, documents: { some: { status: 'draft' } } }, include: { _count: true } },
  },
  // the 1:1 whose key is on the other side
  { model: 'Team', op: 'update', args: { where: { id: ACME }, data: { settings: { update: { theme: 'dark' } } } } },
  {
    model: 'Team',
    op: 'update',
    args: {
      where: { id: ACME },
      data: { settings: { upsert: { create: { locale: 'en' }, update: { locale: 'fr' } } } },
    },
  },
  { model: 'Team', op: 'update', args: { where: { id: ACME }, data: { settings: { connect: { id: 's_a' } } } } },
  { model: 'TeamSettings', op: 'update', args: { where: { teamId: ACME }, data: { theme: 'dark' } } },
  {
    model: 'TeamSettings',
    op: 'update',
    args: { where: { teamId: ACME }, data: { team: { connect: { id: ACME } } } },
  },
  { model: 'Team', op: 'findUnique', args: { where: { id: ACME }, include: { settings: true } } },
  // scoped through a relation
  { model: 'Comment', op: 'create', args: { data: { documentId: 'd_a1', authorId: 'u_bob', body: 'x' } } },
  {
    model: 'Comment',
    op: 'create',
    args: {
      data: { body: 'x', document: { connect: { id: 'd_a2', teamId: ACME } }, author: { connect: { id: 'u_alice' } } },
    },
  },
  {
    model: 'Document',
    op: 'update',
    args: { where: { id: 'd_a1', teamId: ACME }, data: { comments: { connect: { id: 'c_a2' } } } },
  },
  {
    model: 'Comment',
    op: 'findMany',
    args: { where: { document: { teamId: ACME } }, include: { author: true, document: { include: { tags: true } } } },
  },
  { model: 'Comment', op: 'update', args: { where: { id: 'c_a1', document: { teamId: ACME } }, data: { body: 'y' } } },
  // memberships and the global user
  { model: 'Membership', op: 'create', args: { data: { teamId: ACME, userId: 'u_erin' } } },
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 'u_erin' }, data: { memberships: { create: { teamId: ACME, role: 'member' } } } },
  },
  { model: 'User', op: 'findMany', args: { where: { memberships: { some: { teamId: ACME } } } } },
  {
    model: 'User',
    op: 'findUnique',
    args: { where: { id: 'u_alice' }, include: { memberships: { where: { teamId: ACME }, include: { team: true } } } },
  },
  {
    model: 'Document',
    op: 'findMany',
    args: { where: { teamId: ACME }, include: { author: { include: { memberships: { where: { teamId: ACME } } } } } },
  },
  {
    model: 'Document',
    op: 'findMany',
    args: { where: { teamId: ACME, author: { memberships: { some: { teamId: ACME, role: 'owner' } } } } },
  },
  {
    model: 'Membership',
    op: 'findMany',
    args: { where: { teamId: ACME }, include: { user: { include: { documents: { where: { teamId: ACME } } } } } },
  },
  {
    model: 'Membership',
    op: 'findUnique',
    args: { where: { teamId_userId: { teamId: ACME, userId: 'u_bob' } }, include: { user: true } },
  },
  { model: 'User', op: 'update', args: { where: { id: 'u_bob' }, data: { name: 'Robert' } } },
  {
    model: 'User',
    op: 'update',
    args: { where: { id: 'u_bob' }, data: { memberships: { deleteMany: { teamId: ACME } } } },
  },
  // the global plan
  { model: 'Plan', op: 'findMany', args: { include: { teams: { where: { id: ACME } } } } },
  {
    model: 'Plan',
    op: 'findUnique',
    args: { where: { id: 'plan_free' }, select: { _count: { select: { teams: { where: { id: ACME } } } } } },
  },
  { model: 'Team', op: 'update', args: { where: { id: ACME }, data: { plan: { connect: { id: 'plan_pro' } } } } },
  // reads, cursors, writes of the request's own rows
  {
    model: 'Team',
    op: 'findUnique',
    args: { where: { id: ACME }, include: { folders: { where: { parentId: null }, include: { children: true } } } },
  },
  {
    model: 'Document',
    op: 'findMany',
    args: { where: { teamId: ACME }, cursor: { id: 'd_a2', teamId: ACME }, take: 2 },
  },
  {
    model: 'Document',
    op: 'updateMany',
    args: { where: { teamId: ACME, folderId: 'f_a1' }, data: { status: 'published' } },
  },
  {
    model: 'Tag',
    op: 'upsert',
    args: {
      where: { team_slug: { teamId: ACME, slug: 'new' } },
      create: { teamId: ACME, slug: 'new', label: 'N' },
      update: { label: 'N' },
    },
  },
  {
    model: 'Team',
    op: 'update',
    args: {
      where: { id: ACME },
      data: {
        folders: {
          update: {
            where: { id: 'f_a1' },
            data: { documents: { updateMany: { where: {}, data: { archived: true } } } },
          },
        },
      },
    },
  },
  { model: 'Document', op: 'delete', args: { where: { id: 'd_a3', teamId: ACME } } },
  { model: 'Folder', op: 'deleteMany', args: { where: { teamId: ACME, parentId: 'f_a1' } } },
  {
    model: 'Document',
    op: 'update',
    args: { where: { id: 'd_a1', teamId: ACME }, data: { author: { connect: { id: 'u_carol' } } } },
  },
]

/** The app's schema description: test/isolation-app*.test.ts run on it. */
export const APP: IsolationSchema = {
  name: 'the multi-team app schema (test/fixtures/isolation-app)',
  models: APP_MODELS,
  tenantField: 'teamId',
  request: REQUEST,
  others: [GLOBEX, ACME_LOWER],
  seed: APP_SEED,
  insertOrder: INSERT_ORDER,
  linkTables: [{ table: '_DocumentToTag', a: 'Document', b: 'Tag' }],
  linkSeed: { _DocumentToTag: APP_LINKS },
  volatile: [],
  // every tenant-owned row hangs from its team by a cascading key (join rows from their documents and tags)
  // (a row owned through a key its owner holds goes first; a row no team holds is nobody's and stays)
  deleteOthers: (t) => [
    `DELETE FROM "document_meta" WHERE "id" IN (SELECT "meta_id" FROM "documents" WHERE "team_id" <> ${t})`,
    `DELETE FROM "team_global_settings" WHERE "id" IN (SELECT "global_settings_id" FROM "teams" WHERE "id" <> ${t})`,
    `DELETE FROM "teams" WHERE "id" <> ${t}`,
  ],
  alterOthers: (t) => [
    `UPDATE "document_meta" SET "subject" = 'zz-' || "subject" WHERE "id" IN (SELECT "meta_id" FROM "documents" WHERE "team_id" <> ${t})`,
    `UPDATE "team_global_settings" SET "brand_color" = 'zz-' || "brand_color" WHERE "id" IN (SELECT "global_settings_id" FROM "teams" WHERE "id" <> ${t})`,
    `UPDATE "teams" SET "slug" = 'zz-' || "slug", "name" = 'zz-' || "name" WHERE "id" <> ${t}`,
    `UPDATE "team_settings" SET "theme" = 'zz-' || "theme", "locale" = 'zz-' || "locale" WHERE "team_id" <> ${t}`,
    `UPDATE "memberships" SET "role" = 'zz-' || "role" WHERE "team_id" <> ${t}`,
    `UPDATE "folders" SET "name" = 'zz-' || "name", "parent_id" = NULL WHERE "team_id" <> ${t}`,
    `UPDATE "documents" SET "title" = 'zz-' || "title", "status" = 'zz-' || "status", "archived" = NOT "archived",
       "author_id" = NULL WHERE "team_id" <> ${t}`,
    `UPDATE "comments" SET "body" = 'zz-' || "body" WHERE "document_id" IN (SELECT "id" FROM "documents" WHERE "team_id" <> ${t})`,
    `UPDATE "tags" SET "slug" = 'zz-' || "slug", "label" = 'zz-' || "label" WHERE "team_id" <> ${t}`,
  ],
  open: openAppDatabase,
  gen: {
    newScalars(m, g, fresh) {
      switch (m) {
        case 'Plan':
          return { name: g.chance(0.1) ? 'free' : fresh('plan-') }
        case 'Team':
          return { id: g.pick<TenantId>([ACME, GLOBEX, fresh('team_')]), slug: fresh('s-'), name: fresh('T') }
        case 'TeamSettings':
          return { locale: g.pick(['en', 'fr']) }
        case 'User':
          return { email: g.chance(0.15) ? g.pick(EMAILS) : `${fresh('u')}@new.test`, name: 'New' }
        case 'Membership':
          return { role: g.pick(['owner', 'member']) }
        case 'Folder':
          return { name: g.pick(['Inbox', 'Specs', 'Archive']) }
        case 'Document':
          return { title: g.pick(['Roadmap', 'Budget', 'Notes']) }
        case 'Comment':
          return { body: g.pick(['lgtm', '+1', 'nit']) }
        case 'Tag':
          return { slug: g.chance(0.2) ? g.pick(['urgent', 'q3']) : fresh('tag-'), label: 'L' }
        default:
          return {}
      }
    },
    newTenant: (id, fresh) => ({ id, slug: fresh('s-'), name: fresh('T'), planId: 'plan_free' }),
    tenantUpdates: [ACME, GLOBEX, { set: ACME }, { set: GLOBEX }, { set: ACME_LOWER }],
    missingId: MISSING,
    idBound: (n) => ['', 'd_a3', 'd_b', 'f_b', 'm_c'][n]!,
    widenIds: ['d_b1', 'f_b1', 'm_b2', 't_c1', 'c_b1', 's_b'],
    weightedModels: [
      ...INSERT_ORDER,
      ...['Document', 'Document', 'Folder', 'Folder', 'Team', 'Team', 'User', 'User', 'Tag', 'Comment', 'Plan'],
    ],
    templates: TEMPLATES,
    twistable: (_key, value) =>
      typeof value === 'string' && (MODEL_OF_ID.has(value) || (TEAMS as readonly string[]).includes(value)),
    twist(key, value, g) {
      if (key === 'teamId' || (TEAMS as readonly unknown[]).includes(value)) return g.pick([GLOBEX, ACME_LOWER, ACME])
      const m = MODEL_OF_ID.get(value)!
      return g.pick([...APP_SEED[m as keyof typeof APP_SEED].map((r) => r.id), MISSING])
    },
  },
}
