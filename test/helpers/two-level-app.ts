// The two-level fixture (test/fixtures/two-level-app: Langfuse's Organization → Project) as the
// isolation tests see it, written by hand from the schema (helpers/isolation-schema.ts says why).
// Two organisations with two projects each, so that a project of the same organisation (a sibling)
// and a project of another organisation both exist, with rows of every model in every project and
// organisation; names, versions and roles repeat across projects and organisations on purpose.
//
// Ownership for the ground truth: a project-level row belongs to its project (projectId, or its
// prompt's for PromptDependency), an organisation-level row and a Project row to its organisation
// (orgId), an Organization row to itself, a User to nobody. Which owners a request may touch:
//   - TWO_LEVEL (a project's request: o_acme and p_a1): o_acme's organisation-level rows, every
//     Project row of o_acme (a project is a row of its organisation), p_a1's project-level rows;
//   - TWO_LEVEL_WIDE (an org admin: o_acme, scope 'organization'): o_acme's rows and those of both of
//     its projects.
import type { GenQuery } from './isolation-gen.ts'
import type { IsolationSchema, ModelInfo, Row, RowId, TenantId } from './isolation-schema.ts'
import { openTwoLevelSqlite } from './two-level-client.ts'

/** The request's organisation and project, its sibling project, the other organisation and its projects. */
export const ORG_A = 'o_acme'
export const ORG_B = 'o_globex'
export const P_A1 = 'p_a1'
export const P_A2 = 'p_a2'
export const P_B1 = 'p_b1'
export const P_B2 = 'p_b2'
export const ORGS = [ORG_A, ORG_B] as const
export const PROJECTS = [P_A1, P_A2, P_B1, P_B2] as const

const BASE_REQUEST = { userId: 'u_alice', endpoint: '/api/two-level', method: 'POST' } as const
/** A project's request (normal scope): one id per level. */
export const PROJECT_CONTEXT = { ...BASE_REQUEST, tenantIds: { organization: ORG_A, project: P_A1 } } as const
/** An organisation admin's request: the organisation only, all of its projects (`scope: 'organization'`). */
export const WIDE_CONTEXT = { ...BASE_REQUEST, tenantIds: { organization: ORG_A }, scope: 'organization' } as const
/** The organisation only and no scope: organisation-level rows only. */
export const ORG_ONLY_CONTEXT = { ...BASE_REQUEST, tenantIds: { organization: ORG_A } } as const

const EMAILS = ['alice@example.test', 'bob@example.test', 'carol@example.test', 'dave@example.test', 'erin@example.test']

