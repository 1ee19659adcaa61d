// The two-level fixture (test/fixtures/two-level-app) against itself: its tables come from
// migration.sql (SQLite) and migration.pg.sql (PostgreSQL), written by hand in Prisma's dialects
// (prisma migrate cannot run here), so guard against drift: each database has a table for every
// model with exactly its scalar columns (the generated client's own data model, @@map/@map names),
// the unique keys of the schema, and the seed goes in through each plain client with every relation
// resolving; the config parses, and gives each model the level the ground truth gives its rows.
import { readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { parseSchema } from '../src/enforcement/datamodel.ts'
import { modelLevels } from '../src/enforcement/levels.ts'
import config from './fixtures/two-level-app/tenantfence.config.ts'
import { runtimeModels, seedIsolation } from './helpers/isolation-db.ts'
import { runSql } from './helpers/postgres.ts'
import { TWO_LEVEL, TWO_LEVEL_MODELS } from './helpers/two-level-app.ts'
import { openTwoLevelPostgres, openTwoLevelSqlite, TWO_LEVEL_SCHEMA } from './helpers/two-level-client.ts'

const schemaText = readFileSync(TWO_LEVEL_SCHEMA, 'utf8')
const blocks = [...schemaText.matchAll(/^model (\w+) \{\n([\s\S]*?)^\}/gm)].map((m) => ({ name: m[1]!, body: m[2]! }))
const list = (s: string) => s.split(',').map((x) => x.trim())

type Runtime = ReturnType<typeof runtimeModels>
const tableOf = (models: Runtime, model: string) => models[model]!.dbName ?? model
const columnsOf = (models: Runtime, model: string) =>
  models[model]!.fields.filter((f) => f.kind !== 'object').map((f) => f.dbName ?? f.name).sort()
/** The unique keys the schema text declares (@id, @unique, @@unique), as column lists, per table. */
function declaredUniques(models: Runtime): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const { name, body } of blocks) {
    const col = (f: string) => models[name]!.fields.find((x) => x.name === f)!.dbName ?? f
    out[tableOf(models, name)] = [
      ...[...body.matchAll(/^\s+(\w+)\s+\S+.*@(?:unique|id)\b/gm)].map((m) => [m[1]!]),
      ...[...body.matchAll(/@@unique\(\[([^\]]+)\]/g)].map((m) => list(m[1]!)),
    ]
      .map((fields) => fields.map(col).join(','))
      .sort()
  }
  return out
}

describe('the two-level fixture', () => {
  it('describes every model of the schema to the tests, and the config gives each the level of its owner', () => {
    expect(Object.keys(TWO_LEVEL_MODELS).sort()).toEqual(blocks.map((b) => b.name).sort())
    const levels = Object.fromEntries(modelLevels(config, parseSchema(schemaText)))
    // the ground truth's owner of a row: orgId (or the organisation itself) → organisation, projectId → project
    const expected: Record<string, string> = {}
    for (const [name, info] of Object.entries(TWO_LEVEL_MODELS)) {
      const { scope } = info
      if (scope.kind === 'global') continue
      if (scope.kind === 'field' || scope.kind === 'tenant')
        expected[name] = (scope.field ?? TWO_LEVEL.tenantField) === 'orgId' ? 'organization' : 'project'
      else expected[name] = 'project' // through its prompt
    }
    expected.Project = 'project' // the lower level's own model; the ground truth counts it its organisation's row
    expect(levels).toEqual(expected)
    expect(config.globalModels).toEqual(['User'])
  })

  it('SQLite: migration.sql has the schema\'s tables, columns and unique keys; the seed goes in', async () => {
    const db = await openTwoLevelSqlite()
    try {
      const models = runtimeModels(db.prisma)
      const sqlite = new Database(db.file!, { readonly: true })
      try {
        const tables = (sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((t) => t.name)
        expect(tables.sort()).toEqual(Object.keys(models).map((m) => tableOf(models, m)).sort())
        const uniques: Record<string, string[]> = {}
        for (const model of Object.keys(models)) {
          const table = tableOf(models, model)
          const cols = (sqlite.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name).sort()
          expect(cols, model).toEqual(columnsOf(models, model))
          const indexes = sqlite.prepare(`PRAGMA index_list("${table}")`).all() as Array<{ name: string; unique: number }>
          uniques[table] = indexes
            .filter((i) => i.unique)
            .map((i) => (sqlite.prepare(`PRAGMA index_info("${i.name}")`).all() as Array<{ name: string }>).map((c) => c.name).join(','))
            .sort()
        }
        expect(uniques).toEqual(declaredUniques(models))
      } finally {
        sqlite.close()
      }
      await seedIsolation(db.prisma, TWO_LEVEL)
      const items = await db.prisma.datasetItem.findMany({ include: { dataset: { include: { project: { include: { organization: true } } } } } })
      expect(items.map((i: { id: string; dataset: { project: { orgId: string } } }) => [i.id, i.dataset.project.orgId])).toContainEqual(['di_b2', 'o_globex'])
      expect(await db.prisma.promptDependency.count()).toBe(TWO_LEVEL.seed.PromptDependency!.length)
    } finally {
      await db.close()
    }
  })

  it('PostgreSQL: migration.pg.sql has the same tables, columns and unique keys; the seed goes in', async () => {
    const db = await openTwoLevelPostgres()
    try {
      const models = runtimeModels(db.prisma)
      const [cols] = await runSql(
        db.pg!.url('owner'),
        `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`,
      )
      const byTable: Record<string, string[]> = {}
      for (const r of cols!.rows as Array<{ table_name: string; column_name: string }>) (byTable[r.table_name] ??= []).push(r.column_name)
      expect(byTable).toEqual(Object.fromEntries(Object.keys(models).map((m) => [tableOf(models, m), columnsOf(models, m)])))
      const [idx] = await runSql(
        db.pg!.url('owner'),
        `SELECT t.relname AS table, string_agg(a.attname, ',' ORDER BY k.n) AS cols
           FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
          WHERE s.nspname = 'public' AND i.indisunique GROUP BY t.relname, i.indexrelid`,
      )
      const uniques: Record<string, string[]> = {}
      for (const r of idx!.rows as Array<{ table: string; cols: string }>) (uniques[r.table] ??= []).push(r.cols)
      for (const k of Object.keys(uniques)) uniques[k]!.sort()
      expect(uniques).toEqual(declaredUniques(models))
      await seedIsolation(db.prisma, TWO_LEVEL)
      expect(await db.prisma.datasetItem.count({ where: { dataset: { project: { orgId: 'o_acme' } } } })).toBe(3)
    } finally {
      await db.close()
    }
  })
})
