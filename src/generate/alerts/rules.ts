// A phase's Prometheus rule file: the alerts the phase lists, each gated by the phase's mode
// so the files of every phase can be loaded into one Prometheus at once.
import { stringify } from 'yaml'
import type { PhaseConfig, TenantFenceConfig } from '../../config/schema.ts'
import { modeGate } from '../promql.ts'
import { yamlHeader } from '../notice.ts'
import { alertSpec, type AlertSpec } from './specs.ts'
import { groupName, phaseSlug, runbookFile } from './phases.ts'

export interface PrometheusRule {
  alert: string
  expr: string
  for: string
  labels: Record<string, string>
  annotations: { summary: string; description: string; runbook_url: string }
}

/** The alert's condition joined with the phase's mode gate. */
export function gatedExpr(config: TenantFenceConfig, phase: PhaseConfig, spec: AlertSpec): string {
  return `${spec.expr}\nand on() ${modeGate(config, phase.mode)}`
}

/** GitHub's heading anchor of `## <AlertName>`. */
export const runbookAnchor = (alert: string) => alert.toLowerCase()

export function runbookUrl(config: TenantFenceConfig, phase: PhaseConfig, alert: string): string {
  return `${config.app.runbookBaseUrl.replace(/\/+$/, '')}/${runbookFile(phase).replace(/^runbooks\//, '')}#${runbookAnchor(alert)}`
}

export function phaseRules(config: TenantFenceConfig, phase: PhaseConfig): PrometheusRule[] {
  return phase.alerts.map((name) => {
    const spec = alertSpec(config, phase, name)
    return {
      alert: spec.name,
      expr: gatedExpr(config, phase, spec),
      for: spec.for,
      labels: { severity: spec.severity, phase: String(phase.phase) },
      annotations: { summary: spec.summary, description: spec.description, runbook_url: runbookUrl(config, phase, name) },
    }
  })
}

export function renderRulesFile(config: TenantFenceConfig, phase: PhaseConfig, configName: string): string {
  const doc = { groups: [{ name: groupName(phase), rules: phaseRules(config, phase) }] }
  const what = `Prometheus alert rules of phase ${phase.phase} (${phase.name}, mode ${phase.mode}): ${phaseSlug(phase)}. Each alert fires only while the app reports mode "${phase.mode}".`
  return yamlHeader(configName, what) + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })
}