export const TWO_LEVEL_MODELS: Record<string, ModelInfo> = {
  User: {
    name: 'User',
    prop: 'user',
    scope: { kind: 'global' },
    strings: { email: EMAILS, name: ['Alice', 'Carol'] },
    booleans: [],
    relations: [
      { name: 'organizationMemberships', model: 'OrganizationMembership', list: true, optional: false },
      { name: 'projectMemberships', model: 'ProjectMembership', list: true, optional: false },
      { name: 'invitationsSent', model: 'MembershipInvitation', list: true, optional: false },
    ],
    uniques: [{ name: 'email', fields: ['email'] }],
    plainInUnique: ['email'],
    fresh: ['email'],
  },
  Organization: {
    name: 'Organization',
    prop: 'organization',
    scope: { kind: 'tenant', field: 'orgId' },
    strings: { name: ['Acme', 'Globex'] },
    booleans: [],
    relations: [
      { name: 'organizationMemberships', model: 'OrganizationMembership', list: true, optional: false },
      { name: 'projects', model: 'Project', list: true, optional: false },
      { name: 'invitations', model: 'MembershipInvitation', list: true, optional: false },
    ],
    uniques: [],
  },
  OrganizationMembership: {
    name: 'OrganizationMembership',
    prop: 'organizationMembership',
    scope: { kind: 'field', field: 'orgId' },
    strings: { role: ['OWNER', 'MEMBER'] },
    booleans: [],
    relations: [
      { name: 'organization', model: 'Organization', list: false, optional: false, fk: 'orgId' },
      { name: 'user', model: 'User', list: false, optional: false, fk: 'userId' },
      { name: 'projectMemberships', model: 'ProjectMembership', list: true, optional: false },
    ],
    uniques: [{ name: 'orgId_userId', fields: ['orgId', 'userId'] }],
  },
  MembershipInvitation: {
    name: 'MembershipInvitation',
    prop: 'membershipInvitation',
    scope: { kind: 'field', field: 'orgId' },
    strings: { email: ['erin@example.test', 'frank@example.test'] },
    booleans: [],
    relations: [
      { name: 'organization', model: 'Organization', list: false, optional: false, fk: 'orgId' },
      { name: 'project', model: 'Project', list: false, optional: true, fk: 'projectId' },
      { name: 'invitedByUser', model: 'User', list: false, optional: true, fk: 'invitedByUserId' },
    ],
    uniques: [{ name: 'email_orgId', fields: ['email', 'orgId'] }],
  },
  AuditLog: {
    name: 'AuditLog',
    prop: 'auditLog',
    scope: { kind: 'field', field: 'orgId' },
    // projectId and resourceId name rows by value only (no relation): any value is the row's own business
    strings: { action: ['create', 'update'], resourceId: ['ds_a1', 'ds_b1'], projectId: [P_A1, P_B1] },
    booleans: [],
    relations: [],
    uniques: [],
  },
  Project: {
    name: 'Project',
    prop: 'project',
    // a row of its organisation (what the ground truth says it belongs to); also pinned by its own id
    scope: { kind: 'field', field: 'orgId' },
    strings: { name: ['Chatbot', 'Evals'] },
    booleans: [],
    relations: [
      { name: 'organization', model: 'Organization', list: false, optional: false, fk: 'orgId' },
      { name: 'projectMembers', model: 'ProjectMembership', list: true, optional: false },
      { name: 'invitations', model: 'MembershipInvitation', list: true, optional: false },
      { name: 'apiKeys', model: 'ApiKey', list: true, optional: false },
      { name: 'datasets', model: 'Dataset', list: true, optional: false },
      { name: 'prompts', model: 'Prompt', list: true, optional: false },
    ],
    uniques: [],
  },
  ProjectMembership: {
    name: 'ProjectMembership',
    prop: 'projectMembership',
    scope: { kind: 'field', field: 'projectId' },
    strings: { role: ['ADMIN', 'VIEWER'] },
    booleans: [],
    relations: [
      { name: 'organizationMembership', model: 'OrganizationMembership', list: false, optional: false, fk: 'orgMembershipId' },
      { name: 'project', model: 'Project', list: false, optional: false, fk: 'projectId' },
      { name: 'user', model: 'User', list: false, optional: false, fk: 'userId' },
    ],
    uniques: [{ name: 'projectId_userId', fields: ['projectId', 'userId'] }],
  },
  ApiKey: {
    name: 'ApiKey',
    prop: 'apiKey',
    scope: { kind: 'field', field: 'projectId' },
    strings: { publicKey: ['pk-lf-a1', 'pk-lf-b1'], note: ['ci', 'prod'] },
    booleans: [],
    relations: [{ name: 'project', model: 'Project', list: false, optional: false, fk: 'projectId' }],
    uniques: [{ name: 'publicKey', fields: ['publicKey'] }],
    plainInUnique: ['publicKey'],
    fresh: ['publicKey'],
  },
  Dataset: {
    name: 'Dataset',
    prop: 'dataset',
    scope: { kind: 'field', field: 'projectId' },
    strings: { name: ['eval', 'golden'] },
    booleans: [],
    relations: [
      { name: 'project', model: 'Project', list: false, optional: false, fk: 'projectId' },
      { name: 'datasetItems', model: 'DatasetItem', list: true, optional: false },
    ],
    uniques: [
      { name: 'id_projectId', fields: ['id', 'projectId'] },
      { name: 'projectId_name', fields: ['projectId', 'name'] },
    ],
  },
  DatasetItem: {
    name: 'DatasetItem',
    prop: 'datasetItem',
    scope: { kind: 'field', field: 'projectId' },
    strings: { status: ['ACTIVE', 'ARCHIVED'] },
    booleans: [],
    relations: [{ name: 'dataset', model: 'Dataset', list: false, optional: false, fk: 'datasetId', composite: true }],
    uniques: [],
  },
  Prompt: {
    name: 'Prompt',
    prop: 'prompt',
    scope: { kind: 'field', field: 'projectId' },
    strings: { name: ['summarize', 'classify'] },
    booleans: [],
    relations: [
      { name: 'project', model: 'Project', list: false, optional: false, fk: 'projectId' },
      { name: 'dependencies', model: 'PromptDependency', list: true, optional: false },
    ],
    // (projectId, name, version) is unique too: the generator draws strings and ids only, the templates use it
    uniques: [],
  },
  PromptDependency: {
    name: 'PromptDependency',
    prop: 'promptDependency',
    scope: { kind: 'via', relation: 'parent' },
    strings: { childName: ['summarize', 'classify'] },
    booleans: [],
    relations: [{ name: 'parent', model: 'Prompt', list: false, optional: false, fk: 'parentId' }],
    uniques: [],
  },
}

