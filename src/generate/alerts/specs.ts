// What each alert measures and says, written once per alert name. A phase's rule file picks
// the specs its config lists, with the phase's own thresholds and severities; the silence file
// holds the alerts of no phase. The unit tests and runbooks read the same specs.
import type { AlertName, AlertSeverity, PhaseConfig, SilenceAlertName, TenantFenceConfig, Thresholds } from '../../config/schema.ts'
import { METRIC } from '../../telemetry/metric-names.ts'
import { ENFORCEMENT_DASHBOARD as ENF, VIOLATIONS_DASHBOARD as VIO, type DashboardRef, type PanelRef } from '../dashboards/catalog.ts'
import { appScope, checkQuantileMs, decision, eq, errorRate, increaseSum, jobErrors, selector, windowSeconds, type Scope } from '../promql.ts'
import { rollbackCommand } from '../rollback.ts'

/** Fixed windows of the alert expressions (dashboards use $__rate_interval instead). */
export const WINDOW = {
  summary: '24h',
  spike: '5m',
  criticalModel: '5m',
  errorRate: '5m',
  jobErrors: '15m',
  bypass: '1h',
  latency: '5m',
} as const

export interface AlertSpec {
  name: AlertName | SilenceAlertName
  severity: AlertSeverity
  /** the condition, without the phase's mode gate; every alert keeps the `job` label */
  expr: string
  for: string
  /** labels of the rule beyond severity and phase */
  labels?: Record<string, string>
  summary: string
  /** Prometheus template: {{ $value }} and {{ $labels.* }} are filled in when it fires */
  description: string
  /** runbook: what it means, in a sentence or two */
  meaning: string
  /** runbook: what to do, first step first */
  actions: string[]
  /** runbook: the panels that show it */
  panels: Array<[DashboardRef<string>, PanelRef]>
  /** whether the runbook and description lead with the rollback */
  rollback: boolean
}

/** A count in an annotation: whole (increase() may extrapolate to 47.98 for 48 events). */
export const COUNT = '{{ $value | printf "%.0f" }}'

/** How long the daily summary's condition holds after its time of day, beyond its `for`. */
export const SUMMARY_OPEN = '15m'

/**
 * True (any value) from the summary's time of day (UTC) for `for` + SUMMARY_OPEN, every day: the
 * summary fires once then, and resolves; one notification a day, not an alert firing all day.
 */
export function dailyWindow(t: Pick<Thresholds, 'violationSummaryAt' | 'violationSummaryFor'>): string {
  const [h, m] = t.violationSummaryAt.split(':').map(Number) as [number, number]
  const open = windowSeconds(t.violationSummaryFor) + windowSeconds(SUMMARY_OPEN)
  // shifted to stay positive: PromQL's % keeps the dividend's sign
  return `((vector(time()) + ${86_400 - (h * 3600 + m * 60)}) % 86400 < ${open})`
}

/** Logged violations per minute over `window`, first events included. */
function loggedPerMinute(scope: Scope, window: string, by: readonly string[]): string {
  return `${increaseSum(scope, METRIC.violations, window, by, [decision('logged')])} / ${windowSeconds(window) / 60}`
}

