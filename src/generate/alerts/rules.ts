// A rule file: a phase's alerts, each gated by the phase's mode so the files of every phase can
// be loaded into one Prometheus at once; or the alerts of no phase, never gated.
import { stringify } from 'yaml'
import type { PhaseConfig, TenantFenceConfig } from '../../config/schema.ts'
import { appScope, modeGate } from '../promql.ts'
import { yamlHeader } from '../notice.ts'
import type { AlertSpec } from './specs.ts'
import { groupName, phaseRuleFile, runbookFile, type RuleFile } from './phases.ts'

export interface PrometheusRule {
  alert: string
  expr: string
  for: string
  labels: Record<string, string>
  annotations: { summary: string; description: string; runbook_url: string }
}

/** The alert's condition joined, per job, with the phase's mode gate (none for the silence file). */
export function gatedExpr(config: TenantFenceConfig, phase: PhaseConfig | undefined, spec: AlertSpec): string {
  return phase ? `${spec.expr}\nand on(job) ${modeGate(appScope(config), phase.mode)}` : spec.expr
}

/** GitHub's heading anchor of `## <AlertName>`. */
export const runbookAnchor = (alert: string) => alert.toLowerCase()

/** A rule file's runbook: under app.runbookBaseUrl, else relative to the rule file (runbooks/…). */
export function runbookPageUrl(config: TenantFenceConfig, file: { slug: string }): string {
  const base = config.app.runbookBaseUrl
  const path = runbookFile(file)
  return base ? `${base.replace(/\/+$/, '')}/${path.replace(/^runbooks\//, '')}` : path
}

/** The runbook section of an alert. */
export function runbookUrl(config: TenantFenceConfig, file: { slug: string }, alert: string): string {
  return `${runbookPageUrl(config, file)}#${runbookAnchor(alert)}`
}

export function fileRules(config: TenantFenceConfig, file: RuleFile): PrometheusRule[] {
  return file.specs.map((spec) => ({
    alert: spec.name,
    expr: gatedExpr(config, file.phase, spec),
    for: spec.for,
    labels: { severity: spec.severity, ...(file.phase ? { phase: String(file.phase.phase) } : {}), ...spec.labels },
    annotations: { summary: spec.summary, description: spec.description, runbook_url: runbookUrl(config, file, spec.name) },
  }))
}

export function phaseRules(config: TenantFenceConfig, phase: PhaseConfig): PrometheusRule[] {
  return fileRules(config, phaseRuleFile(config, phase))
}

export function renderRulesFile(config: TenantFenceConfig, file: RuleFile, configName: string): string {
  const doc = { groups: [{ name: groupName(file), rules: fileRules(config, file) }] }
  const p = file.phase
  const what = p
    ? `Prometheus alert rules of phase ${p.phase} (${p.name}, mode ${p.mode}): ${file.slug}. Each alert fires only while the app reports mode "${p.mode}".`
    : `Prometheus alert rules of no phase: the app's tenantfence metrics are missing (every phase alert is gated on the mode the app reports, so none of them can say so), or its instances disagree on the mode.`
  return yamlHeader(configName, what) + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })
}