/** The seed. Owner of each row in a comment: A is o_acme (A1 p_a1, A2 p_a2), B is o_globex (B1 p_b1, B2 p_b2). */
export const TWO_LEVEL_SEED = {
  User: [
    { id: 'u_alice', email: EMAILS[0]!, name: 'Alice' }, // A owner, B member
    { id: 'u_bob', email: EMAILS[1]!, name: 'Bob' }, // A member
    { id: 'u_carol', email: EMAILS[2]!, name: 'Carol' }, // B owner
    { id: 'u_dave', email: EMAILS[3]!, name: 'Dave' }, // no organisation
  ],
  Organization: [
    { id: ORG_A, name: 'Acme' },
    { id: ORG_B, name: 'Globex' },
  ],
  OrganizationMembership: [
    { id: 'om_a1', orgId: ORG_A, userId: 'u_alice', role: 'OWNER' },
    { id: 'om_a2', orgId: ORG_A, userId: 'u_bob', role: 'MEMBER' },
    { id: 'om_b1', orgId: ORG_B, userId: 'u_carol', role: 'OWNER' },
    { id: 'om_b2', orgId: ORG_B, userId: 'u_alice', role: 'MEMBER' },
  ],
  Project: [
    { id: P_A1, orgId: ORG_A, name: 'Chatbot' },
    { id: P_A2, orgId: ORG_A, name: 'Evals' },
    { id: P_B1, orgId: ORG_B, name: 'Chatbot' },
    { id: P_B2, orgId: ORG_B, name: 'Evals' },
  ],
  MembershipInvitation: [
    { id: 'mi_a1', email: 'erin@example.test', orgId: ORG_A, projectId: P_A1, invitedByUserId: 'u_alice' }, // A
    { id: 'mi_a2', email: 'frank@example.test', orgId: ORG_A, projectId: P_A2, invitedByUserId: null }, // A
    { id: 'mi_b1', email: 'erin@example.test', orgId: ORG_B, projectId: P_B1, invitedByUserId: 'u_carol' }, // B
  ],
  AuditLog: [
    { id: 'al_a1', orgId: ORG_A, projectId: P_A1, userId: 'u_alice', action: 'create', resourceId: 'ds_a1' },
    { id: 'al_a2', orgId: ORG_A, projectId: P_A2, userId: 'u_bob', action: 'update', resourceId: 'ds_a2' },
    { id: 'al_a3', orgId: ORG_A, projectId: null, userId: 'u_alice', action: 'update', resourceId: ORG_A },
    { id: 'al_b1', orgId: ORG_B, projectId: P_B1, userId: 'u_carol', action: 'create', resourceId: 'ds_b1' },
  ],
  ProjectMembership: [
    { id: 'pm_a1', orgMembershipId: 'om_a1', projectId: P_A1, userId: 'u_alice', role: 'ADMIN' },
    { id: 'pm_a1b', orgMembershipId: 'om_a2', projectId: P_A1, userId: 'u_bob', role: 'VIEWER' },
    { id: 'pm_a2', orgMembershipId: 'om_a2', projectId: P_A2, userId: 'u_bob', role: 'ADMIN' },
    { id: 'pm_b1', orgMembershipId: 'om_b1', projectId: P_B1, userId: 'u_carol', role: 'ADMIN' },
    { id: 'pm_b2', orgMembershipId: 'om_b2', projectId: P_B2, userId: 'u_alice', role: 'VIEWER' },
  ],
  ApiKey: [
    { id: 'ak_a1', publicKey: 'pk-lf-a1', note: 'ci', projectId: P_A1 },
    { id: 'ak_a2', publicKey: 'pk-lf-a2', note: 'ci', projectId: P_A2 },
    { id: 'ak_b1', publicKey: 'pk-lf-b1', note: 'prod', projectId: P_B1 },
    { id: 'ak_b2', publicKey: 'pk-lf-b2', note: 'ci', projectId: P_B2 },
  ],
  Dataset: [
    { id: 'ds_a1', projectId: P_A1, name: 'eval' },
    { id: 'ds_a1g', projectId: P_A1, name: 'golden' },
    { id: 'ds_a2', projectId: P_A2, name: 'eval' },
    { id: 'ds_b1', projectId: P_B1, name: 'eval' },
    { id: 'ds_b2', projectId: P_B2, name: 'golden' },
  ],
  DatasetItem: [
    { id: 'di_a1', projectId: P_A1, datasetId: 'ds_a1', status: 'ACTIVE' },
    { id: 'di_a1b', projectId: P_A1, datasetId: 'ds_a1', status: 'ARCHIVED' },
    { id: 'di_a2', projectId: P_A2, datasetId: 'ds_a2', status: 'ACTIVE' },
    { id: 'di_b1', projectId: P_B1, datasetId: 'ds_b1', status: 'ACTIVE' },
    { id: 'di_b2', projectId: P_B2, datasetId: 'ds_b2', status: 'ARCHIVED' },
  ],
  Prompt: [
    { id: 'pr_a1', projectId: P_A1, name: 'summarize', version: 1 },
    { id: 'pr_a1v2', projectId: P_A1, name: 'summarize', version: 2 },
    { id: 'pr_a2', projectId: P_A2, name: 'summarize', version: 1 },
    { id: 'pr_b1', projectId: P_B1, name: 'summarize', version: 1 },
    { id: 'pr_b2', projectId: P_B2, name: 'classify', version: 1 },
  ],
  PromptDependency: [
    { id: 'pd_a1', parentId: 'pr_a1v2', childName: 'classify' },
    { id: 'pd_a2', parentId: 'pr_a2', childName: 'summarize' },
    { id: 'pd_b1', parentId: 'pr_b1', childName: 'classify' },
    { id: 'pd_b2', parentId: 'pr_b2', childName: 'summarize' },
  ],
} as const satisfies Record<string, ReadonlyArray<Row>>