/** 0.001 → "0.1%" */
export function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(6))}%`
}

const REPORT = 'it lists the day\'s violations by model, endpoint and call site'

export function alertSpec(config: TenantFenceConfig, phase: PhaseConfig, name: AlertName): AlertSpec {
  const t: Thresholds = phase.thresholds
  const severity = phase.severities[name]
  const scope = appScope(config)
  const where = `phase ${phase.phase}, ${phase.mode}`
  const rollback = phase.mode === 'hardened' ? `hardened mode ignores the flags: redeploy with \`hardened: false\`, then ${rollbackCommand(config, phase)}` : rollbackCommand(config, phase)
  const common = { name, severity }
  switch (name) {
    case 'TenantViolationSummary':
      return {
        ...common,
        expr: `${increaseSum(scope, METRIC.violations, WINDOW.summary, ['job'])} > 0\nand on() ${dailyWindow(t)}`,
        for: t.violationSummaryFor,
        summary: 'Daily summary: unscoped tenant queries were seen in the last 24 hours.',
        description: `${COUNT} tenant violations in the last 24 hours (${where}). Each one is a query that could read or write another tenant's rows. This summary goes out once a day at ${t.violationSummaryAt} UTC (+${t.violationSummaryFor}) and resolves ${SUMMARY_OPEN} later.`,
        meaning: `Queries on tenant-owned models ran without a filter that pins one tenant. Nothing was blocked; each one must be fixed before its model is enforced. It is a daily notification, not an incident: its condition holds only from ${t.violationSummaryAt} UTC (thresholds.violationSummaryAt) for its \`for\` plus ${SUMMARY_OPEN}, so it fires once a day and resolves by itself. Route it (severity info) to a channel or ticket queue, with \`send_resolved: false\` and a \`repeat_interval\` of at least an hour so it is delivered once.`,
        actions: [`Run \`tenantfence report\`: ${REPORT}.`, 'Fix each call site (add the tenant filter or wrap a reviewed system job in `withoutTenantEnforcement` with a documented reason).'],
        panels: [[VIO, VIO.panels.total], [VIO, VIO.panels.byModel], [VIO, VIO.panels.topEndpoints]],
        rollback: false,
      }
    case 'TenantViolationSpike':
      return {
        ...common,
        // logged violations only: in phase 2 these are the logged models', blocked ones have their own alerts
        expr: `${loggedPerMinute(scope, WINDOW.spike, ['job'])} > ${t.violationSpikePerMinute}`,
        for: t.violationSpikeFor,
        summary: 'Logged tenant violations are arriving faster than usual.',
        description: `{{ $value | humanize }} logged tenant violations per minute over the last 5 minutes, above the threshold of ${t.violationSpikePerMinute} a minute (${where}).`,
        meaning: 'A new code path (often a fresh deploy or a new background job) is issuing unscoped queries on the models this phase logs, at a high rate.',
        actions: ['Find the model and endpoint that jumped on the panels above; compare the start time with the latest deploy.', `Run \`tenantfence report\`: ${REPORT}.`],
        panels: [[VIO, VIO.panels.overTime], [VIO, VIO.panels.topEndpoints], [VIO, VIO.panels.recentLines]],
        rollback: false,
      }
    case 'TenantCriticalModelViolation':
      return {
        ...common,
        // Logged only, and only for models the app logs now: a CRITICAL query that the phase
        // blocks is the phase working, and the ones logged in the minutes before a switch from
        // log only are history, not a leak.
        expr: `${increaseSum(scope, METRIC.violations, WINDOW.criticalModel, ['job', 'model'], [eq('severity', 'CRITICAL'), decision('logged')])} > 0\nand on(job, model) (max by (job, model) (${selector(scope, METRIC.modelPolicy, [eq('policy', 'log')])}) == 1)`,
        for: t.criticalViolationFor,
        summary: 'An unscoped query on a CRITICAL tenant-owned model was let through.',
        description: `{{ $labels.model }} (CRITICAL) let ${COUNT} unscoped queries through in the last 5 minutes (${where}): another tenant's rows may have been read or written.`,
        meaning: 'A model holding credentials, sessions or audit data was queried without a tenant filter, and the query ran: the app logs this model instead of blocking it. Blocked CRITICAL queries do not fire this alert (they show in the blocked panels), nor do those logged before the switch to this phase.',
        actions: ['Open the recent violation lines for the model and read the stack trace.', `Run \`tenantfence report\`: ${REPORT}.`, 'Check that the phase flags block every CRITICAL model (TENANT_ENFORCEMENT_ENFORCE_MODELS).'],
        panels: [[VIO, VIO.panels.byModel], [VIO, VIO.panels.recentLines], [ENF, ENF.panels.modelPolicies]],
        rollback: false,
      }
    case 'TenantEnforcementErrors':
      return {
        ...common,
        expr: `${errorRate(config, scope, 'increase', WINDOW.errorRate, ['job'])} > ${t.errorRate}`,
        for: t.errorRateFor,
        summary: 'Tenant enforcement is blocking more of the users\' requests than expected.',
        description: `{{ $value | humanizePercentage }} of users' requests hit a blocked query over the last 5 minutes, above ${percent(t.errorRate)} (${where}; rollback at ${percent(t.errorRateRollback)}).`,
        meaning: 'Queries the phase enforces are being blocked (403 TENANT_CONTEXT_REQUIRED). Either a code path lost its tenant context or an attack is being stopped. Probes and scrapes are not counted as requests; blocked jobs have their own alert.',
        actions: ['Find the model and endpoint on the panels above.', `Run \`tenantfence report\`: ${REPORT}.`, `If it keeps rising towards ${percent(t.errorRateRollback)}, roll back: ${rollback}.`],
        panels: [[ENF, ENF.panels.errorRate], [ENF, ENF.panels.errorsByModel], [ENF, ENF.panels.errorsByEndpoint]],
        rollback: false,
      }
    case 'TenantEnforcementRollback':
      return {
        ...common,
        expr: `${errorRate(config, scope, 'increase', WINDOW.errorRate, ['job'])} > ${t.errorRateRollback}`,
        for: t.errorRateRollbackFor,
        summary: 'Tenant enforcement blocks so many requests that the rollout must be rolled back.',
        description: `{{ $value | humanizePercentage }} of users' requests hit a blocked query over the last 5 minutes, above the rollback trigger of ${percent(t.errorRateRollback)} (${where}). Roll back to log only now: ${rollback}.`,
        meaning: `The rollback trigger of the rollout. ${config.rollback.description}`,
        actions: [`Roll back now: ${rollback}.`, 'Confirm the current mode panel shows the rollback mode and the error rate falls.', 'Then find the blocked model and endpoint, fix them, and re-enter the phase.'],
        panels: [[ENF, ENF.panels.mode], [ENF, ENF.panels.errorRate], [ENF, ENF.panels.errorsByEndpoint]],
        rollback: true,
      }
    case 'TenantJobQueriesBlocked':
      return {
        ...common,
        // outside any request there is no request to divide by: any blocked query of a job is news
        expr: `${increaseSum(scope, METRIC.enforcementErrors, WINDOW.jobErrors, ['job', 'model'], [jobErrors])} > 0`,
        for: t.jobErrorsFor,
        summary: 'A query outside any request (a job or a script) was blocked.',
        description: `${COUNT} {{ $labels.model }} queries outside any request were blocked in the last 15 minutes (${where}): a background job is failing.`,
        meaning: 'Code that runs outside a request (a cron job, a queue consumer, a script) queried a tenant-owned model without pinning a tenant and the phase blocked it. These are not part of the error rate, which divides blocked requests by requests.',
        actions: ['Find the job in the TENANT_VIOLATION lines with endpoint "unknown" (the stack trace names it).', 'Scope its queries, or run it inside `withoutTenantEnforcement` with a documented reason if it must cross tenants.'],
        panels: [[ENF, ENF.panels.errorsByEndpoint], [ENF, ENF.panels.errorsByModel]],
        rollback: false,
      }
    case 'TenantBypassUsage':
      return {
        ...common,
        expr: `${increaseSum(scope, METRIC.bypassUsage, WINDOW.bypass, ['job'])} > ${t.bypassPerHour}`,
        for: t.bypassFor,
        summary: 'Tenant enforcement is being bypassed more often than expected.',
        description: `${COUNT} bypasses of tenant enforcement in the last hour, above ${t.bypassPerHour} an hour (${where}).`,
        meaning: 'Code ran queries through `withoutTenantEnforcement`. Each use is counted and logged with its reason and stack; a rise means a bypass leaked into a request path.',
        actions: ['See which reason grew on the panels above.', 'Search the logs for `TENANT_BYPASS` lines to find the call site, and check the reason is one of the documented ones.'],
        panels: [[ENF, ENF.panels.bypassesLastHour], [ENF, ENF.panels.bypassesByReason]],
        rollback: false,
      }
    case 'TenantCheckLatencyHigh':
    case 'TenantCheckLatencyCritical': {
      const critical = name === 'TenantCheckLatencyCritical'
      const ms = critical ? t.checkLatencyCriticalMs : t.checkLatencyWarningMs
      return {
        ...common,
        expr: `${checkQuantileMs(scope, WINDOW.latency, undefined, ['job'])} > ${ms}`,
        for: t.checkLatencyFor,
        summary: critical ? 'The tenant check is slowing every query down.' : 'The tenant check costs more than expected.',
        description: `The p95 cost of the tenant check is {{ $value | humanize }} ms over the last 5 minutes, above ${ms} ms (${where}).`,
        meaning: 'Inspecting each query (walking `where`, `data`, `include`) takes longer than budgeted; usually very large query arguments or deep nested includes.',
        actions: ['Check whether the latency rose with a deploy or with traffic.', critical ? `If requests time out, roll back: ${rollback}; log only still inspects, so also consider lowering TENANT_ENFORCEMENT_LOG_SAMPLE_RATE.` : 'Profile the slowest queries (large `in` lists, deep includes).'],
        panels: [[ENF, ENF.panels.checkP95]],
        rollback: critical,
      }
    }
    case 'TenantFlagReloadFailed': {
      // Per instance: the last refused change is newer than the last one applied (start-up
      // included). A later change that is applied resolves it at once; a bad value left in
      // place keeps it firing, since the flags meant to be in force are not.
      const at = (outcome: string) => `max by (job, instance) (${selector(scope, METRIC.flagReloads, [eq('outcome', outcome)])})`
      return {
        ...common,
        expr: `count by (job) (${at('refused')} > ${at('applied')})`,
        for: '0s',
        summary: 'A runtime change of the tenant enforcement flags was refused.',
        description: `${COUNT} instance(s) refused their latest flag change and run on their last good flags (${where}): a rollback or phase change may not have taken effect. It resolves when a later change is applied.`,
        meaning: 'A TENANT_ENFORCEMENT_* value (env or flag file) did not validate. The app kept the last good flags and logged the error, naming the bad value and the valid ones. The alert holds until a later flag change is applied on every instance.',
        actions: ['Read the app log for the flag error: it names the flag and the valid values.', 'Fix the value; check the current mode panel shows the intended mode.'],
        panels: [[ENF, ENF.panels.flagErrors], [ENF, ENF.panels.mode]],
        rollback: false,
      }
    }
  }
}

