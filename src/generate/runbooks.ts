// One runbook per phase file, one section per alert: what it means, where to look, what to do,
// and the rollback. Alert annotations link to these sections (runbook_url).
import type { PhaseConfig, TenantFenceConfig } from '../config/schema.ts'
import { stringifyFlags } from '../config/define.ts'
import { alertSpec } from './alerts/specs.ts'
import { rulesFile } from './alerts/phases.ts'
import { gatedExpr } from './alerts/rules.ts'
import { panelLink } from './dashboards/catalog.ts'
import { markdownHeader } from './notice.ts'
import { rlsRunbookSection } from './rls.ts'
import { rollbackCommand } from './rollback.ts'

export function renderRunbook(config: TenantFenceConfig, phase: PhaseConfig, configName: string): string {
  const flags = Object.entries(stringifyFlags(phase.flags)).map(([k, v]) => `${k}=${v}`)
  const lines: string[] = [
    markdownHeader(configName).trimEnd(),
    '',
    `# Runbook: phase ${phase.phase}, ${phase.name} (mode \`${phase.mode}\`)`,
    '',
    `${phase.goal} Expected duration: ${phase.duration}.`,
    '',
    `The alerts below come from \`alerts/${rulesFile(phase)}\` and fire only while the app reports mode \`${phase.mode}\` (\`tenant_enforcement_mode{mode="${phase.mode}"} == 1\`).`,
    '',
    'Phase flags:',
    '',
    '```sh',
    ...flags,
    '```',
    '',
    '## Rollback',
    '',
    config.rollback.description,
    '',
    '```sh',
    rollbackCommand(config),
    '```',
    '',
    ...(phase.mode === 'hardened' ? ['Hardened mode ignores the flags: redeploy with `hardened: false` first, then run the command above.', ''] : []),
    'Daily report of what was seen: `tenantfence report` (see its `--help` for `--logs` / `--loki`).',
    '',
  ]
  if (phase.mode === 'hardened') lines.push(...rlsRunbookSection(config))
  if (phase.alerts.length === 0) lines.push('This phase runs no alerts.', '')
  for (const name of phase.alerts) {
    const spec = alertSpec(config, phase, name)
    lines.push(
      `## ${name}`,
      '',
      `${spec.summary} Severity **${spec.severity}**; fires once the condition has held for ${spec.for}.`,
      '',
      `**What it means.** ${spec.meaning}`,
      '',
      '**Where to look.**',
      '',
      ...spec.panels.map(([d, p]) => `- ${panelLink(d, p)}`),
      '- `tenantfence report` for the violations by model, endpoint and call site.',
      '',
      '**What to do.**',
      '',
      ...spec.actions.map((a, i) => `${i + 1}. ${a}`),
      '',
      spec.rollback ? 'The rollback:' : 'If enforcement itself is the problem, roll back:',
      '',
      '```sh',
      rollbackCommand(config),
      '```',
      '',
      '<details><summary>Rule expression</summary>',
      '',
      '```promql',
      gatedExpr(config, phase, spec),
      '```',
      '',
      '</details>',
      '',
    )
  }
  return lines.join('\n')
}