const INSERT_ORDER = [
  'User',
  'Organization',
  'OrganizationMembership',
  'Project',
  'MembershipInvitation',
  'AuditLog',
  'ProjectMembership',
  'ApiKey',
  'Dataset',
  'DatasetItem',
  'Prompt',
  'PromptDependency',
]

/** The model of each seeded id (ids are unique across models), for twists that keep an id's kind. */
const MODEL_OF_ID = new Map<unknown, string>(
  Object.entries(TWO_LEVEL_SEED).flatMap(([m, rows]) => rows.map((r) => [r.id as unknown, m] as const)),
)
const MISSING = 'ck_missing'
const PROJECT_TABLES = ['project_memberships', 'api_keys', 'datasets', 'dataset_items', 'prompts'] as const

/** Scoped queries of p_a1 (normal scope), twisted into near misses by the fuzz test. */
const PROJECT_TEMPLATES: readonly GenQuery[] = [
  { model: 'Dataset', op: 'findMany', args: { where: { projectId: P_A1 }, include: { datasetItems: true } } },
  { model: 'Dataset', op: 'findUnique', args: { where: { projectId_name: { projectId: P_A1, name: 'eval' } } } },
  { model: 'Dataset', op: 'update', args: { where: { id: 'ds_a1', projectId: P_A1 }, data: { name: 'renamed' } } },
  {
    model: 'Dataset',
    op: 'create',
    args: { data: { projectId: P_A1, name: 'new', datasetItems: { create: { status: 'ACTIVE' } } } },
  },
  // the compound key (datasetId, projectId): bare, by connect, nested under its dataset
  { model: 'DatasetItem', op: 'create', args: { data: { projectId: P_A1, datasetId: 'ds_a1g' } } },
  {
    model: 'DatasetItem',
    op: 'update',
    args: { where: { id: 'di_a1', projectId: P_A1 }, data: { datasetId: 'ds_a1g' } },
  },
  {
    model: 'Dataset',
    op: 'update',
    args: { where: { id: 'ds_a1g', projectId: P_A1 }, data: { datasetItems: { connect: { id: 'di_a1' } } } },
  },
  { model: 'DatasetItem', op: 'updateMany', args: { where: { projectId: P_A1, status: 'ACTIVE' }, data: { status: 'ARCHIVED' } } },
  // prompts and the model owned through its prompt
  {
    model: 'Prompt',
    op: 'findUnique',
    args: { where: { projectId_name_version: { projectId: P_A1, name: 'summarize', version: 2 } }, include: { dependencies: true } },
  },
  { model: 'Prompt', op: 'create', args: { data: { projectId: P_A1, name: 'summarize', version: 3, dependencies: { create: { childName: 'classify' } } } } },
  { model: 'PromptDependency', op: 'findMany', args: { where: { parent: { projectId: P_A1 } }, include: { parent: true } } },
  { model: 'PromptDependency', op: 'create', args: { data: { parentId: 'pr_a1', childName: 'x' } } },
  { model: 'PromptDependency', op: 'update', args: { where: { id: 'pd_a1', parent: { projectId: P_A1 } }, data: { parent: { connect: { id: 'pr_a1' } } } } },
  // a key unique on its own that does not hold the project
  { model: 'ApiKey', op: 'findUnique', args: { where: { publicKey: 'pk-lf-a1', projectId: P_A1 } } },
  { model: 'ApiKey', op: 'update', args: { where: { publicKey: 'pk-lf-a1', projectId: P_A1 }, data: { note: 'rotated' } } },
  { model: 'ApiKey', op: 'deleteMany', args: { where: { projectId: P_A1, note: 'ci' } } },
  // project memberships point at organisation-level rows
  {
    model: 'ProjectMembership',
    op: 'create',
    args: { data: { projectId: P_A1, userId: 'u_dave', orgMembershipId: 'om_a2', role: 'VIEWER' } },
  },
  {
    model: 'ProjectMembership',
    op: 'findMany',
    args: { where: { projectId: P_A1 }, include: { user: true } },
  },
  {
    model: 'ProjectMembership',
    op: 'update',
    args: { where: { projectId_userId: { projectId: P_A1, userId: 'u_bob' } }, data: { organizationMembership: { connect: { id: 'om_a1' } } } },
  },
  // organisation-level rows
  { model: 'OrganizationMembership', op: 'findMany', args: { where: { orgId: ORG_A }, include: { user: true } } },
  {
    model: 'OrganizationMembership',
    op: 'findUnique',
    args: { where: { orgId_userId: { orgId: ORG_A, userId: 'u_bob' } }, include: { projectMemberships: { where: { projectId: P_A1 } } } },
  },
  { model: 'OrganizationMembership', op: 'create', args: { data: { orgId: ORG_A, userId: 'u_dave', role: 'MEMBER' } } },
  { model: 'MembershipInvitation', op: 'create', args: { data: { orgId: ORG_A, email: 'new@example.test', projectId: P_A1 } } },
  { model: 'MembershipInvitation', op: 'update', args: { where: { email_orgId: { email: 'erin@example.test', orgId: ORG_A } }, data: { project: { connect: { id: P_A2 } } } } },
  { model: 'MembershipInvitation', op: 'findMany', args: { where: { orgId: ORG_A }, include: { project: true } } },
  { model: 'AuditLog', op: 'findMany', args: { where: { orgId: ORG_A, projectId: P_A1 } } },
  { model: 'AuditLog', op: 'create', args: { data: { orgId: ORG_A, projectId: P_A1, action: 'create', resourceId: 'ds_a1' } } },
  { model: 'AuditLog', op: 'count', args: { where: { orgId: ORG_A } } },
  // the level models
  { model: 'Project', op: 'findUnique', args: { where: { id: P_A1 }, include: { datasets: true, apiKeys: true } } },
  { model: 'Project', op: 'findMany', args: { where: { orgId: ORG_A } } },
  { model: 'Project', op: 'update', args: { where: { id: P_A1 }, data: { name: 'Renamed', prompts: { create: { name: 'new', version: 1 } } } } },
  { model: 'Project', op: 'findUnique', args: { where: { id: P_A1 }, include: { organization: true } } },
  { model: 'Organization', op: 'findUnique', args: { where: { id: ORG_A }, include: { projects: { where: { id: P_A1 } } } } },
  { model: 'Organization', op: 'update', args: { where: { id: ORG_A }, data: { name: 'Acme Inc' } } },
  {
    model: 'Organization',
    op: 'findUnique',
    args: { where: { id: ORG_A }, include: { organizationMemberships: { include: { projectMemberships: { where: { projectId: P_A1 } } } } } },
  },
  // the global user, its rows filtered to the request's
  { model: 'User', op: 'findMany', args: { where: { projectMemberships: { some: { projectId: P_A1 } } } } },
  {
    model: 'User',
    op: 'findUnique',
    args: { where: { id: 'u_alice' }, include: { organizationMemberships: { where: { orgId: ORG_A } }, projectMemberships: { where: { projectId: P_A1 } } } },
  },
]

