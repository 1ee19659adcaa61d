// The rule files the generator writes: one per phase (its alerts gated on its mode) and one for
// the alerts of no phase (the app's metrics missing). File names: phase-<n>-<slug of its name>.
import type { PhaseConfig, TenantFenceConfig } from '../../config/schema.ts'
import { alertSpec, silenceSpecs, type AlertSpec } from './specs.ts'

export function phaseSlug(phase: PhaseConfig): string {
  const slug = phase.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return `phase-${phase.phase}${slug ? `-${slug}` : ''}`
}

/** The slug of the file of the alerts of no phase. */
export const SILENCE_SLUG = 'metrics-missing'

export interface RuleFile {
  /** file names: <slug>.rules.yml, tests/<slug>.test.yml, runbooks/<slug>.md */
  slug: string
  /** the phase whose mode gates every rule, or undefined for the silence file (never gated) */
  phase: PhaseConfig | undefined
  specs: AlertSpec[]
}

export function phaseRuleFile(config: TenantFenceConfig, phase: PhaseConfig): RuleFile {
  return { slug: phaseSlug(phase), phase, specs: phase.alerts.map((name) => alertSpec(config, phase, name)) }
}

export function silenceRuleFile(config: TenantFenceConfig): RuleFile {
  return { slug: SILENCE_SLUG, phase: undefined, specs: silenceSpecs(config) }
}

/** Every rule file, phases first. */
export function ruleFiles(config: TenantFenceConfig): RuleFile[] {
  return [...config.phases.map((p) => phaseRuleFile(config, p)), silenceRuleFile(config)]
}

export const rulesFile = (f: { slug: string }) => `${f.slug}.rules.yml`
export const testFile = (f: { slug: string }) => `tests/${f.slug}.test.yml`
export const runbookFile = (f: { slug: string }) => `runbooks/${f.slug}.md`

/** Rule group name: distinct per file so every file can be loaded at once. */
export const groupName = (f: { slug: string }) => `tenantfence-${f.slug}`
