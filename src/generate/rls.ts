// PostgreSQL row-level security from the config: the second line behind the extension. For every
// tenant-owned table, ENABLE and FORCE row-level security and a policy that admits only the rows
// of the tenant in the transaction's setting (config.rls.setting): on the tenant column for a
// field-scoped model, through EXISTS along the `via` relations (their real fields, references,
// tables and columns from schema.prisma, read by the isolation core's own parseSchema) for a
// relation-scoped one, on its id for the tenant model. USING filters reads, updates and deletes;
// WITH CHECK refuses writes of other tenants' rows. Global models are left alone. A second policy admits every row while the bypass setting
// names a documented reason (config.bypass.reasons), unless rls.bypass is `bypassrls_role`.
// Two levels (config.levels): one setting per level, each table judged by its own level's setting; a
// lower-level row is also admitted by its upper level's id while the scope setting names the upper level
// (an organisation-wide request), and the lower level's own model by either level.
import { isTwoLevel, tenantLevels, type TenantLevel } from '../config/levels.ts'
import { RLS_DEFAULTS, type RlsConfig, type TenantFenceConfig } from '../config/schema.ts'
import { describeInvalid } from '../config/suggest.ts'
import { parseSchema, type DataModel, type DataModelField } from '../enforcement/datamodel.ts'
import { levelConfig, modelLevels, parentKey } from '../enforcement/levels.ts'
import type { GeneratedFile } from './files.ts'
import { generatedNotice } from './notice.ts'

export const POLICY_TENANT = 'tenantfence_tenant'
export const POLICY_BYPASS = 'tenantfence_bypass'

export class RlsGenerateError extends Error {
  constructor(message: string) {
    super(`row-level security: ${message}`)
    this.name = 'RlsGenerateError'
  }
}

