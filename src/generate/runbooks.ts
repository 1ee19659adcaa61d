// One runbook per rule file, one section per alert: what it means, where to look, what to do,
// and the rollback. Alert annotations link to these sections (runbook_url).
import type { TenantFenceConfig } from '../config/schema.ts'
import { stringifyFlags } from '../config/define.ts'
import type { RuleFile } from './alerts/phases.ts'
import { rulesFile } from './alerts/phases.ts'
import { gatedExpr } from './alerts/rules.ts'
import { percent } from './alerts/specs.ts'
import { panelLink } from './dashboards/catalog.ts'
import { markdownHeader } from './notice.ts'
import { rlsRunbookSection } from './rls.ts'
import { rollbackLines } from './rollback.ts'

function intro(config: TenantFenceConfig, file: RuleFile): string[] {
  const phase = file.phase
  if (!phase) {
    return [
      '# Runbook: the app\'s tenantfence metrics are missing, or its instances disagree on the mode',
      '',
      `Every phase alert fires only while the app reports its mode (\`tenant_enforcement_mode\`). The alerts below, from \`alerts/${rulesFile(file)}\`, belong to no phase: they fire when the app reports no mode at all, so that silence is never mistaken for health, or when its instances report different modes for longer than a flag change takes to reach them all.`,
      '',
    ]
  }
  const t = phase.thresholds
  const flags = Object.entries(stringifyFlags(phase.flags)).map(([k, v]) => `${k}=${v}`)
  return [
    `# Runbook: phase ${phase.phase}, ${phase.name} (mode \`${phase.mode}\`)`,
    '',
    `${phase.goal} Expected duration: ${phase.duration}.`,
    '',
    `The alerts below come from \`alerts/${rulesFile(file)}\` and fire only while the app reports mode \`${phase.mode}\` (\`tenant_enforcement_mode{mode="${phase.mode}"} == 1\`).`,
    `This phase's thresholds: blocked requests above ${percent(t.errorRate)} of users' requests (TenantEnforcementErrors, ${phase.severities.TenantEnforcementErrors}), rollback above ${percent(t.errorRateRollback)}, more than ${t.bypassPerHour} bypasses an hour, more than ${t.violationSpikePerMinute} logged violations a minute.`,
    '',
    'Phase flags:',
    '',
    '```sh',
    ...flags,
    '```',
    '',
    'Success criteria (`tenantfence phase check ' + phase.phase + '`):',
    '',
    ...(phase.successCriteria.length ? phase.successCriteria.map((c) => `- ${c.description} (over ${c.window})`) : ['- none']),
    '',
  ]
}

export function renderRunbook(config: TenantFenceConfig, file: RuleFile, configName: string): string {
  const hardened = file.phase?.mode === 'hardened'
  const lines: string[] = [
    markdownHeader(configName).trimEnd(),
    '',
    ...intro(config, file),
    '## Rollback',
    '',
    config.rollback.description,
    '',
    '```sh',
    ...rollbackLines(config, file.phase),
    '```',
    '',
    ...(hardened ? ['Hardened mode ignores the flags: redeploy with `hardened: false` first, then run the command above.', ''] : []),
    'Daily report of what was seen: `tenantfence report` (see its `--help` for `--logs` / `--loki`).',
    '',
  ]
  if (hardened) lines.push(...rlsRunbookSection(config))
  if (file.specs.length === 0) lines.push('This phase runs no alerts.', '')
  for (const spec of file.specs) {
    lines.push(
      `## ${spec.name}`,
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
      ...rollbackLines(config, file.phase),
      '```',
      '',
      '<details><summary>Rule expression</summary>',
      '',
      '```promql',
      gatedExpr(config, file.phase, spec),
      '```',
      '',
      '</details>',
      '',
    )
  }
  return lines.join('\n')
}