/** Scoped queries of an org admin of o_acme (scope 'organization'): project-level rows through their project. */
const WIDE_TEMPLATES: readonly GenQuery[] = [
  { model: 'Dataset', op: 'findMany', args: { where: { project: { orgId: ORG_A } } } },
  { model: 'Dataset', op: 'findMany', args: { where: { project: { orgId: ORG_A }, name: 'eval' }, include: { project: true } } },
  { model: 'Dataset', op: 'update', args: { where: { id: 'ds_a2', project: { orgId: ORG_A } }, data: { name: 'renamed' } } },
  { model: 'Prompt', op: 'findMany', args: { where: { project: { orgId: ORG_A } }, include: { dependencies: true } } },
  { model: 'Prompt', op: 'count', args: { where: { project: { orgId: ORG_A }, name: 'summarize' } } },
  { model: 'PromptDependency', op: 'findMany', args: { where: { parent: { project: { orgId: ORG_A } } } } },
  { model: 'ApiKey', op: 'findMany', args: { where: { project: { orgId: ORG_A } } } },
  { model: 'ApiKey', op: 'updateMany', args: { where: { project: { orgId: ORG_A }, note: 'ci' }, data: { note: 'rotated' } } },
  { model: 'ProjectMembership', op: 'findMany', args: { where: { project: { orgId: ORG_A } }, include: { user: true } } },
  { model: 'Project', op: 'findMany', args: { where: { orgId: ORG_A }, include: { datasets: true, prompts: true } } },
  { model: 'Project', op: 'findUnique', args: { where: { id: P_A2, orgId: ORG_A }, include: { apiKeys: true } } },
  { model: 'Project', op: 'update', args: { where: { id: P_A2, orgId: ORG_A }, data: { datasets: { create: { name: 'new' } } } } },
  { model: 'Project', op: 'create', args: { data: { orgId: ORG_A, name: 'Third', datasets: { create: { name: 'eval' } } } } },
  { model: 'Organization', op: 'findUnique', args: { where: { id: ORG_A }, include: { projects: { include: { datasets: true } } } } },
  { model: 'OrganizationMembership', op: 'findMany', args: { where: { orgId: ORG_A }, include: { projectMemberships: true } } },
  { model: 'MembershipInvitation', op: 'findMany', args: { where: { orgId: ORG_A }, include: { project: true } } },
  { model: 'AuditLog', op: 'findMany', args: { where: { orgId: ORG_A } } },
  { model: 'User', op: 'findMany', args: { where: { organizationMemberships: { some: { orgId: ORG_A } } } } },
]

