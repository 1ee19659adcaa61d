// The app schema's tables come from test/fixtures/isolation-app/migration.sql, written by hand in
// Prisma's SQLite dialect (prisma migrate cannot run here): guard against drift between it and
// schema.prisma. Tables and columns are compared with the generated client's own data model (its
// @@map/@map names); unique keys, foreign keys and their referential actions with the schema text;
// and the plain client writes and reads every model and relation.
import { readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { APP_SCHEMA, openAppDatabase, type AppDatabase } from './helpers/isolation-app-client.ts'
import { runtimeModels } from './helpers/isolation-db.ts'

const schemaText = readFileSync(APP_SCHEMA, 'utf8')
/** Each model block of the schema: its name and body. */
const blocks = [...schemaText.matchAll(/^model (\w+) \{\n([\s\S]*?)^\}/gm)].map((m) => ({ name: m[1]!, body: m[2]! }))
const list = (s: string) => s.split(',').map((x) => x.trim())
const ACTIONS: Record<string, string> = {
  Cascade: 'CASCADE',
  SetNull: 'SET NULL',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
}

let app: AppDatabase
let sqlite: Database.Database
beforeAll(async () => {
  app = await openAppDatabase()
  sqlite = new Database(app.file, { readonly: true })
})
afterAll(async () => {
  sqlite?.close()
  await app?.close()
})

const models = () => runtimeModels(app.prisma)
const tableOf = (model: string) => models()[model]!.dbName ?? model
const columnOf = (model: string, field: string) => {
  const f = models()[model]!.fields.find((x) => x.name === field)
  if (!f) throw new Error(`${model} has no field ${field}`)
  return f.dbName ?? field
}

describe('migration.sql matches schema.prisma', () => {
  it('has a table for every model (and the implicit many-to-many), with exactly its scalar columns', () => {
    const tables = (
      sqlite
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
        .all() as Array<{ name: string }>
    ).map((t) => t.name)
    expect(blocks.map((b) => b.name).sort()).toEqual(Object.keys(models()).sort())
    expect(tables.sort()).toEqual([...Object.keys(models()).map(tableOf), '_DocumentToTag'].sort())
    const columns = (table: string) =>
      (sqlite.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name).sort()
    for (const [model, { fields }] of Object.entries(models()))
      expect(columns(tableOf(model)), model).toEqual(
        fields
          .filter((f) => f.kind !== 'object')
          .map((f) => f.dbName ?? f.name)
          .sort(),
      )
    expect(columns('_DocumentToTag')).toEqual(['A', 'B'])
  })

  it('parseSchema (what the RLS generator reads) names the tables and columns as Prisma\'s own data model does', () => {
    const parsed = parseSchema(schemaText)
    const names = (m: Record<string, { dbName?: string | null; fields: readonly { name: string; kind: string; dbName?: string | null }[] }>) =>
      Object.entries(m).map(([model, { dbName, fields }]) => [model, dbName ?? model, fields.filter((f) => f.kind !== 'object').map((f) => f.dbName ?? f.name)])
    expect(names(parsed.models)).toEqual(names(models()))
    expect(names(parsed.models).flatMap(([, , columns]) => columns)).toContain('team_id') // the fixture maps columns
  })

  it('has a unique index for every @unique, @@unique and @id of the schema, and no other', () => {
    for (const { name, body } of blocks) {
      const expected = [
        ...[...body.matchAll(/^\s+(\w+)\s+\S+.*@(?:unique|id)\b/gm)].map((m) => [m[1]!]),
        ...[...body.matchAll(/@@unique\(\[([^\]]+)\]/g)].map((m) => list(m[1]!)),
      ].map((fields) => fields.map((f) => columnOf(name, f)).join(','))
      const indexes = sqlite.prepare(`PRAGMA index_list("${tableOf(name)}")`).all() as Array<{
        name: string
        unique: number
      }>
      const unique = indexes
        .filter((i) => i.unique)
        .map((i) =>
          (sqlite.prepare(`PRAGMA index_info("${i.name}")`).all() as Array<{ name: string }>)
            .map((c) => c.name)
            .join(','),
        )
      expect(unique.sort(), name).toEqual(expected.sort())
    }
  })

  it('has every foreign key of the schema, with its columns, target and onDelete (onUpdate: Cascade)', () => {
    for (const { name, body } of blocks) {
      const expected = [...body.matchAll(/^\s+\w+\s+(\w+)\??\s+@relation\(([^)]*)\)/gm)]
        .filter((m) => m[2]!.includes('fields:'))
        .map((m) => {
          const [, target, args] = m
          const fields = list(/fields: \[([^\]]+)\]/.exec(args!)![1]!).map((f) => columnOf(name, f))
          const refs = list(/references: \[([^\]]+)\]/.exec(args!)![1]!).map((f) => columnOf(target!, f))
          const onDelete = /onDelete: (\w+)/.exec(args!)?.[1] ?? 'Restrict'
          return `${fields.join(',')} -> ${tableOf(target!)}(${refs.join(',')}) ON DELETE ${ACTIONS[onDelete]} ON UPDATE CASCADE`
        })
      const rows = sqlite.prepare(`PRAGMA foreign_key_list("${tableOf(name)}")`).all() as Array<{
        id: number
        table: string
        from: string
        to: string
        on_delete: string
        on_update: string
      }>
      const byId = new Map<number, typeof rows>()
      for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r])
      const actual = [...byId.values()].map(
        (cols) =>
          `${cols.map((c) => c.from).join(',')} -> ${cols[0]!.table}(${cols.map((c) => c.to).join(',')}) ` +
          `ON DELETE ${cols[0]!.on_delete} ON UPDATE ${cols[0]!.on_update}`,
      )
      expect(actual.sort(), name).toEqual(expected.sort())
    }
    const join = sqlite.prepare(`PRAGMA foreign_key_list("_DocumentToTag")`).all() as Array<{
      table: string
      from: string
    }>
    expect(join.map((j) => `${j.from} -> ${j.table}`).sort()).toEqual(['A -> documents', 'B -> tags'])
  })

  it('lets the plain client write and read every model and relation', async () => {
    const p = app.prisma
    await p.plan.create({ data: { id: 'p', name: 'p' } })
    await p.team.create({
      data: { id: 't', slug: 't', name: 'T', planId: 'p', settings: { create: { locale: 'en' } } },
    })
    const user = await p.user.create({ data: { email: 'u@t', name: 'U', memberships: { create: { teamId: 't' } } } })
    const root = await p.folder.create({ data: { teamId: 't', name: 'root' } })
    const child = await p.folder.create({ data: { teamId: 't', name: 'child', parentId: root.id } })
    const tag = await p.tag.create({ data: { teamId: 't', slug: 's', label: 'S' } })
    const doc = await p.document.create({
      data: { teamId: 't', folderId: child.id, authorId: user.id, title: 'd', tags: { connect: { id: tag.id } } },
    })
    await p.comment.create({ data: { documentId: doc.id, authorId: user.id, body: 'b' } })
    const full = await p.team.findUniqueOrThrow({
      where: { id: 't' },
      include: {
        plan: true,
        settings: true,
        memberships: { include: { user: true } },
        folders: {
          include: {
            parent: true,
            children: true,
            documents: { include: { tags: true, comments: true, author: true } },
          },
        },
      },
    })
    expect(full.settings.teamId).toBe('t')
    expect(full.memberships[0].user.email).toBe('u@t')
    const childFolder = full.folders.find((f: { id: string }) => f.id === child.id)
    expect(childFolder.parent.id).toBe(root.id)
    expect(childFolder.documents[0]).toMatchObject({
      archived: false,
      status: 'draft',
      tags: [{ slug: 's' }],
      comments: [{ body: 'b' }],
    })
    // the named compound unique and the composite key as Prisma exposes them
    expect((await p.tag.findUnique({ where: { team_slug: { teamId: 't', slug: 's' } } })).id).toBe(tag.id)
    expect((await p.folder.findUnique({ where: { teamId_id: { teamId: 't', id: child.id } } })).name).toBe('child')
    await expect(p.tag.create({ data: { teamId: 't', slug: 's', label: 'again' } })).rejects.toMatchObject({
      code: 'P2002',
    })
    // onDelete: a global user's deletion sets its documents' author null and cascades into its memberships
    await p.user.delete({ where: { id: user.id } })
    expect(await p.document.findUnique({ where: { id: doc.id } })).toMatchObject({ authorId: null })
    expect(await p.membership.count()).toBe(0)
    // and a plan's deletion cascades through its team into everything the team owns, join rows included
    await p.plan.delete({ where: { id: 'p' } })
    expect(await p.$queryRawUnsafe('SELECT count(*) AS n FROM "_DocumentToTag"')).toEqual([{ n: 0n }])
    expect([await p.document.count(), await p.folder.count(), await p.teamSettings.count()]).toEqual([0, 0, 0])
  })
})
