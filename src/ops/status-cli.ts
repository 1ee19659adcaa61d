// tenantfence status: the violations and enforcement dashboards in the terminal.
import { parseCommand } from '../cli-args.ts'
import { CliError } from '../cli-error.ts'
import { existsSync } from 'node:fs'
import { DEFAULT_CONFIG_FILES, loadConfig } from '../config/load.ts'
import { parseAt } from './dates.ts'
import { baseUrl, joinUrl } from './http-errors.ts'
import { PrometheusClient } from './prometheus-client.ts'
import { collectFromMetrics, collectFromPrometheus } from './status/collect.ts'
import { paletteFor, renderStatus } from './status/render.ts'

export const summary = 'terminal dashboards: violations (24 h) and enforcement status'

export const HELP = `tenantfence status (--prometheus URL | --metrics URL) [--at RFC3339|unix] [--config FILE]

  --prometheus URL  Prometheus base URL: last 24 h vs the 24 h before, last hour; only the
                    series of the config's app (job="<config.app.job>")
  --config FILE     the config (default: tenantfence.config.* in this directory); its phase
                    thresholds colour the error rate (red above the rollback trigger)
  --metrics URL     the app's /metrics endpoint, scraped once: totals since the process started
  --at TIME         Prometheus: evaluate at this time instead of now
Colour only when stdout is a terminal and NO_COLOR is unset.`

export async function run(argv: string[]): Promise<number> {
  const text = { type: 'string' } as const
  const options = { prometheus: text, metrics: text, at: text, config: text }
  const parsed = parseCommand(argv, options, HELP).values
  if (parsed.help) {
    console.log(HELP)
    return 0
  }
  const values = parsed as Record<keyof typeof options, string | undefined>
  if (!!values.prometheus === !!values.metrics) throw new CliError('give exactly one of --prometheus URL or --metrics URL', 2)
  let data
  if (values.prometheus) {
    const base = baseUrl(values.prometheus, '--prometheus')
    const at = values.at === undefined ? undefined : parseAt(values.at)
    const config = await loadConfig(values.config)
    data = await collectFromPrometheus(new PrometheusClient(base, at), `Prometheus ${base.origin} (${config.app.job ? `job ${config.app.job}` : 'every job'})`, config)
  } else {
    if (values.at !== undefined) throw new CliError('--at needs --prometheus (a /metrics scrape is always "now")', 2)
    const url = baseUrl(values.metrics!, '--metrics')
    // The config gives the phase thresholds and probe routes; without one, the document's.
    const config = values.config !== undefined || DEFAULT_CONFIG_FILES.some((f) => existsSync(f)) ? await loadConfig(values.config) : undefined
    data = await collectFromMetrics(url.pathname === '/' ? joinUrl(url, '/metrics') : url, config)
  }
  process.stdout.write(renderStatus(data, paletteFor(process.stdout)))
  return 0
}
