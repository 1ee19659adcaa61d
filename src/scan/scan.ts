// `tenantfence scan` as a function: read the app, find every Prisma query, judge each with the
// runtime's inspector, key it for the baseline. No output here (see format-*.ts).
import type * as TS from 'typescript'
import type { TenantFenceConfig } from '../config/schema.ts'
import type { ReferencePolicy } from '../enforcement/policy.ts'
import { tenantLevels, isTwoLevel } from '../config/levels.ts'
import { createJudges } from './judge.ts'
import type { DataModel } from '../enforcement/datamodel.ts'
import { Evaluator, SymObject, type Sym } from './evaluate.ts'
import { assignKeys, enclosingName, shapeHash } from './keys.ts'
import { createScanProgram, reportPath } from './program.ts'
import { Resolver, shortText } from './resolve.ts'
import { SiteFinder } from './sites.ts'
import { TenantOrigin } from './tenant-origin.ts'
import { checkTypeScript, loadTypeScript, type TypeScript } from './typescript.ts'
import { judgeSite, type SiteVerdict, type Verdict } from './verdict.ts'

export interface ScanOptions {
  config: TenantFenceConfig
  datamodel: DataModel
  /** files or folders; none: the tsconfig's files */
  paths?: readonly string[]
  /** tsconfig.json (default: the nearest one from cwd) */
  project?: string
  cwd?: string
  /** the compiler API (default: the app's `typescript` package) */
  typescript?: TypeScript
  /** a previous scan's program: unchanged files are not parsed again (repeated scans, tests) */
  oldProgram?: TS.Program
  /**
   * A foreign key the query does not pin (`userId: req.body.userId`): 'verify' (default, the
   * runtime's own default) lists it as verified at run time, since the extension looks the row up
   * and blocks another tenant's; 'violation' reports it as unverified_reference, for an app that
   * runs the extension with `references: 'violation'`.
   */
  references?: ReferencePolicy
}

export interface ScanSite extends SiteVerdict {
  /** relative to the report root, forward slashes */
  readonly file: string
  readonly line: number
  readonly column: number
  readonly endLine: number
  readonly endColumn: number
  /** the Prisma model, `$raw` for raw SQL on a client */
  readonly model: string
  readonly operation: string
  /** the function the call is in (`app.get('/api/users/:id')`, `UserService.list`) */
  readonly enclosing: string
  /** the call, on one line, shortened */
  readonly code: string
  readonly shape: string
  /** the baseline key */
  readonly key: string
}

export interface ScanUnresolved {
  readonly file: string
  readonly line: number
  readonly column: number
  readonly operation: string
  readonly why: string
}

export interface ScanReport {
  readonly root: string
  readonly tsconfig: string | undefined
  readonly files: number
  readonly sites: readonly ScanSite[]
  readonly unresolved: readonly ScanUnresolved[]
  readonly durationMs: number
  readonly typescriptVersion: string
  /** the program read, to pass as oldProgram to the next scan */
  readonly program: TS.Program
}

export const FINDING_VERDICTS: ReadonlySet<Verdict> = new Set(['unscoped', 'unverifiable'])
export const isFinding = (s: { verdict: Verdict }) => FINDING_VERDICTS.has(s.verdict)

export async function scan(options: ScanOptions): Promise<ScanReport> {
  const t0 = performance.now()
  const ts = options.typescript ? checkTypeScript(options.typescript) : await loadTypeScript()
  const { program, root, targets, tsconfig } = createScanProgram(ts, {
    cwd: options.cwd ?? process.cwd(),
    paths: options.paths ?? [],
    project: options.project,
    oldProgram: options.oldProgram,
  })
  const judges = createJudges(options.config, options.datamodel, { references: options.references ?? 'verify' })
  const checker = program.getTypeChecker()
  const resolver = new Resolver(ts, checker)
  const levels = isTwoLevel(options.config) ? tenantLevels(options.config).map((l) => ({ name: l.name, field: l.field })) : []
  const origin = new TenantOrigin(resolver, program, { levels })
  const evaluator = new Evaluator(resolver, origin, program)
  const finder = new SiteFinder(resolver, origin)

  const sites: Omit<ScanSite, 'key'>[] = []
  const unresolved: ScanUnresolved[] = []
  const wanted = new Set(targets)
  let files = 0
  for (const sf of program.getSourceFiles()) {
    if (!wanted.has(sf.fileName)) continue
    files++
    const file = reportPath(root, sf.fileName)
    const found = finder.find(sf)
    for (const u of found.unresolved) {
      const pos = sf.getLineAndCharacterOfPosition(u.node.getStart(sf))
      unresolved.push({ file, line: pos.line + 1, column: pos.character + 1, operation: u.operation, why: u.why })
    }
    for (const call of found.calls) {
      const args: Sym = call.args ? evaluator.evaluate(call.args, call.scope) : call.node.kind === ts.SyntaxKind.TaggedTemplateExpression ? new SymObject() : undefined
      const verdict: SiteVerdict = call.bypassed
        ? { verdict: 'bypassed', reasons: ['inside withoutTenantEnforcement: let through (counted and logged) while the flags allow a bypass'], verifiedAtRunTime: [] }
        : judgeSite(judges, options.datamodel, {
            model: call.model,
            operation: call.operation,
            args,
            ...(call.literalTenant !== undefined ? { requestTenant: call.literalTenant } : {}),
            ...(call.literalTenants ? { requestTenants: call.literalTenants } : {}),
            ...(call.contextScope !== undefined ? { scope: call.contextScope } : {}),
          })
      const start = sf.getLineAndCharacterOfPosition(call.node.getStart(sf))
      const end = sf.getLineAndCharacterOfPosition(call.node.getEnd())
      sites.push({
        file,
        line: start.line + 1,
        column: start.character + 1,
        endLine: end.line + 1,
        endColumn: end.character + 1,
        model: call.model ?? '$raw',
        operation: call.operation,
        enclosing: enclosingName(ts, call.node),
        code: shortText(call.node, 160),
        shape: shapeHash(args),
        ...verdict,
      })
    }
  }
  sites.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column)
  return { root, tsconfig, files, sites: assignKeys(sites), unresolved, durationMs: Math.round(performance.now() - t0), typescriptVersion: ts.version, program }
}
