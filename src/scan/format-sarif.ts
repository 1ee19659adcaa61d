// The scan as SARIF 2.1.0, for code-scanning tools (GitHub code scanning, GitLab, IDE viewers):
// one rule per violation kind plus `unverifiable`, one result per finding, located by a
// %SRCROOT%-relative path, fingerprinted by the baseline key so tools track a finding across moves.
import type { Log, ReportingDescriptor, Result } from 'sarif'
import type { Severity } from '../config/schema.ts'
import { VIOLATION_KINDS } from '../telemetry/metric-names.ts'
import { isNew, type ScanOutcome } from './outcome.ts'
import { isFinding, type ScanSite } from './scan.ts'
import { TENANTFENCE_VERSION } from './version.ts'

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json'
/** The baseline key's name among SARIF fingerprints (versioned: a change of key format is a new fingerprint). */
export const FINGERPRINT = 'tenantfenceKey/v1'

const LEVEL: Record<Severity, Result.level> = { CRITICAL: 'error', HIGH: 'error', MEDIUM: 'warning', LOW: 'note' }

const RULES: ReportingDescriptor[] = [
  ...VIOLATION_KINDS.map((kind) => ({
    id: `tenantfence/${kind}`,
    name: kind.replace(/(^|_)(\w)/g, (_m, _s: string, c: string) => c.toUpperCase()),
    shortDescription: { text: `Unscoped tenant query: ${kind}` },
    fullDescription: { text: `A query that the runtime check (tenantfence) reports as ${kind}: it can read or write rows of another tenant.` },
    help: {
      text:
        "Pin the request's tenant in the query (tenantId from the tenant context, or through the relation that scopes the model). " +
        "See tenantfence's docs/scan.md and docs/isolation.md.",
    },
    defaultConfiguration: { level: 'error' as const },
  })),
  {
    id: 'tenantfence/unverifiable',
    name: 'UnverifiableTenantScope',
    shortDescription: { text: 'Tenant scope cannot be verified statically' },
    fullDescription: {
      text:
        'A query on a tenant-owned model whose arguments the scan cannot see (a variable holding the whole filter, a spread) ' +
        "or whose tenant value it cannot trace to the request's tenant.",
    },
    help: {
      text:
        "Write the tenant pin in the query itself, from the tenant context (or mark the app's source of the request tenant with " +
        "@requestTenant); or accept it in the baseline. See tenantfence's docs/scan.md.",
    },
    defaultConfiguration: { level: 'warning' },
  },
]
const RULE_INDEX = new Map(RULES.map((r, i) => [r.id, i]))

export function formatSarif(o: ScanOutcome): string {
  const results: Result[] = o.report.sites.filter(isFinding).map((s) => result(o, s))
  const log: Log = {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'tenantfence', semanticVersion: TENANTFENCE_VERSION, rules: RULES } },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  }
  return `${JSON.stringify(log, null, 2)}\n`
}

function result(o: ScanOutcome, s: ScanSite): Result {
  const ruleId = s.verdict === 'unscoped' && s.violation ? `tenantfence/${s.violation}` : 'tenantfence/unverifiable'
  const of = s.level ? ` (${s.level} level)` : ''
  const what = s.verdict === 'unscoped' ? `Unscoped ${s.model}.${s.operation}${of}` : `Unverifiable tenant scope: ${s.model}.${s.operation}${of}`
  return {
    ruleId,
    ruleIndex: RULE_INDEX.get(ruleId)!,
    level: s.severity ? LEVEL[s.severity] : 'warning',
    message: { text: `${what} in ${s.enclosing}: ${s.reasons.join('; ')}${s.fix ? `. Fix: ${s.fix}` : ''}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: s.file, uriBaseId: '%SRCROOT%' },
          region: { startLine: s.line, startColumn: s.column, endLine: s.endLine, endColumn: s.endColumn },
        },
        logicalLocations: [{ fullyQualifiedName: s.enclosing, kind: 'function' }],
      },
    ],
    partialFingerprints: { [FINGERPRINT]: s.key },
    ...(o.comparison ? { baselineState: isNew(o, s) ? ('new' as const) : ('unchanged' as const) } : {}),
    properties: { model: s.model, operation: s.operation, verdict: s.verdict, severity: s.severity, violation: s.violation },
  }
}
