// Issue 18, items 2, 3 and 5: rows owned through a 1:1 whose key the OWNER holds, and teams created
// inside a request, on the multi-team app schema (see isolation-app.test.ts for the setup and the
// both-ways judgement). DocumentMeta is owned by its document through Document.metaId and
// TeamGlobalSettings by its team through Team.globalSettingsId (Documenso's Envelope.documentMetaId and
// Team.teamGlobalSettingsId): neither has a tenant field, both are scoped through the back relation
// (`via: 'document'`, `via: 'team'`). The seed has one row of each that no owner holds yet
// (dm_orphan, gs_orphan: made by another request, never linked).
//
// The app's write order: the owned row first, then the owner that takes its key. The rule: a row that
// belongs to no tenant may be linked only by the request (or interactive transaction) that created
// it (src/enforcement/claims.ts); an owned row of another tenant never.
import { describe, expect, it } from 'vitest'
import { compilePolicy, parseSchema, runWithTenant } from '../src/index.ts'
import { CreatedRows, createdRowsOf, MAX_ROWS, MAX_TRANSACTIONS } from '../src/enforcement/claims.ts'
import { bothWays } from './helpers/isolation-both-ways.ts'
import { useAppIsolation, appConfig, q, ids, rolledBack, A, G, MISMATCH, NESTED_READ, REQUEST } from './helpers/isolation-app-env.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */
const app = useAppIsolation()
const MISSING_RELATION = 'missing_relation_filter'
/** run fn as the request (team_Acme) */
const asRequest = (fn: () => Promise<any>, ctx: { tenantId: string } = REQUEST): Promise<any> => runWithTenant(ctx, fn)
/** the TENANT_CONTEXT_REQUIRED error a blocked query rejects with */
const blocked = (p: Promise<unknown>) =>
  p.then(
    (v) => expect.fail(`let through: ${JSON.stringify(v)}`),
    (e: any) => {
      expect(e.code, String(e.message)).toBe('TENANT_CONTEXT_REQUIRED')
      return e as { model: string; violation: string; detail?: string }
    },
  )

describe('reads: an owned row is proven through its owner (the back relation), at any depth', () => {
  bothWays(app.env, {
    blocked: [
      { name: 'every document meta', run: q('DocumentMeta', 'findMany', {}), violation: MISSING_RELATION, model: 'DocumentMeta' },
      {
        name: "another team's meta by id",
        run: q('DocumentMeta', 'findUnique', { where: { id: 'dm_b1' } }),
        violation: MISSING_RELATION,
      },
      {
        name: "metas of another team's documents",
        run: q('DocumentMeta', 'findMany', { where: { document: { teamId: G } } }),
        violation: MISMATCH,
      },
      {
        name: 'metas with their documents, unscoped',
        run: q('DocumentMeta', 'findMany', { include: { document: true } }),
        violation: MISSING_RELATION,
      },
      {
        name: 'a team settings row through a team filter that pins no team',
        run: q('TeamGlobalSettings', 'findMany', { where: { team: { slug: 'globex' } } }),
        violation: MISSING_RELATION,
      },
      {
        name: "a person's documents with their metas, from the global user",
        run: q('User', 'findUnique', { where: { id: 'u_alice' }, include: { documents: { include: { meta: true } } } }),
        violation: NESTED_READ,
        model: 'Document',
      },
      {
        name: 'metas no document holds (nobody has them; another request may be making one)',
        run: q('DocumentMeta', 'findMany', { where: { document: null } }),
        violation: MISSING_RELATION,
        ruleOnly: 'a row no owner holds counts as nobody\'s on this seed; it may be another request\'s half-made row',
      },
    ],
    passes: [
      {
        name: "the request's metas through their documents",
        run: q('DocumentMeta', 'findMany', { where: { document: { teamId: A } } }),
        check: (r) => expect(ids(r)).toEqual(['dm_a1']),
      },
      {
        name: "the request's meta by id and document (is)",
        run: q('DocumentMeta', 'findUnique', { where: { id: 'dm_a1', document: { is: { teamId: A } } }, include: { document: true } }),
        check: (r) => expect(r.document.id).toBe('d_a1'),
      },
      {
        name: "the request's documents with their metas",
        run: q('Document', 'findMany', { where: { teamId: A }, include: { meta: true }, orderBy: { id: 'asc' } }),
        check: (r) => expect(r.map((d: any) => d.meta?.id ?? null)).toEqual(['dm_a1', null, null]),
      },
      {
        name: "the request's team settings through the team",
        run: q('TeamGlobalSettings', 'findFirst', { where: { team: { id: A } } }),
        check: (r) => expect(r.id).toBe('gs_a'),
      },
      {
        name: "the request's team with its settings, and a person's documents of the team with their metas",
        run: q('Team', 'findUnique', { where: { id: A }, include: { globalSettings: true, documents: { include: { meta: true } } } }),
        check: (r) => expect([r.globalSettings.id, r.documents.find((d: any) => d.meta)?.meta.id]).toEqual(['gs_a', 'dm_a1']),
      },
    ],
  })
})

