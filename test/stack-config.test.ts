// The compose stack, validated without a Docker engine: prometheus.yml (and every rule file it
// loads) through promtool, docker-compose.yml through docker-compose 1.29, the Grafana
// provisioning against its documented shape, and the wiring between them (paths, ports, uids,
// the scrape job the alerts select). A missing binary fails, naming the apt package to install.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import config from '../tenantfence.config.ts'
import { stringifyFlags } from '../src/config/define.ts'
import { localPrometheusConfig, readEnvFile } from '../src/demo/stack-local.ts'
import { LOKI_DS_UID, LOKI_DS_VARIABLE, PROMETHEUS_DS_UID, PROMETHEUS_DS_VARIABLE } from '../src/generate/datasources.ts'
import { runCli } from './helpers/cli.ts'
import { run as runProcess, testTimeoutFor } from './helpers/spawn.ts'
import { requireTool } from './helpers/tools.ts'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const read = (p: string) => readFileSync(join(REPO, p), 'utf8')
const yaml = <T>(p: string) => parseYaml(read(p)) as T

/** A missing binary fails naming the apt package that installs it (never a skip); a hung one fails as timed out. */
async function run(bin: string, aptPackage: string, args: string[]): Promise<{ status: number; output: string }> {
  requireTool(bin, aptPackage)
  const r = await runProcess(bin, args, { cwd: REPO })
  return { status: r.code, output: `${r.stdout}${r.stderr}` }
}

// ── shapes of the files read here ─────────────────────────────────────────────────────────────
interface ComposeService {
  image?: string
  build?: string | { context: string }
  command?: string | string[]
  environment?: Record<string, string>
  ports?: string[]
  volumes?: string[]
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string }
  depends_on?: string[] | Record<string, { condition: string }>
}
interface Compose {
  version?: string
  services: Record<string, ComposeService>
}
interface PromConfig {
  global: { scrape_interval: string; evaluation_interval: string }
  rule_files: string[]
  scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[]
}
interface DatasourceFile {
  apiVersion: number
  datasources: { name: string; type: string; uid: string; url: string; access: string; isDefault?: boolean; jsonData?: Record<string, unknown> }[]
}
interface DashboardProviderFile {
  apiVersion: number
  providers: { name: string; type: string; allowUiUpdates?: boolean; options: { path: string } }[]
}

const compose = yaml<Compose>('docker-compose.yml')
const prom = yaml<PromConfig>('prometheus/prometheus.yml')
const provisioningFiles = (dir: string) => readdirSync(join(REPO, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => `${dir}/${f}`)
const datasourceFiles = provisioningFiles('grafana/provisioning/datasources')
const dashboardProviderFiles = provisioningFiles('grafana/provisioning/dashboards')
const datasources = datasourceFiles.flatMap((f) => yaml<DatasourceFile>(f).datasources)
const ruleFiles = readdirSync(join(REPO, 'alerts')).filter((f) => f.endsWith('.rules.yml'))
const dashboardFiles = readdirSync(join(REPO, 'dashboards')).filter((f) => f.endsWith('.json'))

/** `./host:/container[:ro]` volumes of a service as { source, target }. */
function mounts(service: string): { source: string; target: string }[] {
  return (compose.services[service]?.volumes ?? []).map((v) => {
    const [source, target] = v.split(':')
    return { source: posix.normalize(source!), target: target! }
  })
}
/** The container path a repository directory is mounted at in a service. */
function mountOf(service: string, repoDir: string): string | undefined {
  return mounts(service).find((m) => m.source === posix.normalize(`./${repoDir}`))?.target
}
/** The value of a `--flag=value` argument of a service's command. */
function commandFlag(service: string, flag: string): string | undefined {
  const cmd = compose.services[service]?.command
  const args = Array.isArray(cmd) ? cmd : (cmd ?? '').split(/\s+/)
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1)
}

