// Everything `generate` writes, as (path, content) pairs computed from the config alone:
// no clock, no absolute paths, sorted, so the output is byte-for-byte deterministic.
import type { TenantFenceConfig } from '../config/schema.ts'
import { renderRulesFile } from './alerts/rules.ts'
import { latencyBuckets, renderUnitTestFile } from './alerts/unit-tests.ts'
import { ruleFiles, rulesFile, runbookFile, testFile } from './alerts/phases.ts'
import { ENFORCEMENT_DASHBOARD, VIOLATIONS_DASHBOARD } from './dashboards/catalog.ts'
import { enforcementDashboard } from './dashboards/enforcement.ts'
import { violationsDashboard } from './dashboards/violations.ts'
import { generatedNotice } from './notice.ts'
import { rlsFiles } from './rls.ts'
import { renderRunbook } from './runbooks.ts'

/** The folders (under --out) the generator owns. */
export const GENERATED_DIRS = ['dashboards', 'alerts'] as const

export interface GeneratedFile {
  /** relative to the output directory, with forward slashes */
  path: string
  content: string
}

export interface GenerateOptions {
  /** how the files name their source (a file name, never an absolute path) */
  configName?: string
  /** the app's schema.prisma text: with config.rls, the row-level security SQL is generated from it */
  schema?: string
}

/** Refuse settings that would generate alerts that can never fire, before writing anything. */
export function validateForGenerate(config: TenantFenceConfig): void {
  for (const phase of config.phases) {
    try {
      latencyBuckets(phase.thresholds.checkLatencyWarningMs)
      latencyBuckets(phase.thresholds.checkLatencyCriticalMs)
    } catch (err) {
      throw Object.assign(err as Error, { message: `phases[${phase.phase}]: ${(err as Error).message}` })
    }
  }
}

export function generateFiles(config: TenantFenceConfig, options: GenerateOptions = {}): GeneratedFile[] {
  validateForGenerate(config)
  const configName = options.configName ?? 'tenantfence.config.ts'
  const notice = generatedNotice(configName)
  const dashboardJson = (dashboard: object) => `${JSON.stringify({ __generated: notice, ...dashboard }, null, 2)}\n`
  const files: GeneratedFile[] = [
    { path: `dashboards/${VIOLATIONS_DASHBOARD.file}`, content: dashboardJson(violationsDashboard(config, notice)) },
    { path: `dashboards/${ENFORCEMENT_DASHBOARD.file}`, content: dashboardJson(enforcementDashboard(config, notice)) },
  ]
  for (const file of ruleFiles(config)) {
    files.push(
      { path: `alerts/${rulesFile(file)}`, content: renderRulesFile(config, file, configName) },
      { path: `alerts/${testFile(file)}`, content: renderUnitTestFile(config, file, configName) },
      { path: `alerts/${runbookFile(file)}`, content: renderRunbook(config, file, configName) },
    )
  }
  if (options.schema !== undefined) files.push(...rlsFiles(config, options.schema, configName))
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}