describe('writes through the owner and of the owned rows themselves', () => {
  bothWays(app.env, {
    blocked: [
      {
        name: "another team's meta updated by id",
        run: q('DocumentMeta', 'update', { where: { id: 'dm_b1' }, data: { subject: 'x' } }),
        violation: MISSING_RELATION,
      },
      {
        name: "another team's settings deleted by a filter that pins no team",
        run: q('TeamGlobalSettings', 'deleteMany', { where: { brandColor: '#00ff00' } }),
        violation: MISSING_RELATION,
      },
      {
        name: "the request's meta moved to another team's document",
        run: q('DocumentMeta', 'update', {
          where: { id: 'dm_a1', document: { teamId: A } },
          data: { document: { connect: { id: 'd_b2' } } },
        }),
        violation: MISMATCH,
        model: 'DocumentMeta',
      },
      {
        name: "another team's meta taken by the request's document (bare key: P2002 would tell it exists)",
        run: q('Document', 'update', { where: { id: 'd_a2', teamId: A }, data: { metaId: 'dm_b1' } }),
        violation: MISMATCH,
        // Document.metaId is a unique key of Document too: d_b1 holding it is a collision as well
        model: ['DocumentMeta', 'Document'],
      },
      {
        name: "another team's meta connected to the request's document",
        run: q('Document', 'update', { where: { id: 'd_a2', teamId: A }, data: { meta: { connect: { id: 'dm_b1' } } } }),
        violation: MISMATCH,
        model: 'DocumentMeta',
      },
      {
        name: "another team's settings connected to the request's team",
        run: q('Team', 'update', { where: { id: A }, data: { globalSettings: { connect: { id: 'gs_b' } } } }),
        violation: MISMATCH,
        model: 'TeamGlobalSettings',
      },
      {
        name: "a new meta that takes another team's document (from the owned side)",
        run: q('DocumentMeta', 'create', { data: { subject: 's', document: { connect: { id: 'd_b2' } } } }),
        violation: MISMATCH,
      },
      {
        name: 'a meta no document holds, made by another request, claimed by a bare key',
        run: q('Document', 'update', { where: { id: 'd_a2', teamId: A }, data: { metaId: 'dm_orphan' } }),
        violation: MISMATCH,
        model: 'DocumentMeta',
        ruleOnly: "a row no owner holds counts as nobody's on this seed; only the request that made it may link it",
      },
      {
        name: 'a settings row no team holds, made by another request, claimed by connect',
        run: q('Team', 'update', { where: { id: A }, data: { globalSettings: { connect: { id: 'gs_orphan' } } } }),
        violation: MISMATCH,
        model: 'TeamGlobalSettings',
        ruleOnly: "a row no owner holds counts as nobody's on this seed; only the request that made it may link it",
      },
    ],
    passes: [
      {
        name: "a new meta that takes the request's document (from the owned side)",
        run: q('DocumentMeta', 'create', { data: { subject: 's', document: { connect: { id: 'd_a2' } } } }),
        check: async (r, base) => expect((await base.document.findUnique({ where: { id: 'd_a2' } })).metaId).toBe(r.id),
      },
      {
        name: "the request's meta upserted under its document",
        run: q('Document', 'update', {
          where: { id: 'd_a1', teamId: A },
          data: { meta: { upsert: { create: { subject: 'c' }, update: { subject: 'u' } } } },
        }),
        check: async (_r, base) => expect((await base.documentMeta.findUnique({ where: { id: 'dm_a1' } })).subject).toBe('u'),
      },
      {
        name: "the request's meta updated through its document",
        run: q('DocumentMeta', 'update', { where: { id: 'dm_a1', document: { teamId: A } }, data: { subject: 'Signed' } }),
        check: async (_r, base) => expect((await base.documentMeta.findUnique({ where: { id: 'dm_a1' } })).subject).toBe('Signed'),
      },
      {
        name: "a new meta created under the request's document",
        run: q('Document', 'update', { where: { id: 'd_a2', teamId: A }, data: { meta: { create: { subject: 'New' } } } }),
        check: async (_r, base) => expect((await base.document.findUnique({ where: { id: 'd_a2' }, include: { meta: true } })).meta.subject).toBe('New'),
      },
      {
        name: "the request's settings updated through the team",
        run: q('Team', 'update', { where: { id: A }, data: { globalSettings: { update: { brandColor: '#ffffff' } } } }),
        check: async (_r, base) => expect((await base.teamGlobalSettings.findUnique({ where: { id: 'gs_a' } })).brandColor).toBe('#ffffff'),
      },
    ],
  })
})