describe('stack: prometheus/prometheus.yml', () => {
  it('promtool check config passes and loads every generated rule file', { timeout: testTimeoutFor() }, async () => {
    const { status, output } = await run('promtool', 'prometheus', ['check', 'config', 'prometheus/prometheus.yml'])
    expect(status, output).toBe(0)
    expect(output).toContain(`SUCCESS: ${ruleFiles.length} rule files found`)
    for (const f of ruleFiles) expect(output).toContain(`Checking alerts/${f}`)
    expect(ruleFiles.length).toBe(config.phases.length + 1) // and the silence alerts
  })

  it('names the scrape job config.app.job, the job every generated alert selects', () => {
    const job = prom.scrape_configs.find((j) => j.job_name === config.app.job)
    expect(job, `no scrape job named ${config.app.job}`).toBeDefined()
    for (const f of ruleFiles) expect(read(`alerts/${f}`)).toContain(`job="${config.app.job}"`)
    expect(job!.metrics_path ?? '/metrics').toBe('/metrics')
  })

  it('scrapes the demo service on the port the demo listens on', () => {
    const job = prom.scrape_configs.find((j) => j.job_name === config.app.job)!
    const targets = job.static_configs.flatMap((s) => s.targets)
    expect(targets).toEqual([`demo:${compose.services.demo!.environment!.PORT}`])
  })

  it('scrapes and evaluates every 1-5 s so the dashboards fill within a minute', () => {
    for (const v of [prom.global.scrape_interval, prom.global.evaluation_interval]) {
      const s = Number(/^(\d+)s$/.exec(v)?.[1])
      expect(s).toBeGreaterThanOrEqual(1)
      expect(s).toBeLessThanOrEqual(5)
    }
    // Grafana's $__rate_interval is computed from the datasource's timeInterval: keep them equal
    const ds = datasources.find((d) => d.type === 'prometheus')!
    expect(ds.jsonData?.timeInterval).toBe(prom.global.scrape_interval)
  })

  it('loads the rule files by a path relative to itself that resolves to the alerts mount in compose', () => {
    const configPath = commandFlag('prometheus', '--config.file')
    expect(configPath).toBeDefined()
    const configMount = mountOf('prometheus', 'prometheus')
    const alertsMount = mountOf('prometheus', 'alerts')
    expect(configMount && alertsMount).toBeTruthy()
    expect(posix.dirname(configPath!)).toBe(configMount)
    expect(prom.rule_files.length).toBeGreaterThan(0)
    for (const glob of prom.rule_files) {
      expect(posix.isAbsolute(glob), `${glob} must be relative (the same file validates here and works in compose)`).toBe(false)
      // in the container
      expect(posix.dirname(posix.resolve(posix.dirname(configPath!), glob))).toBe(alertsMount)
      // in the repository
      expect(resolve(REPO, 'prometheus', posix.dirname(glob))).toBe(join(REPO, 'alerts'))
    }
  })
})