const ORG_TABLES_SQL = (org: string) => [
  `DELETE FROM "organizations" WHERE "id" <> ${org}`,
  // by value only: no key cascades it
  `DELETE FROM "audit_logs" WHERE "org_id" <> ${org}`,
]
const ALTER_ORGS_SQL = (org: string) => [
  `UPDATE "organizations" SET "name" = 'zz-' || "name" WHERE "id" <> ${org}`,
  `UPDATE "organization_memberships" SET "role" = 'zz-' || "role" WHERE "org_id" <> ${org}`,
  `UPDATE "membership_invitations" SET "email" = 'zz-' || "email" WHERE "org_id" <> ${org}`,
  `UPDATE "audit_logs" SET "action" = 'zz-' || "action", "resource_id" = 'zz-' || "resource_id" WHERE "org_id" <> ${org}`,
  `UPDATE "projects" SET "name" = 'zz-' || "name" WHERE "org_id" <> ${org}`,
]
/** SQL that alters the project-level rows of every project `where` selects (a condition on "projects"). */
const ALTER_PROJECTS_SQL = (where: string) => {
  const of = `SELECT "id" FROM "projects" WHERE ${where}`
  return [
    `UPDATE "project_memberships" SET "role" = 'zz-' || "role" WHERE "project_id" IN (${of})`,
    `UPDATE "api_keys" SET "public_key" = 'zz-' || "public_key", "note" = 'zz-' || "note" WHERE "project_id" IN (${of})`,
    `UPDATE "datasets" SET "name" = 'zz-' || "name" WHERE "project_id" IN (${of})`,
    `UPDATE "dataset_items" SET "status" = 'zz-' || "status" WHERE "project_id" IN (${of})`,
    `UPDATE "prompts" SET "name" = 'zz-' || "name", "version" = "version" + 100 WHERE "project_id" IN (${of})`,
    `UPDATE "prompt_dependencies" SET "child_name" = 'zz-' || "child_name" WHERE "parent_id" IN (SELECT "id" FROM "prompts" WHERE "project_id" IN (${of}))`,
  ]
}

