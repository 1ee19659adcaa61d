// File names of a phase's generated files: phase-<n>-<slug of its name>.
import type { PhaseConfig } from '../../config/schema.ts'

export function phaseSlug(phase: PhaseConfig): string {
  const slug = phase.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return `phase-${phase.phase}${slug ? `-${slug}` : ''}`
}

export const rulesFile = (phase: PhaseConfig) => `${phaseSlug(phase)}.rules.yml`
export const testFile = (phase: PhaseConfig) => `tests/${phaseSlug(phase)}.test.yml`
export const runbookFile = (phase: PhaseConfig) => `runbooks/${phaseSlug(phase)}.md`

/** Rule group name: distinct per phase so every phase's file can be loaded at once. */
export const groupName = (phase: PhaseConfig) => `tenantfence-${phaseSlug(phase)}`