describe('stack: docker-compose.yml', () => {
  it('docker-compose (1.29) config -q accepts it', { timeout: testTimeoutFor() }, async () => {
    const { status, output } = await run('docker-compose', 'docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'])
    expect(status, output).toBe(0)
  })

  it('has the services of the stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['demo', 'grafana', 'loki', 'postgres', 'prometheus', 'traffic'])
  })

  it('pins every image to a version (no latest, no bare name)', () => {
    const images = Object.fromEntries(Object.entries(compose.services).map(([name, s]) => [name, s.image]))
    expect(images.prometheus).toMatch(/^prom\/prometheus:v2\.\d+\.\d+$/)
    expect(images.loki).toMatch(/^grafana\/loki:3\.\d+\.\d+$/)
    expect(images.grafana).toMatch(/^grafana\/grafana:12\.\d+\.\d+$/)
    // a Node LTS that is still supported (20 reached its end in April 2026)
    expect(read('Dockerfile')).toMatch(/^FROM node:(22|24)-bookworm-slim$/m)
  })

  it('binds every published port to 127.0.0.1', () => {
    const ports = Object.values(compose.services).flatMap((s) => s.ports ?? [])
    expect(ports.length).toBeGreaterThanOrEqual(4)
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/)
    const published = (svc: string) => compose.services[svc]!.ports!.map((p) => p.split(':')[1])
    expect(published('grafana')).toEqual(['3000'])
    expect(published('prometheus')).toEqual(['9090'])
    expect(published('loki')).toEqual(['3100'])
    expect(published('demo')).toEqual([compose.services.demo!.environment!.PORT])
  })

  it('has healthchecks on the services whose images can run one, and waits on them', () => {
    for (const svc of ['demo', 'prometheus', 'grafana']) {
      const hc = compose.services[svc]!.healthcheck
      expect(hc, svc).toBeDefined()
      expect(hc!.test[0]).toBe('CMD')
    }
    expect(compose.services.traffic!.depends_on).toEqual({ demo: { condition: 'service_healthy' } })
    expect((compose.services.grafana!.depends_on as Record<string, { condition: string }>).prometheus).toEqual({ condition: 'service_healthy' })
  })

  it('runs the demo API from src/demo/serve.ts with LOKI_URL pointing at the loki service', () => {
    const demo = compose.services.demo!
    expect(demo.environment!.LOKI_URL).toBe('http://loki:3100')
    expect(demo.environment!.HOST).toBe('0.0.0.0')
    expect(read('Dockerfile')).toContain('CMD ["node", "--import", "tsx", "src/demo/serve.ts"]')
    expect(existsSync(join(REPO, 'src/demo/serve.ts'))).toBe(true)
    // the mode defaults to phase 1 (log only) and can be overridden from the shell or .env
    expect(demo.environment!.TENANT_ENFORCEMENT_MODE).toBe('${TENANT_ENFORCEMENT_MODE:-log_only}')
  })

  it('builds the demo image once: the traffic service runs it, never builds or pulls it', () => {
    const { demo, traffic } = compose.services
    expect(demo!.build).toBe('.')
    expect(demo!.image).toBe('tenantfence-demo:local')
    expect(traffic!.build).toBeUndefined()
    expect(traffic!.image).toBe(demo!.image)
    expect((traffic as { pull_policy?: string }).pull_policy).toBe('never')
  })

  it('the header\'s commands work in a checkout: phase env writes a .env compose reads', { timeout: testTimeoutFor() }, async () => {
    const header = read('docker-compose.yml').split('\nservices:')[0]!
    const commands = header.split('\n').filter((l) => /^#\s{3,}\S/.test(l)).map((l) => l.replace(/^#\s+/, ''))
    expect(commands).toEqual(['docker compose up --build          (or docker-compose up --build)', 'npm run -s tenantfence -- phase env 2 > .env && docker compose up -d demo'])
    expect(header).not.toContain('npx tenantfence') // the package's bin is not built in a checkout
    expect(JSON.parse(read('package.json')).scripts.tenantfence).toBeDefined()
    // what `npm run -s tenantfence -- phase env 2` prints, as compose reads it from .env
    const env = await run(join(REPO, 'node_modules/.bin/tsx'), 'tsx (npm ci)', ['src/cli.ts', 'phase', 'env', '2'])
    expect(env.status, env.output).toBe(0)
    const dir = mkdtempSync(join(tmpdir(), 'tf-compose-env-'))
    try {
      writeFileSync(join(dir, '.env'), env.output)
      const cfg = await run('docker-compose', 'docker-compose', ['-f', 'docker-compose.yml', '--env-file', join(dir, '.env'), 'config'])
      expect(cfg.status, cfg.output).toBe(0)
      const demoEnv = (parseYaml(cfg.output) as Compose).services.demo!.environment!
      const phase2 = config.phases[2]!.flags
      expect(demoEnv.TENANT_ENFORCEMENT_MODE).toBe('selective')
      expect(demoEnv.TENANT_ENFORCEMENT_ENFORCE_MODELS).toBe(String(phase2.TENANT_ENFORCEMENT_ENFORCE_MODELS))
      expect(demoEnv.TENANT_ENFORCEMENT_LOG_MODELS).toBe(String(phase2.TENANT_ENFORCEMENT_LOG_MODELS))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('runs a traffic driver that exists, against the demo service', () => {
    const cmd = compose.services.traffic!.command as string[]
    const script = cmd.find((a) => a.endsWith('.ts'))
    expect(script).toBeDefined()
    expect(existsSync(join(REPO, script!)), `${script} does not exist`).toBe(true)
    expect(cmd[cmd.indexOf('--url') + 1]).toBe(`http://demo:${compose.services.demo!.environment!.PORT}`)
  })
})

describe('stack: Grafana provisioning', () => {
  it('has one datasource file and one dashboard provider file', () => {
    expect(datasourceFiles).toEqual(['grafana/provisioning/datasources/tenantfence.yml'])
    expect(dashboardProviderFiles).toEqual(['grafana/provisioning/dashboards/tenantfence.yml'])
  })

  it('provisions the Prometheus and Loki datasources with the uids the dashboards use', () => {
    for (const f of datasourceFiles) expect(yaml<DatasourceFile>(f).apiVersion).toBe(1)
    const byType = (type: string) => datasources.filter((d) => d.type === type)
    expect(byType('prometheus')).toHaveLength(1)
    expect(byType('loki')).toHaveLength(1)
    const [p] = byType('prometheus')
    const [l] = byType('loki')
    expect(p).toMatchObject({ uid: PROMETHEUS_DS_UID, access: 'proxy', url: 'http://prometheus:9090', isDefault: true })
    expect(l).toMatchObject({ uid: LOKI_DS_UID, access: 'proxy', url: 'http://loki:3100' })
    for (const d of datasources) expect(d.name).toBeTruthy()
  })

  it('points the datasources at compose services on their container ports', () => {
    for (const d of datasources) {
      const u = new URL(d.url)
      const svc = compose.services[u.hostname]
      expect(svc, `${d.url}: no compose service ${u.hostname}`).toBeDefined()
      expect(svc!.ports!.map((p) => p.split(':')[2])).toContain(u.port)
    }
  })

  it('provisions the dashboards from the path compose mounts dashboards/ at', () => {
    const providers = dashboardProviderFiles.flatMap((f) => {
      const file = yaml<DashboardProviderFile>(f)
      expect(file.apiVersion).toBe(1)
      return file.providers
    })
    expect(providers).toHaveLength(1)
    const [p] = providers
    expect(p).toMatchObject({ type: 'file', allowUiUpdates: false })
    expect(p!.name).toBeTruthy()
    expect(p!.options.path).toBe(mountOf('grafana', 'dashboards'))
    expect(mountOf('grafana', 'grafana/provisioning')).toBe('/etc/grafana/provisioning')
    const home = compose.services.grafana!.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!
    expect(posix.dirname(home)).toBe(p!.options.path)
    expect(dashboardFiles).toContain(posix.basename(home))
  })
})

describe('stack: the dashboards use the provisioned datasources', () => {
  const provisioned = new Map(datasources.map((d) => [d.uid, d.type]))
  const variableOf: Record<string, { name: string; uid: string }> = {
    prometheus: { name: PROMETHEUS_DS_VARIABLE, uid: PROMETHEUS_DS_UID },
    loki: { name: LOKI_DS_VARIABLE, uid: LOKI_DS_UID },
  }

  it.each(dashboardFiles)('%s: datasource variables default to provisioned uids of their type', (file) => {
    const d = JSON.parse(read(`dashboards/${file}`)) as { templating: { list: { type: string; name: string; query: string; current?: { value?: string } }[] } }
    const vars = d.templating.list.filter((v) => v.type === 'datasource')
    expect(vars.length).toBeGreaterThan(0)
    for (const v of vars) {
      expect(provisioned.get(v.current!.value!), `${file}: variable ${v.name} defaults to uid ${v.current?.value}, which is not provisioned`).toBe(v.query)
      expect(v.name).toBe(variableOf[v.query]!.name)
    }
  })

  it.each(dashboardFiles)('%s: every panel and query picks its datasource through a variable of a provisioned type', (file) => {
    const d = JSON.parse(read(`dashboards/${file}`)) as { panels: unknown[] }
    const refs: { type?: string; uid?: string }[] = []
    const walk = (o: unknown) => {
      if (Array.isArray(o)) return o.forEach(walk)
      if (!o || typeof o !== 'object') return
      const rec = o as Record<string, unknown>
      if (rec.datasource && typeof rec.datasource === 'object') refs.push(rec.datasource as { type?: string; uid?: string })
      Object.values(rec).forEach(walk)
    }
    walk(d.panels)
    expect(refs.length).toBeGreaterThan(0)
    for (const r of refs) {
      expect([...provisioned.values()]).toContain(r.type)
      expect(r.uid).toBe(`\${${variableOf[r.type!]!.name}}`)
    }
  })
})

describe('stack: npm run stack:local (no Docker)', () => {
  it('its Prometheus config passes promtool, scrapes config.app.job where the demo serves metrics and loads every rule file', { timeout: testTimeoutFor() }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-stack-local-'))
    try {
      const file = join(dir, 'prometheus.yml')
      writeFileSync(file, localPrometheusConfig(new URL('http://127.0.0.1:3001/metrics'), join(REPO, 'alerts', '*.rules.yml')))
      const { status, output } = await run('promtool', 'prometheus', ['check', 'config', file])
      expect(status, output).toBe(0)
      expect(output).toContain(`SUCCESS: ${ruleFiles.length} rule files found`)
      const local = parseYaml(readFileSync(file, 'utf8')) as PromConfig
      expect(local.scrape_configs).toEqual([{ job_name: config.app.job, metrics_path: '/metrics', static_configs: [{ targets: ['127.0.0.1:3001'] }] }])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reads a .env as compose does: what `phase env 2` and `phase rollback` print', async () => {
    const env = await runCli(['phase', 'env', '2'])
    expect(readEnvFile(env.stdout)).toEqual(stringifyFlags(config.phases[2]!.flags))
    const rollback = await runCli(['phase', 'rollback'])
    expect(readEnvFile(rollback.stdout)).toEqual({ TENANT_ENFORCEMENT_MODE: 'log_only' })
    expect(readEnvFile("# c\nexport A='1'\n  B = \"x y\"\n#C=3\n")).toEqual({ A: '1', B: 'x y' })
  })

  it('is an npm script, and the README gives it', () => {
    expect(JSON.parse(read('package.json')).scripts['stack:local']).toBe('tsx src/demo/stack-local.ts')
    expect(read('README.md')).toContain('npm run stack:local')
  })
})