export interface RlsTable {
  model: string
  /** the PostgreSQL schema (@@schema), undefined for the search path's */
  schema: string | undefined
  table: string
  /** how its rows are tied to a tenant, in words (the comment above its policies) */
  scope: string
  /** the tenant predicate of its policy */
  predicate: string
  /** the predicate a written row must meet (WITH CHECK), when stricter than `predicate` */
  check?: string
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`
export const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`
export const qualifiedTable = (t: { schema: string | undefined; table: string }) => (t.schema ? `${quoteIdent(t.schema)}.` : '') + quoteIdent(t.table)

/** A model with its table (@@map, or its name) and PostgreSQL schema (@@schema) resolved. */
interface SchemaModel {
  name: string
  table: string
  schema: string | undefined
  fields: readonly DataModelField[]
}

/** The column of a field: its @map, or its name. */
const columnOf = (field: DataModelField) => field.dbName ?? field.name

/** The request's tenant as the tenant column's type: NULL when unset or empty (matches no row). */
function tenantValue(setting: string, model: SchemaModel, field: DataModelField): string {
  const raw = `NULLIF(current_setting(${quoteLiteral(setting)}, true), '')`
  if (field.kind === 'object') throw new RlsGenerateError(`${model.name}.${field.name} is the relation to ${field.type}, not a column: name the scalar tenant field`)
  if (field.nativeType?.[0] === 'Uuid') return `${raw}::uuid`
  if (field.type === 'Int') return `${raw}::integer`
  if (field.type === 'BigInt') return `${raw}::bigint`
  if (field.type === 'String') return raw
  throw new RlsGenerateError(`${model.name}.${field.name} is a ${field.type}: a tenant column must be an Int, a BigInt or a String (text or @db.Uuid)`)
}

function modelOf(schema: DataModel, name: string, where: string): SchemaModel {
  const model = Object.hasOwn(schema.models, name) ? schema.models[name] : undefined
  if (!model) throw new RlsGenerateError(`${where}: ${describeInvalid('model', name, Object.keys(schema.models))}`)
  return { name, table: model.dbName ?? name, schema: model.schema ?? undefined, fields: model.fields }
}

function fieldOf(model: SchemaModel, name: string, where: string): DataModelField {
  const field = model.fields.find((f) => f.name === name)
  if (!field) throw new RlsGenerateError(`${where}: ${describeInvalid(`field of ${model.name}`, name, model.fields.map((f) => f.name))}`)
  return field
}

/** Column pairs [child column, parent column] of a relation field, from whichever side holds the key. */
function joinColumns(model: SchemaModel, field: DataModelField, parent: SchemaModel): Array<[string, string]> {
  const own = field.relationFromFields ?? []
  const where = `${model.name}.${field.name}`
  if (own.length) return own.map((f, i) => [columnOf(fieldOf(model, f, where)), columnOf(fieldOf(parent, field.relationToFields?.[i] ?? '', where))])
  const back = parent.fields.find((f) => f.kind === 'object' && f.type === model.name && f.relationFromFields?.length && (field.relationName === undefined || f.relationName === field.relationName))
  if (!back) throw new RlsGenerateError(`${where}: no @relation(fields, references) on either side of the relation to ${parent.name}`)
  const backWhere = `${parent.name}.${back.name}`
  return (back.relationToFields ?? []).map((r, i) => [columnOf(fieldOf(model, r, backWhere)), columnOf(fieldOf(parent, back.relationFromFields![i]!, backWhere))])
}

/** A predicate that a row belongs to the tenant(s) in the settings, and how, in words. */
interface Proof {
  predicate: string
  scope: string
}

/**
 * Where a relation chain ends: a row of the tenant model (by its id) or of a field-scoped model (by
 * its column). `config` is the one-level config the chain follows (a level's projection with two levels).
 */
interface Leaves {
  config: TenantFenceConfig
  tenantRow(model: SchemaModel, id: DataModelField, alias: string, depth: number): Proof
  fieldRow(model: SchemaModel, field: DataModelField, alias: string, depth: number): Proof
}

/** `alias.column = the setting`, the setting cast to the column's type. */
const matches = (setting: string, model: SchemaModel, field: DataModelField, alias: string) => `${alias}.${quoteIdent(columnOf(field))} = ${tenantValue(setting, model, field)}`

/** One setting for every row: the one-level policies, and the upper level's of a two-level config. */
function settingLeaves(config: TenantFenceConfig, setting: string, tenantWord: string): Leaves {
  return {
    config,
    tenantRow: (model, id, alias) => ({ predicate: matches(setting, model, id, alias), scope: `the ${tenantWord} model, its ${quoteIdent(columnOf(id))} is the ${tenantWord}` }),
    fieldRow: (model, field, alias) => ({ predicate: matches(setting, model, field, alias), scope: `its own column ${quoteIdent(columnOf(field))}` }),
  }
}

/**
 * The predicate that a row of `modelName` (referred to as `alias`) belongs to the tenant in the
 * setting, and its scope in words. Relation-scoped models follow `via` to a field-scoped model or
 * the tenant model, one EXISTS per hop.
 */
function scopeOf(leaves: Leaves, schema: DataModel, modelName: string, alias: string, depth: number, seen: string[]): Proof {
  const { config } = leaves
  const model = modelOf(schema, modelName, seen.length ? `${seen.join(' → ')} → ${modelName}` : 'models')
  if (modelName === config.tenant.model) return leaves.tenantRow(model, fieldOf(model, config.tenant.idField, 'tenant.idField'), alias, depth)
  const policy = config.models[modelName]
  if (!policy) {
    throw new RlsGenerateError(`the relation chain ${[...seen, modelName].join(' → ')} reaches ${modelName}, which is neither tenant-owned (models) nor the tenant model (tenant.model)`)
  }
  if (!policy.via) return leaves.fieldRow(model, fieldOf(model, policy.field ?? config.tenant.field, `models.${modelName}`), alias, depth)
  if (seen.includes(modelName)) throw new RlsGenerateError(`the via relations loop: ${[...seen, modelName].join(' → ')}`)
  const field = fieldOf(model, policy.via, `models.${modelName}.via`)
  if (field.kind !== 'object' || field.isList === true) throw new RlsGenerateError(`models.${modelName}.via names "${policy.via}", which is not a to-one relation of ${modelName}`)
  const parent = modelOf(schema, field.type, `models.${modelName}.via`)
  const parentAlias = `p${depth + 1}`
  const on = joinColumns(model, field, parent).map(([child, up]) => `${parentAlias}.${quoteIdent(up)} = ${alias}.${quoteIdent(child)}`)
  const inner = scopeOf(leaves, schema, parent.name, parentAlias, depth + 1, [...seen, modelName])
  return {
    predicate: `EXISTS (SELECT 1 FROM ${qualifiedTable(parent)} ${parentAlias} WHERE ${[...on, inner.predicate].join(' AND ')})`,
    scope: `through ${policy.via} → ${parent.name}, ${inner.scope.replace(/^the [^,]+ model, /, '')}`,
  }
}

/** The tables that get row-level security, in config order (tenant-owned models, then the tenant model). */
export function rlsTables(config: TenantFenceConfig, schema: DataModel): RlsTable[] {
  const rls = config.rls ?? RLS_DEFAULTS
  if (isTwoLevel(config)) return twoLevelTables(config, rls, schema)
  const leaves = settingLeaves(config, rls.setting, 'tenant')
  const names = [...Object.keys(config.models), ...(config.tenant.model ? [config.tenant.model] : [])]
  return names.map((name) => {
    const model = modelOf(schema, name, name === config.tenant.model ? 'tenant.model' : 'models')
    const self = qualifiedTable(model)
    const { predicate, scope } = scopeOf(leaves, schema, name, self, 0, [])
    return { model: name, schema: model.schema, table: model.table, scope, predicate }
  })
}

/**
 * Two levels (docs/rls.md, "Two levels"): an upper-level row by the upper setting; a lower-level row
 * by the lower setting, or, only while the scope setting names the upper level, by the upper one
 * (the row's own upper column, else its lower model's parent key); the lower level's model by its id
 * (lower setting) or its parent key (upper setting); the upper level's model by its id.
 */
function twoLevelTables(config: TenantFenceConfig, rls: RlsConfig, schema: DataModel): RlsTable[] {
  const [upper, lower] = tenantLevels(config) as [TenantLevel, TenantLevel]
  const levelOf = modelLevels(config, schema)
  const lowerModel = modelOf(schema, lower.model!, 'levels[1].model')
  const lowerId = fieldOf(lowerModel, lower.idField, 'levels[1].idField')
  const keyField = fieldOf(lowerModel, parentKey(config, schema), 'levels[1].parent')
  const wideScope = `current_setting(${quoteLiteral(rls.scopeSetting)}, true) = ${quoteLiteral(upper.name)}`
  const byParent = (alias: string) => matches(upper.rlsSetting, lowerModel, keyField, alias)
  const upperLeaves = settingLeaves(levelConfig(config, schema, upper.name), upper.rlsSetting, upper.name)
  const lowerLeaves: Leaves = {
    config: levelConfig(config, schema, lower.name),
    tenantRow: (model, id, alias) => ({
      predicate: `(${matches(lower.rlsSetting, model, id, alias)} OR (${wideScope} AND ${byParent(alias)}))`,
      scope: `the ${lower.name} model, its ${quoteIdent(columnOf(id))} is the ${lower.name}; ${upper.name}-wide its ${quoteIdent(columnOf(keyField))}`,
    }),
    fieldRow: (model, field, alias, depth) => {
      // The row's own upper column proves it org-wide; else the lower model its column names.
      const own = model.fields.find((f) => f.name === upper.field && f.kind !== 'object')
      const p = `p${depth + 1}`
      const wide = own
        ? { predicate: matches(upper.rlsSetting, model, own, alias), scope: `its own column ${quoteIdent(columnOf(own))}` }
        : {
            predicate: `EXISTS (SELECT 1 FROM ${qualifiedTable(lowerModel)} ${p} WHERE ${p}.${quoteIdent(columnOf(lowerId))} = ${alias}.${quoteIdent(columnOf(field))} AND ${byParent(p)})`,
            scope: `its ${lower.model}'s ${quoteIdent(columnOf(keyField))}`,
          }
      return {
        predicate: `(${matches(lower.rlsSetting, model, field, alias)} OR (${wideScope} AND ${wide.predicate}))`,
        scope: `its own column ${quoteIdent(columnOf(field))}; ${upper.name}-wide ${wide.scope}`,
      }
    },
  }
  const names = [...Object.keys(config.models), upper.model!, lower.model!]
  return names.map((name) => {
    const model = modelOf(schema, name, name === upper.model ? 'levels[0].model' : name === lower.model ? 'levels[1].model' : 'models')
    const self = qualifiedTable(model)
    const level = levelOf.get(name) === upper.name ? upper : lower
    if (name === lower.model) {
      // Read by either level; written only inside its upper level: a request of one lower tenant
      // cannot move its own row to another upper tenant (UPDATE … SET the parent key).
      const scope = `the ${lower.name} model, read when its ${quoteIdent(columnOf(lowerId))} is the ${lower.name} or its ${quoteIdent(columnOf(keyField))} the ${upper.name}; written only when its ${quoteIdent(columnOf(keyField))} is the ${upper.name}`
      const predicate = `(${matches(lower.rlsSetting, model, lowerId, self)} OR ${byParent(self)})`
      return { model: name, schema: model.schema, table: model.table, scope: `${level.name} level, ${scope}`, predicate, check: byParent(self) }
    }
    const proof = scopeOf(level === upper ? upperLeaves : lowerLeaves, schema, name, self, 0, [])
    return { model: name, schema: model.schema, table: model.table, scope: `${level.name} level, ${proof.scope}`, predicate: proof.predicate }
  })
}

/** Drops every policy an earlier run created; a table left with no policy leaves row-level security. */
function cleanupBlock(): string[] {
  return [
    'DO $tenantfence$',
    'DECLARE',
    '  p record;',
    'BEGIN',
    `  FOR p IN SELECT schemaname, tablename, policyname FROM pg_policies WHERE policyname IN (${quoteLiteral(POLICY_TENANT)}, ${quoteLiteral(POLICY_BYPASS)}) LOOP`,
    `    EXECUTE format('DROP POLICY %I ON %I.%I', p.policyname, p.schemaname, p.tablename);`,
    '    IF NOT EXISTS (SELECT 1 FROM pg_policies o WHERE o.schemaname = p.schemaname AND o.tablename = p.tablename) THEN',
    `      EXECUTE format('ALTER TABLE %I.%I NO FORCE ROW LEVEL SECURITY', p.schemaname, p.tablename);`,
    `      EXECUTE format('ALTER TABLE %I.%I DISABLE ROW LEVEL SECURITY', p.schemaname, p.tablename);`,
    '    END IF;',
    '  END LOOP;',
    'END',
    '$tenantfence$;',
  ]
}

/** The bypass predicate: the bypass setting names one of the documented reasons. */
export function bypassPredicate(config: TenantFenceConfig): string {
  const rls = config.rls ?? RLS_DEFAULTS
  return `current_setting(${quoteLiteral(rls.bypassSetting)}, true) IN (${config.bypass.reasons.map(quoteLiteral).join(', ')})`
}

/** What each transaction sets, for the header of migration.sql. */
function settingsComment(config: TenantFenceConfig, rls: RlsConfig): string[] {
  if (!isTwoLevel(config)) {
    return [
      `-- Each transaction names its tenant: SELECT set_config(${quoteLiteral(rls.setting)}, '<tenant id>', true)`,
      `--   (tenantEnforcement({ config, rls: true }) does it for every query). No tenant set: no row.`,
    ]
  }
  const [upper, lower] = tenantLevels(config) as [TenantLevel, TenantLevel]
  return [
    `-- Each transaction names one id per level: set_config(${quoteLiteral(upper.rlsSetting)}, '<${upper.name} id>', true),`,
    `--   set_config(${quoteLiteral(lower.rlsSetting)}, '<${lower.name} id>', true), and set_config(${quoteLiteral(rls.scopeSetting)}, ${quoteLiteral(upper.name)}, true)`,
    `--   when the request works on its whole ${upper.name} ('' otherwise): then ${lower.name}-level rows are admitted by their ${upper.name}.`,
    `--   tenantEnforcement({ config, rls: true }) does it for every query. A level not set: none of its rows.`,
  ]
}

export function renderRlsMigration(config: TenantFenceConfig, schema: DataModel, configName: string): string {
  const rls = config.rls ?? RLS_DEFAULTS
  const tables = rlsTables(config, schema)
  const bypass = rls.bypass === 'reason_setting'
  const lines = [
    `-- PostgreSQL row-level security for the tenant-owned tables: the second line behind the tenantfence extension.`,
    `-- ${generatedNotice(configName)}`,
    '--',
    `-- Apply (idempotent; again after every change of the config): psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f ${rls.dir}/migration.sql`,
    `--   or: npx prisma db execute --file ${rls.dir}/migration.sql. Roll back: ${rls.dir}/rollback.sql. docs/rls.md says more.`,
    ...settingsComment(config, rls),
    bypass
      ? `-- Bypass (withoutTenantEnforcement): set_config(${quoteLiteral(rls.bypassSetting)}, '<reason>', true) with a reason of bypass.reasons.`
      : `-- Bypass: none in the policies (rls.bypass = bypassrls_role): jobs that cross tenants connect as a role WITH BYPASSRLS.`,
    '-- Superusers and roles WITH BYPASSRLS are never subject to these policies: the app must not connect as one.',
    '',
    'BEGIN;',
    '',
    '-- Policies of an earlier run go first: a model taken out of the config loses them.',
    ...cleanupBlock(),
  ]
  for (const t of tables) {
    const table = qualifiedTable(t)
    lines.push(
      '',
      `-- ${t.model}: ${t.scope}`,
      `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;`,
      `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;`,
      `CREATE POLICY ${POLICY_TENANT} ON ${table}`,
      `  USING (${t.predicate})`,
      `  WITH CHECK (${t.check ?? t.predicate});`,
    )
    if (bypass) lines.push(`CREATE POLICY ${POLICY_BYPASS} ON ${table}`, `  USING (${bypassPredicate(config)})`, `  WITH CHECK (${bypassPredicate(config)});`)
  }
  lines.push('', 'COMMIT;', '')
  return lines.join('\n')
}

export function renderRlsRollback(config: TenantFenceConfig, configName: string): string {
  const rls = config.rls ?? RLS_DEFAULTS
  return [
    `-- Rollback of ${rls.dir}/migration.sql: drops every tenantfence policy; a table left with no other policy`,
    '-- leaves row-level security (NO FORCE, DISABLE). The extension keeps checking queries as before.',
    `-- ${generatedNotice(configName)}`,
    `-- Apply: psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f ${rls.dir}/rollback.sql`,
    '',
    'BEGIN;',
    ...cleanupBlock(),
    'COMMIT;',
    '',
  ].join('\n')
}

/** The files `generate` writes for a config with `rls`, from the app's schema.prisma text. */
export function rlsFiles(config: TenantFenceConfig, schemaText: string, configName: string): GeneratedFile[] {
  if (!config.rls) return []
  const schema = parseSchema(schemaText)
  return [
    { path: `${config.rls.dir}/migration.sql`, content: renderRlsMigration(config, schema, configName) },
    { path: `${config.rls.dir}/rollback.sql`, content: renderRlsRollback(config, configName) },
  ]
}

/** The hardened phase's runbook section: install, verify and roll back the policies (none without config.rls). */
export function rlsRunbookSection(config: TenantFenceConfig): string[] {
  if (!config.rls) return []
  const { dir, setting } = config.rls
  return [
    '## Row-level security (PostgreSQL)',
    '',
    `The second line: policies that hold every query, raw SQL and other clients included, to the tenant in \`${setting}\`.`,
    `The app runs with \`tenantEnforcement({ config, hardened: true, rls: true })\` and connects as a role that is neither superuser nor BYPASSRLS.`,
    '',
    `Install (idempotent; again after every \`npm run generate\` that changed \`${dir}/migration.sql\`), then verify:`,
    '',
    '```sh',
    `psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f ${dir}/migration.sql`,
    'tenantfence phase check 4 --database "$DATABASE_URL"',
    '```',
    '',
    'Roll back (the policies go, the extension keeps checking; nothing to redeploy):',
    '',
    '```sh',
    `psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f ${dir}/rollback.sql`,
    '```',
    '',
  ]
}