/**
 * The alerts of no phase: the app's tenantfence metrics are missing. Every phase alert is gated
 * on the mode the app reports, so with no mode reported they are all silent; these say so.
 * - TenantMetricsMissing: no instance of the app reports a mode (target down, scrapes failing,
 *   the registry not exported, the scrape job renamed). Without a configured job it also names a
 *   job that reported a mode in the last hour and stopped.
 * - TenantInstanceNotReporting (needs app.job to pick the targets): one instance of the job is
 *   down (value 0) or scraped without tenantfence's metrics (value 1).
 * - TenantFleetModeMismatch: the instances of one job report different modes for longer than a
 *   flag change takes to reach them all. Not a phase's alert: a mixed fleet is between phases.
 */
export function silenceSpecs(config: TenantFenceConfig): AlertSpec[] {
  const scope = appScope(config)
  const t = config.thresholds
  const job = config.app.job
  const mode = selector(scope, METRIC.mode)
  const reportingNow = `count by (job) (${mode} == 1)`
  const stopped = `count by (job) (max_over_time(${mode}[1h]) == 1) unless on(job) ${reportingNow}`
  const rollback = `If enforcement is what broke the app, roll back: ${rollbackCommand(config)}.`
  const specs: AlertSpec[] = [
    {
      name: 'TenantMetricsMissing',
      severity: 'critical',
      expr: job ? `absent(${mode} == 1)` : `absent(${mode} == 1) or (${stopped})`,
      for: t.metricsMissingFor,
      ...(job ? { labels: { job } } : {}),
      summary: 'The app reports no tenant enforcement mode: every tenantfence alert is blind.',
      description: `No instance of ${job ? `job ${job}` : '{{ $labels.job }}'} has reported tenant_enforcement_mode for ${t.metricsMissingFor}: the target is down, its scrapes fail, or the app does not export tenantfence's registry. No phase alert can fire until it reports again.`,
      meaning: 'Every phase alert is gated on the mode the app reports (`tenant_enforcement_mode`). Without it nothing else can fire: violations, blocked requests and bypasses go unseen.',
      actions: [
        `Open Prometheus's targets page: is ${job ? `job ${job}` : 'the job'} up? A failing scrape names its error there.`,
        'If it is up, open its /metrics: `tenant_enforcement_mode` must be there. If not, the app does not expose the registry tenantfence counts in (`tenantEnforcement({ registry })` and `metricsHandler(registry)` must share it).',
        ...(job ? [`Check that the scrape job is named ${job} (config.app.job).`] : []),
        rollback,
      ],
      panels: [[ENF, ENF.panels.instances], [ENF, ENF.panels.mode]],
      rollback: false,
    },
  ]
  if (job) {
    specs.push({
      name: 'TenantInstanceNotReporting',
      severity: 'warning',
      expr: `${selector(scope, 'up')} unless on(instance) (${mode} == 1)`,
      for: t.metricsMissingFor,
      summary: 'An instance of the app is not reporting tenantfence\'s metrics.',
      description: `{{ $labels.instance }} of job ${job} reports no tenant enforcement mode (up = {{ $value | printf "%.0f" }}: 0 means its scrapes fail, 1 means it is scraped without tenantfence's metrics). Its violations and blocked queries go unseen.`,
      meaning: 'One instance is down or exports a registry without tenantfence\'s metrics (a deploy without the extension, another registry on /metrics). The other instances still alert.',
      actions: ['Open the instance\'s /metrics and look for `tenant_enforcement_mode`.', 'If the instance is down, the platform\'s own alerts say why; if it is up, check that it was built with the extension and exposes its registry.'],
      panels: [[ENF, ENF.panels.instances]],
      rollback: false,
    })
  }
  specs.push(fleetModeMismatch(config))
  return specs
}

