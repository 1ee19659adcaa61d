// How long `tenantfence scan` takes, end to end as a user runs it (a new process each time): on the
// demo API, and on a generated app of a few hundred files (route modules, helpers, 6 queries a
// module). `npx tsx src/scan/measure.ts [--files 300] [--runs 3]`; the figures go in the README.
// Not a test: timing depends on the machine and its load, so it is printed, never asserted.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)))

/** Write an app of `files` route modules into dir; every tenth module has one unscoped query. */
export function generateApp(dir: string, files: number): { queries: number; unscoped: number } {
  mkdirSync(join(dir, 'src', 'routes'), { recursive: true })
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir')
  const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, allowImportingTsExtensions: true, noEmit: true, skipLibCheck: true, types: ['node'] }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }, null, 2))
  writeFileSync(
    join(dir, 'src', 'context.ts'),
    `import { getTenantContext } from '${join(repo, 'src/enforcement/context.ts')}'
export type { PrismaClient } from '${join(repo, 'src/demo/generated/prisma/client.ts')}'
export function ctx(): { tenantId: number; userId: number | undefined } {
  const c = getTenantContext()
  if (c?.tenantId === undefined) throw new Error('no tenant context')
  return { tenantId: Number(c.tenantId), userId: c.userId === undefined ? undefined : Number(c.userId) }
}
`,
  )
  let unscoped = 0
  for (let i = 0; i < files; i++) {
    const broken = i % 10 === 0
    if (broken) unscoped++
    writeFileSync(
      join(dir, 'src', 'routes', `module${i}.ts`),
      `import type { Request, Response, Router } from 'express'
import { ctx, type PrismaClient } from '../context.ts'

export interface Page${i} { items: unknown[]; next: number | null }

function page${i}<T>(items: T[], take: number): Page${i} {
  return { items, next: items.length === take ? items.length : null }
}

function intParam${i}(req: Request, name: string): number {
  const v = Number(req.params[name])
  if (!Number.isSafeInteger(v) || v < 0) throw Object.assign(new Error('bad ' + name), { status: 400 })
  return v
}

export function register${i}(router: Router, db: () => PrismaClient): void {
  router.get('/api/m${i}/users', async (_req: Request, res: Response) => {
    const { tenantId } = ctx()
    res.json(page${i}(await db().user.findMany({ where: { tenantId, isActive: true }, select: { id: true, email: true }, take: 50 }), 50))
  })
  router.get('/api/m${i}/users/:id', async (req: Request, res: Response) => {
    const { tenantId } = ctx()
    res.json(await db().user.findFirst({ where: { id: intParam${i}(req, 'id'), tenantId } }))
  })
  router.get('/api/m${i}/roles', async (_req: Request, res: Response) => {
    const { tenantId } = ctx()
    res.json(await db().role.findMany({ where: ${broken ? '{ isActive: true }' : '{ tenantId, isActive: true }'}, orderBy: { id: 'asc' } }))
  })
  router.get('/api/m${i}/sessions', async (_req: Request, res: Response) => {
    const { tenantId, userId } = ctx()
    res.json(await db().refreshToken.findMany({ where: { userId, user: { tenantId } }, select: { id: true, expiresAt: true } }))
  })
  router.post('/api/m${i}/audit', async (req: Request, res: Response) => {
    const { tenantId, userId } = ctx()
    const action = String((req.body as { action?: unknown }).action ?? 'unknown').slice(0, 64)
    res.status(201).json(await db().auditLog.create({ data: { tenantId, userId, action }, select: { id: true } }))
  })
  router.get('/api/m${i}/alerts', async (_req: Request, res: Response) => {
    const { tenantId } = ctx()
    const since = new Date(Date.now() - 86_400_000)
    res.json(await db().securityAlert.count({ where: { tenantId, createdAt: { gte: since } } }))
  })
}
`,
    )
  }
  return { queries: files * 6, unscoped }
}

interface Timing {
  wallMs: number
  /** user + system CPU of the whole process: what the machine's load does not inflate */
  cpuMs: number
  scanMs: number
  queries: number
  findings: number
}

/** The CLI's main in a new process, which reports its own CPU time on stderr when done. */
function runScan(cwd: string, args: string[]): Timing {
  const argv = ['scan', ...args, '--format', 'json', '--config', join(repo, 'tenantfence.config.ts'), '--schema', join(repo, 'prisma/schema.prisma')]
  const script = `const { main } = await import(${JSON.stringify(pathToFileURL(join(repo, 'src/cli.ts')).href)})
const code = await main(${JSON.stringify(argv)})
const cpu = process.cpuUsage()
process.stderr.write('CPU ' + (cpu.user + cpu.system) / 1000 + '\\n')
process.exitCode = code`
  const t0 = performance.now()
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const wallMs = performance.now() - t0
  if (res.status !== 0 && res.status !== 1) throw new Error(`scan failed (${res.status}): ${res.stderr}`)
  const json = JSON.parse(res.stdout) as { durationMs: number; summary: { queries: number; unscoped: number; unverifiable: number } }
  const cpuMs = Number(res.stderr.match(/^CPU (\S+)$/m)?.[1])
  return { wallMs, cpuMs, scanMs: json.durationMs, queries: json.summary.queries, findings: json.summary.unscoped + json.summary.unverifiable }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { files: { type: 'string', default: '300' }, runs: { type: 'string', default: '3' } } })
  const files = Number(values.files)
  const runs = Number(values.runs)
  if (!(files > 0 && files <= 5000) || !(runs > 0 && runs <= 20)) throw new Error('--files from 1 to 5000, --runs from 1 to 20')
  const dir = mkdtempSync(join(tmpdir(), 'tenantfence-scan-measure-'))
  try {
    const app = generateApp(dir, files)
    const cases: [string, string, string[], number][] = [
      ['demo API (src/demo/app.ts)', repo, ['src/demo/app.ts'], 1],
      [`generated app (${files + 1} files, ${app.queries} queries)`, dir, ['src'], files + 1],
    ]
    console.log(`node ${process.version}, ${runs} runs each, load average before: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
    for (const [name, cwd, args] of cases) {
      const t = Array.from({ length: runs }, () => runScan(cwd, args))
      const seconds = (xs: number[]) => (median(xs) / 1000).toFixed(2)
      const found = `${t[0]!.queries} queries, ${t[0]!.findings} findings`
      const times = `${seconds(t.map((x) => x.wallMs))} s end to end (${seconds(t.map((x) => x.cpuMs))} s CPU), ${seconds(t.map((x) => x.scanMs))} s in the scan`
      console.log(`${name}: median ${times}; ${found}`)
    }
    console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
