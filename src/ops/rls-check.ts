// `tenantfence phase check <n> --database URL`: is row-level security installed on the database?
// Every tenant-owned table (and the tenant model's) must have it ENABLEd and FORCEd, with the
// tenant policy (and the bypass policy when rls.bypass is reason_setting) that `generate` writes.
// Read from the catalog (pg_class, pg_policy), so it sees what is really there.
import { readFile } from 'node:fs/promises'
import { RLS_DEFAULTS, type TenantFenceConfig } from '../config/schema.ts'
import { CliError } from '../cli-error.ts'
import { parseSchema } from '../enforcement/datamodel.ts'
import { POLICY_BYPASS, POLICY_TENANT, qualifiedTable, rlsTables } from '../generate/rls.ts'

export interface RlsTableState {
  model: string
  /** as written in SQL ("schema"."table") */
  table: string
  exists: boolean
  enabled: boolean
  forced: boolean
  /** the tenantfence policies missing on the table */
  missingPolicies: string[]
}

export interface RlsCheckResult {
  passed: boolean
  tables: RlsTableState[]
  /** the role of the url: a superuser or BYPASSRLS role is never subject to the policies */
  role: { name: string; bypasses: boolean }
}

interface Queryable {
  query<R>(sql: string, values?: unknown[]): Promise<{ rows: R[] }>
}

/** Compare the catalog with the tables the config protects. */
export async function inspectRls(config: TenantFenceConfig, schemaText: string, db: Queryable): Promise<RlsCheckResult> {
  const rls = config.rls ?? RLS_DEFAULTS
  const wanted = [POLICY_TENANT, ...(rls.bypass === 'reason_setting' ? [POLICY_BYPASS] : [])]
  const tables: RlsTableState[] = []
  for (const t of rlsTables(config, parseSchema(schemaText))) {
    const [row] = (
      await db.query<{ enabled: boolean; forced: boolean; policies: string[] }>(
        `SELECT c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                ARRAY(SELECT p.polname::text FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relname = $1 AND n.nspname = COALESCE($2, current_schema()) AND c.relkind IN ('r', 'p')`,
        [t.table, t.schema ?? null],
      )
    ).rows
    tables.push({
      model: t.model,
      table: qualifiedTable(t),
      exists: row !== undefined,
      enabled: row?.enabled === true,
      forced: row?.forced === true,
      missingPolicies: wanted.filter((p) => !row?.policies.includes(p)),
    })
  }
  const [role] = (await db.query<{ name: string; bypasses: boolean }>('SELECT current_user AS name, (rolsuper OR rolbypassrls) AS bypasses FROM pg_roles WHERE rolname = current_user')).rows
  const passed = tables.every((t) => t.exists && t.enabled && t.forced && t.missingPolicies.length === 0)
  return { passed, tables, role: role ?? { name: 'unknown', bypasses: false } }
}

export async function checkRlsDatabase(config: TenantFenceConfig, schemaText: string, url: string): Promise<RlsCheckResult> {
  // pg is the app's (with @prisma/adapter-pg); loaded only for this check.
  const { default: pg } = await import('pg').catch(() => {
    throw new CliError('--database needs the pg package: npm install pg')
  })
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  try {
    await client.connect()
  } catch (err) {
    throw new CliError(`cannot connect to the --database: ${(err as Error).message}`)
  }
  try {
    return await inspectRls(config, schemaText, client)
  } finally {
    await client.end()
  }
}

export function renderRlsCheck(result: RlsCheckResult, rlsDir: string): string {
  const out = ['Row-level security (the second line) on the database:']
  const width = Math.max(...result.tables.map((t) => t.model.length))
  for (const t of result.tables) {
    const problems = !t.exists
      ? ['table not found']
      : [...(t.enabled ? [] : ['not enabled']), ...(t.forced ? [] : ['not forced']), ...t.missingPolicies.map((p) => `no policy ${p}`)]
    out.push(`  ${problems.length ? 'FAIL' : 'PASS'}    ${t.model.padEnd(width)}  ${t.table}${problems.length ? `: ${problems.join(', ')}` : ': enabled, forced, policies in place'}`)
  }
  if (result.role.bypasses) out.push(`  note: the role ${result.role.name} is a superuser or has BYPASSRLS: the policies never apply to it; the app must connect as another role`)
  const failed = result.tables.filter((t) => !(t.exists && t.enabled && t.forced && t.missingPolicies.length === 0)).length
  out.push('')
  out.push(result.passed ? `All ${result.tables.length} tenant-owned tables are protected.` : `${failed} of ${result.tables.length} tables are not protected: apply ${rlsDir}/migration.sql (docs/rls.md).`)
  return out.join('\n') + '\n'
}

/** The --database part of the phase gate: prints the tables, true when all are protected. */
export async function databaseGate(config: TenantFenceConfig, url: string, schemaFile = 'prisma/schema.prisma'): Promise<boolean> {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new CliError(`--database must be a postgres:// or postgresql:// url (row-level security is PostgreSQL's)`, 2)
  const schema = await readFile(schemaFile, 'utf8').catch(() => {
    throw new CliError(`cannot read the Prisma schema at ${schemaFile} (it names the tables); pass --schema <file>`, 2)
  })
  const result = await checkRlsDatabase(config, schema, url)
  process.stdout.write(renderRlsCheck(result, (config.rls ?? RLS_DEFAULTS).dir))
  return result.passed
}