describe('the write order: the owned row first, then the owner that takes its key', () => {
  it('a meta created alone in a request (it belongs to no tenant yet) is not blocked', async () => {
    const meta = await asRequest(() => app.db.prisma.documentMeta.create({ data: { subject: 'Draft' } }))
    expect(await app.db.base.documentMeta.findUnique({ where: { id: meta.id } })).toMatchObject({ subject: 'Draft' })
  })

  it('the request that created it links it by a bare key, and reads it through its owner after', async () => {
    const p = app.db.prisma
    const doc = await asRequest(async () => {
      const meta = await p.documentMeta.create({ data: { subject: 'Draft' } })
      const created = await p.document.create({ data: { teamId: A, title: 'Contract', metaId: meta.id } })
      const read = await p.documentMeta.findFirst({ where: { id: meta.id, document: { teamId: A } } })
      return { created, read, meta }
    })
    expect(doc.created.metaId).toBe(doc.meta.id)
    expect(doc.read.id).toBe(doc.meta.id)
  })

  it('by connect, and for the team itself (settings made first, then the team takes their key)', async () => {
    const p = app.db.prisma
    const out = await asRequest(async () => {
      const meta = await p.documentMeta.create({ data: { subject: 'Draft' } })
      await p.document.update({ where: { id: 'd_a2', teamId: A }, data: { meta: { connect: { id: meta.id } } } })
      const settings = await p.teamGlobalSettings.create({ data: { brandColor: '#123456' } })
      await p.team.update({ where: { id: A }, data: { globalSettingsId: settings.id } })
      return { meta, settings }
    })
    expect((await app.db.base.document.findUnique({ where: { id: 'd_a2' } })).metaId).toBe(out.meta.id)
    expect((await app.db.base.team.findUnique({ where: { id: A } })).globalSettingsId).toBe(out.settings.id)
  })

  it('rows of createManyAndReturn are remembered; a create whose select leaves the id out is not (closed)', async () => {
    const p = app.db.prisma
    const out = await asRequest(async () => {
      const rows = await p.teamGlobalSettings.createManyAndReturn({ data: [{ brandColor: '#111111' }, { brandColor: '#222222' }] })
      await p.team.update({ where: { id: A }, data: { globalSettingsId: rows[1].id } })
      await p.teamGlobalSettings.create({ data: { brandColor: '#333333' }, select: { brandColor: true } })
      const unseen = await app.db.base.teamGlobalSettings.findFirst({ where: { brandColor: '#333333' } })
      return { rows, refused: await blocked(p.team.update({ where: { id: A }, data: { globalSettingsId: unseen.id } })) }
    })
    expect((await app.db.base.team.findUnique({ where: { id: A } })).globalSettingsId).toBe(out.rows[1].id)
    expect(out.refused.detail).toMatch(/no tenant yet/)
  })

  it('inside one interactive transaction, in a request and in a job (no request)', async () => {
    const p = app.db.prisma
    const write = () =>
      rolledBack(p, async (tx) => {
        const meta = await tx.documentMeta.create({ data: { subject: 'Draft' } })
        return (await tx.document.create({ data: { teamId: A, title: 'Contract', metaId: meta.id } })).metaId === meta.id
      })
    expect(await asRequest(write)).toBe(true)
    expect(await write()).toBe(true)
  })

  it("another request's row may not be claimed, even by the same team; the message says it belongs to no tenant yet", async () => {
    const p = app.db.prisma
    const meta = await asRequest(() => p.documentMeta.create({ data: { subject: 'Draft' } }))
    const err = await asRequest(() => blocked(p.document.create({ data: { teamId: A, title: 'Contract', metaId: meta.id } })))
    expect(err).toMatchObject({ model: 'DocumentMeta', violation: MISMATCH })
    expect(err.detail).toMatch(/belongs to no tenant yet/)
    expect(err.detail).toMatch(/DocumentMeta\.document → Document\.teamId/)
    const line = app.db.violations().at(-1)
    expect(line).toMatchObject({ model: 'DocumentMeta', violation: MISMATCH, linked: 'Document', detail: err.detail })
    // never a value in the words: not the row's id, not the tenant
    expect(err.detail).not.toContain(meta.id)
    expect(err.detail).not.toContain(A)
    // a job outside any transaction has no memory either: created and linked by two lone queries
    const lone = await p.teamGlobalSettings.create({ data: {} })
    const err2 = await blocked(p.team.update({ where: { id: A }, data: { globalSettings: { connect: { id: lone.id } } } }))
    expect(err2.detail).toMatch(/TeamGlobalSettings row belongs to no tenant yet .*TeamGlobalSettings\.team → Team\.id/)
  })

  it("an owned row of another team is named as another tenant's, with its owner relation", async () => {
    const err = await asRequest(() =>
      blocked(app.db.prisma.document.update({ where: { id: 'd_a2', teamId: A }, data: { meta: { connect: { id: 'dm_b1' } } } })),
    )
    expect(err.detail).toMatch(/another tenant's .*DocumentMeta\.document → Document\.teamId/)
    expect(err.detail).not.toMatch(/no tenant yet/)
  })

  it('an owned row moved to another team\'s owner is named with its owner relation', async () => {
    const err = await asRequest(() =>
      blocked(
        app.db.prisma.documentMeta.update({
          where: { id: 'dm_a1', document: { teamId: A } },
          data: { document: { connect: { id: 'd_b2' } } },
        }),
      ),
    )
    expect(err).toMatchObject({ model: 'DocumentMeta', violation: MISMATCH })
    expect(err.detail).toMatch(/DocumentMeta row would move to another tenant.*DocumentMeta\.document → Document\.teamId/)
  })

  it("a row another team's request created is not claimable by this team's request", async () => {
    const p = app.db.prisma
    const meta = await asRequest(() => p.documentMeta.create({ data: { subject: 'Draft' } }), { tenantId: G })
    await asRequest(() => blocked(p.document.update({ where: { id: 'd_a2', teamId: A }, data: { meta: { connect: { id: meta.id } } } })))
    expect((await app.db.base.document.findUnique({ where: { id: 'd_a2' } })).metaId).toBeNull()
  })

  it('with references: violation (no lookups) the bare key stays unverified: create it nested instead', async () => {
    const p = app.noLookups
    const err = await asRequest(async () => {
      const meta = await p.documentMeta.create({ data: { subject: 'Draft' } })
      return blocked(p.document.create({ data: { teamId: A, title: 'Contract', metaId: meta.id } }))
    })
    expect(err).toMatchObject({ model: 'DocumentMeta', violation: 'unverified_reference' })
    const doc = await asRequest(() => p.document.create({ data: { title: 'Contract', team: { connect: { id: A } }, meta: { create: { subject: 'x' } } }, include: { meta: true } }))
    expect(doc.meta.subject).toBe('x')
  })
})

describe('the memory of created rows (claims.ts): per request or transaction, bounded', () => {
  it('forgets the oldest key past MAX_ROWS (a forgotten row is no longer claimable: closed)', () => {
    const m = new CreatedRows()
    for (let i = 0; i <= MAX_ROWS; i++) m.add(`k${i}`)
    expect(m.size).toBe(MAX_ROWS)
    expect([m.has('k0'), m.has('k1'), m.has(`k${MAX_ROWS}`)]).toEqual([false, true, true])
  })

  it('keeps one memory per request store and per transaction, at most MAX_TRANSACTIONS of those', () => {
    const s1 = { context: { tenantId: 1 }, bypass: undefined }
    const s2 = { context: { tenantId: 1 }, bypass: undefined }
    createdRowsOf(s1, undefined, true)!.add('x')
    expect(createdRowsOf(s1, 'tx', false)!.has('x')).toBe(true)
    expect(createdRowsOf(s2, undefined, false)).toBeUndefined()
    expect(createdRowsOf(undefined, undefined, true)).toBeUndefined() // a lone query outside a request
    createdRowsOf(undefined, 'tx-first', true)!.add('y')
    for (let i = 0; i < MAX_TRANSACTIONS; i++) createdRowsOf(undefined, `tx-${i}`, true)
    expect(createdRowsOf(undefined, 'tx-first', false)).toBeUndefined()
  })
})

describe('a team created inside a request (tenant.createInRequest, default allow)', () => {
  // the plan by connect: Prisma takes a relation the team holds the key of (globalSettings) only beside other relations
  const newTeam = (extra: Record<string, unknown> = {}) => ({ slug: 'new', name: 'New', plan: { connect: { id: 'plan_free' } }, ...extra })

  it('passes with its nested creates, which belong to the new team', async () => {
    const team = await asRequest(() =>
      app.db.prisma.team.create({
        data: newTeam({
          memberships: { create: { userId: 'u_alice', role: 'owner' } },
          globalSettings: { create: { brandColor: '#000000' } },
          documents: { create: { title: 'Welcome', meta: { create: { subject: 'Hi' } } } },
        }),
        include: { memberships: true, documents: { include: { meta: true } }, globalSettings: true },
      }),
    )
    expect(team.id).not.toBe(A)
    expect(team.memberships).toMatchObject([{ teamId: team.id, userId: 'u_alice', role: 'owner' }])
    expect(team.documents[0]).toMatchObject({ teamId: team.id, meta: { subject: 'Hi' } })
    expect(await app.db.base.membership.count({ where: { teamId: team.id } })).toBe(1)
  })

  it('with an id the app chose, and with the settings row its request made first', async () => {
    const p = app.db.prisma
    const team = await asRequest(async () => {
      const settings = await p.teamGlobalSettings.create({ data: {} })
      const data = { id: 'team_New', slug: 'new', name: 'New', planId: 'plan_free', globalSettingsId: settings.id }
      return p.team.create({ data, include: { globalSettings: true } })
    })
    expect(team.globalSettings).not.toBeNull()
  })

  bothWays(app.env, {
    blocked: [
      {
        name: "a new team that takes the request's own tag (moves data between tenants)",
        run: q('Team', 'create', { data: newTeam({ tags: { connect: { id: 't_a1' } } }) }),
        violation: MISMATCH,
        model: 'Tag',
        ruleOnly: "the tag stays with the request's user, but moves from one tenant to another: the rule refuses that",
      },
      {
        name: "a new team that takes another team's membership",
        run: q('Team', 'create', { data: newTeam({ memberships: { connect: { id: 'm_b1' } } }) }),
        violation: MISMATCH,
        model: 'Membership',
      },
      {
        name: "a new team that takes another team's settings by key",
        run: q('Team', 'create', { data: { slug: 'new', name: 'New', planId: 'plan_free', globalSettingsId: 'gs_b' } }),
        violation: MISMATCH,
        model: 'TeamGlobalSettings',
      },
      {
        name: 'a new team that takes a settings row another request made',
        run: q('Team', 'create', { data: newTeam({ globalSettings: { connect: { id: 'gs_orphan' } } }) }),
        violation: MISMATCH,
        model: 'TeamGlobalSettings',
        ruleOnly: "a row no owner holds counts as nobody's on this seed; only the request that made it may link it",
      },
      {
        name: "a new team with another team's id (P2002 would tell that it exists)",
        run: q('Team', 'create', { data: newTeam({ id: G }) }),
        violation: MISMATCH,
        model: 'Team',
      },
    ],
    passes: [
      {
        name: 'a new team on a global plan (linked by connect)',
        run: (p) => rolledBack(p, (tx) => tx.team.create({ data: { slug: 'n2', name: 'N', plan: { connect: { id: 'plan_pro' } } } })),
        check: (r) => expect(r.planId).toBe('plan_pro'),
      },
    ],
  })

  it("with createInRequest: 'violation', today's behaviour: the create is a tenant_mismatch on Team", async () => {
    const strict = app.db.fenced({ config: { ...appConfig, tenant: { ...appConfig.tenant, createInRequest: 'violation' } } })
    const err = await asRequest(() => blocked(strict.team.create({ data: newTeam() })))
    expect(err).toMatchObject({ model: 'Team', violation: MISMATCH })
    expect(await app.db.base.team.count()).toBe(3)
  })
})

describe('config: via on a back relation only for a 1:1 (the owner key unique)', () => {
  const text = (unique: string) => `
    model Team { id String @id
      docs Doc[] }
    model Doc { id String @id
      teamId String
      metaId String ${unique}
      team Team @relation(fields: [teamId], references: [id])
      meta Meta? @relation(fields: [metaId], references: [id]) }
    model Meta { id String @id
      doc Doc? }`
  const config = (via: string) => ({ ...appConfig, tenant: { ...appConfig.tenant, model: 'Team' }, models: { Doc: { severity: 'HIGH' as const }, Meta: { severity: 'HIGH' as const, via } }, globalModels: [] })

  it('accepts the back side of a unique key', () => {
    const policy = compilePolicy(config('doc') as never, parseSchema(text('@unique')))
    expect(policy.models.get('Meta')).toMatchObject({ kind: 'relation', via: 'doc', viaBack: true })
  })

  it('refuses the back side of a key that is not unique, naming it and the fix', () => {
    expect(() => compilePolicy(config('doc') as never, parseSchema(text('')))).toThrow(
      /models\.Meta\.via: "doc" is the back side of Doc\.meta \(metaId\), which is not unique: .*make metaId @unique/,
    )
  })
})