const MODELS_OF_IDS = (value: unknown, g: { pick<T>(items: readonly T[]): T }) => {
  const m = MODEL_OF_ID.get(value)!
  return g.pick([...TWO_LEVEL_SEED[m as keyof typeof TWO_LEVEL_SEED].map((r) => r.id as RowId), MISSING])
}

const base = {
  models: TWO_LEVEL_MODELS,
  tenantField: 'projectId',
  seed: TWO_LEVEL_SEED,
  insertOrder: INSERT_ORDER,
  linkTables: [],
  linkSeed: {},
  volatile: [],
  tenantModels: ['Organization', 'Project'],
  open: openTwoLevelSqlite,
} as const

const gen = (templates: readonly GenQuery[], extraPins: IsolationSchema['gen']['extraPins']): IsolationSchema['gen'] => ({
  newScalars(m, g, fresh) {
    switch (m) {
      case 'User':
        return { email: g.chance(0.15) ? g.pick(EMAILS) : `${fresh('u')}@new.test`, name: 'New' }
      case 'Organization':
        return { name: fresh('Org') }
      case 'OrganizationMembership':
        return { role: g.pick(['OWNER', 'MEMBER']) }
      case 'MembershipInvitation':
        return { email: g.chance(0.2) ? 'erin@example.test' : `${fresh('i')}@new.test` }
      case 'AuditLog':
        return { action: 'create', resourceId: g.pick(['ds_a1', 'ds_b1', fresh('r')]), projectId: g.pick([P_A1, P_A2, P_B1, null]) }
      case 'Project':
        return { name: g.pick(['Chatbot', 'Evals', 'New']) }
      case 'ProjectMembership':
        return { role: g.pick(['ADMIN', 'VIEWER']) }
      case 'ApiKey':
        return { publicKey: g.chance(0.1) ? 'pk-lf-a1' : fresh('pk-'), note: g.pick(['ci', 'prod']) }
      case 'Dataset':
        return { name: g.chance(0.2) ? g.pick(['eval', 'golden']) : fresh('ds-') }
      case 'DatasetItem':
        return { status: g.pick(['ACTIVE', 'ARCHIVED']) }
      case 'Prompt':
        return { name: g.pick(['summarize', 'classify']), version: g.chance(0.2) ? 1 : 10 + g.int(1000) }
      case 'PromptDependency':
        return { childName: g.pick(['summarize', 'classify']) }
      default:
        return {}
    }
  },
  newTenant: (id, fresh, model) => (model === 'Project' ? { id, name: fresh('P'), orgId: ORG_A } : { id, name: fresh('O') }),
  tenantUpdates: [P_A1, P_A2, P_B1, { set: P_A1 }, { set: P_A2 }, { set: P_B1 }],
  missingId: MISSING,
  idBound: (n) => ['', 'ds_a2', 'ds_b', 'o_b', 'pr_a2'][n]!,
  widenIds: ['ds_a2', 'ds_b1', 'di_a2', 'pr_b1', 'ak_b1', 'om_b1', P_A2, P_B1],
  weightedModels: [
    ...INSERT_ORDER,
    ...['Dataset', 'Dataset', 'DatasetItem', 'Project', 'Project', 'Prompt', 'ProjectMembership', 'OrganizationMembership', 'MembershipInvitation', 'ApiKey'],
  ],
  templates,
  twistable: (_key, value) => typeof value === 'string' && MODEL_OF_ID.has(value),
  twist(key, value, g) {
    if (key === 'orgId' || (ORGS as readonly unknown[]).includes(value)) return g.pick([ORG_B, ORG_A])
    if (key === 'projectId' || (PROJECTS as readonly unknown[]).includes(value)) return g.pick([P_A2, P_B1, P_B2, P_A1])
    return MODELS_OF_IDS(value, g)
  },
  extraPins,
})