/**
 * The instances of one job disagree on the mode: a flag change (a rollback, a phase change) did
 * not reach some of them. Its value is the number of instances reporting a mode; it holds while
 * they report more than one mode, for longer than the flag source's propagation time.
 */
function fleetModeMismatch(config: TenantFenceConfig): AlertSpec {
  const scope = appScope(config)
  const t = config.thresholds
  const mode = selector(scope, METRIC.mode)
  const job = config.app.job ? `job ${config.app.job}` : 'job {{ $labels.job }}'
  return {
    name: 'TenantFleetModeMismatch',
    severity: 'warning',
    expr: `count by (job) (${mode} == 1)\nand on(job) (count by (job) (count by (job, mode) (${mode} == 1)) > 1)`,
    for: t.fleetModeMismatchFor,
    summary: 'The instances of the app disagree on the tenant enforcement mode.',
    description: `The ${COUNT} instances of ${job} have reported more than one tenant enforcement mode for ${t.fleetModeMismatchFor}, longer than a flag change takes to reach them all: a rollback or phase change has not reached some of them. \`tenantfence status\` names each instance's mode.`,
    meaning: `A flag change reaches the instances of a job at different moments (the flag file: each poll; a mounted ConfigMap: the kubelet's sync, up to a minute or two; an OpenFeature provider: its event or poll). Mixed for longer than thresholds.fleetModeMismatchFor (${t.fleetModeMismatchFor}), some instances did not get the change: they enforce what the others no longer do, or let through what the others block. Each phase's alerts apply while any instance reports that phase's mode, so both phases' alerts may fire meanwhile.`,
    actions: [
      '`tenantfence status --prometheus <url> --config <config>` names the instances that are not in the mode of the others.',
      'On those instances, check the flag source: TenantFlagReloadFailed fires if they refused the value; a ConfigMap mounted with `subPath` is never updated; an OpenFeature provider may have lost its connection (`tenant_flag_errors_total`).',
      `If the change was a rollback, make it reach them (restart them if need be): ${rollbackCommand(config)}.`,
    ],
    panels: [[ENF, ENF.panels.instancesByMode], [ENF, ENF.panels.mode]],
    rollback: false,
  }
}