/** A project's request (o_acme, p_a1): the fuzz and both-ways tests of normal scope run on it. */
export const TWO_LEVEL: IsolationSchema = {
  ...base,
  name: 'the two-level app schema as a project (test/fixtures/two-level-app)',
  // tenantId: the generator's default tenant (the project); the context carries both levels
  request: { tenantId: P_A1, userId: 'u_alice', endpoint: PROJECT_CONTEXT.endpoint, method: PROJECT_CONTEXT.method },
  context: PROJECT_CONTEXT,
  others: [P_A2, P_B1],
  visible: [ORG_A, P_A1],
  fieldTenants: { orgId: [ORG_A, ORG_B, ORG_B], projectId: [P_A1, P_A2, P_B1] },
  // other organisations (cascading from their row), and the sibling project's project-level rows
  deleteOthers: () => [
    ...ORG_TABLES_SQL(`'${ORG_A}'`),
    ...PROJECT_TABLES.map((t) => `DELETE FROM "${t}" WHERE "project_id" <> '${P_A1}'`),
  ],
  alterOthers: () => [...ALTER_ORGS_SQL(`'${ORG_A}'`), ...ALTER_PROJECTS_SQL(`"id" <> '${P_A1}'`)],
  // a project by its own id; a project-level row through its project, by the project's id or (never
  // enough here) the organisation's
  gen: gen(PROJECT_TEMPLATES, (m, value) => {
    if (m === 'Project') return [{ id: value('projectId') }]
    const projectRel = TWO_LEVEL_MODELS[m]!.relations.find((r) => r.model === 'Project' && r.fk === 'projectId')
    if (!projectRel || m === 'MembershipInvitation') return []
    return [{ project: { id: value('projectId') } }, { project: { orgId: value('orgId') } }]
  }),
}

/** An org admin's request (o_acme, scope 'organization'): every project of o_acme, nothing of o_globex. */
export const TWO_LEVEL_WIDE: IsolationSchema = {
  ...base,
  name: 'the two-level app schema as an org admin (test/fixtures/two-level-app)',
  request: { tenantId: ORG_A, userId: 'u_alice', endpoint: WIDE_CONTEXT.endpoint, method: WIDE_CONTEXT.method },
  context: WIDE_CONTEXT,
  others: [ORG_B],
  visible: [ORG_A, P_A1, P_A2],
  fieldTenants: { orgId: [ORG_A, ORG_B, ORG_B], projectId: [P_A1, P_B1, P_A2] },
  deleteOthers: () => ORG_TABLES_SQL(`'${ORG_A}'`),
  alterOthers: () => [...ALTER_ORGS_SQL(`'${ORG_A}'`), ...ALTER_PROJECTS_SQL(`"org_id" <> '${ORG_A}'`)],
  // in wide scope a project-level row is proven through its project's organisation
  gen: gen(WIDE_TEMPLATES, (m, value) => {
    if (m === 'PromptDependency') return [{ parent: { project: { orgId: value('orgId') } } }]
    const projectRel = TWO_LEVEL_MODELS[m]!.relations.find((r) => r.model === 'Project' && r.fk === 'projectId')
    return projectRel && m !== 'MembershipInvitation' ? [{ project: { orgId: value('orgId') } }] : []
  }),
}


/** The organisation only and no scope: o_acme's organisation-level and Project rows, no project's rows. */
export const TWO_LEVEL_ORG_ONLY: IsolationSchema = {
  ...base,
  name: 'the two-level app schema as an organisation without a project (test/fixtures/two-level-app)',
  request: { tenantId: ORG_A, userId: 'u_alice', endpoint: ORG_ONLY_CONTEXT.endpoint, method: ORG_ONLY_CONTEXT.method },
  context: ORG_ONLY_CONTEXT,
  others: [ORG_B],
  visible: [ORG_A],
  fieldTenants: { orgId: [ORG_A, ORG_B, ORG_B], projectId: [P_A1, P_A2, P_B1] },
  deleteOthers: () => [...ORG_TABLES_SQL(`'${ORG_A}'`), ...PROJECT_TABLES.map((t) => `DELETE FROM "${t}"`)],
  alterOthers: () => [...ALTER_ORGS_SQL(`'${ORG_A}'`), ...ALTER_PROJECTS_SQL('true')],
  gen: gen(PROJECT_TEMPLATES, () => []),
}
