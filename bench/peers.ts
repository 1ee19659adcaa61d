// `npm run bench:peers [-- --quick] [--json FILE]`: tenantfence beside the tools a team might pick
// instead, on the same queries: prisma-tenant-extension (adds the tenant filter in model-method
// overrides) and prisma-rls (rewrites model queries in a query extension from per-model permission
// filters). They are installed in bench/peers (its own package.json and node_modules, never the
// package's dependencies) by the npm script. SQLite in memory, Prisma 7, one process, interleaved
// rounds in a rotated order; per round and shape, each client's median time per query over the
// plain client's (medians: the shapes' times differ by 20x, no one trim fits them all); the median of those ratios over the rounds (quartiles).
// Beside it, the same ratio of CPU time per query (process.cpuUsage over the batch), which a wait for
// a core on a shared machine does not inflate.
//
// Every client gets the same arguments, already scoped to the tenant (tenantfence's enforce mode
// checks them and lets them through; the peers add their filter on top), so the SQL differs only by
// what a peer adds.
//
// ZenStack's enhance() (2.x, the version built on Prisma) needs its own generation step: a
// `schema.zmodel` (a Prisma schema with access policies) from which its CLI writes a Prisma schema,
// runs `prisma generate` and writes the enhancer's policy and model metadata. That runs offline here
// (the CLI's --offline, Prisma's schema engine stubbed as for the demo's client); `zenstackEnhancer`
// does it once into bench/peers/node_modules/.zenstack-bench, from prisma/schema.prisma and the
// policies below, and again whenever the derived zmodel changes.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'
import vm from 'node:vm'
import { runWithTenant } from '../src/enforcement/context.ts'
import { dataModelOfClient } from '../src/enforcement/datamodel.ts'
import { tenantEnforcement } from '../src/enforcement/extension.ts'
import { openPrisma } from './hook-profile.ts'
import { config, FLAGS, nullLogger, setEnvFlags } from './setup.ts'
import { fmt, pct, percentile, Samples, spread, table } from './stats.ts'

const peers = join(dirname(fileURLToPath(import.meta.url)), 'peers/node_modules')
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

// ZenStack's policies for the demo schema: the same tenant scope the other peers get, written in
// its policy language (`auth()` is the user handed to enhance(), here { id, tenantId }).
const ZENSTACK_POLICIES: Record<string, string> = {
  Tenant: 'id == auth().tenantId',
  User: 'tenantId == auth().tenantId',
  Role: 'tenantId == auth().tenantId',
  AuditLog: 'tenantId == auth().tenantId',
  SecurityAlert: 'tenantId == auth().tenantId',
  RefreshToken: 'user.tenantId == auth().tenantId',
  PasswordResetToken: 'user.tenantId == auth().tenantId',
  MfaBackupCode: 'user.tenantId == auth().tenantId',
  UserRole: 'user.tenantId == auth().tenantId',
  RolePermission: 'role.tenantId == auth().tenantId',
  Permission: 'true',
}

/** prisma/schema.prisma with one `@@allow('all', …)` per model and the client's output beside it. */
function zmodel(): string {
  const schema = readFileSync(join(root, 'prisma/schema.prisma'), 'utf8').replace(/(output\s*=\s*)"[^"]*"/, '$1"./prisma"')
  return schema.replace(/model (\w+) \{[^}]*\}/g, (block, name: string) => {
    const rule = ZENSTACK_POLICIES[name]
    if (rule === undefined) throw new Error(`bench:peers: no ZenStack policy for model ${name}: add it to ZENSTACK_POLICIES`)
    return `${block.slice(0, -1)}\n  @@allow('all', ${rule})\n}`
  })
}

/** ZenStack's generated enhance(), generated first if the zmodel changed (about 30 s, offline). */
async function zenstackEnhancer(): Promise<(client: unknown, context: { user: { id: number; tenantId: number } }, options: { prismaModule: unknown }) => unknown> {
  const dir = join(peers, '.zenstack-bench')
  const text = zmodel()
  const file = join(dir, 'schema.zmodel')
  const enhancer = join(dir, 'zen/enhance.ts')
  if (!existsSync(enhancer) || !existsSync(file) || readFileSync(file, 'utf8') !== text) {
    mkdirSync(dir, { recursive: true })
    writeFileSync(file, text)
    const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: existsSync('/bin/true') ? '/bin/true' : process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1', DO_NOT_TRACK: '1' }
    // run from bench/peers, where its `npx prisma generate` finds the Prisma CLI installed beside it
    const cli = join(peers, 'zenstack/bin/cli')
    const r = spawnSync(process.execPath, [cli, 'generate', '--schema', file, '--output', join(dir, 'zen'), '--offline', '--no-version-check'], { cwd: dirname(peers), env, encoding: 'utf8' })
    if (r.status !== 0 || !existsSync(enhancer)) throw new Error(`bench:peers: zenstack generate failed (${r.status}): ${(r.stdout + r.stderr).slice(-2000)}`)
  }
  return ((await import(enhancer)) as { enhance: Awaited<ReturnType<typeof zenstackEnhancer>> }).enhance
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Client = any
interface Shape {
  id: string
  label: string
  run(c: Client, i: number): PromiseLike<unknown>
}
const SHAPES: Shape[] = [
  { id: 'list', label: 'list: user.findMany, 10 rows', run: (c) => c.user.findMany({ where: { tenantId: 1 } }) },
  { id: 'include', label: 'include two levels: users → userRoles → role', run: (c) => c.user.findMany({ where: { tenantId: 1 }, include: { userRoles: { include: { role: true } } } }) },
  { id: 'update', label: 'update: user.update by id and tenant', run: (c) => c.user.update({ where: { id: 1, tenantId: 1 }, data: { isActive: true } }) },
  // the nested row points at a global model, so the rows it adds never show in the include shape's result
  { id: 'nested_create', label: 'nested create: role with a rolePermission', run: (c, i) => c.role.create({ data: { tenantId: 1, name: `r${i}`, rolePermissions: { create: { permissionId: 1 } } } }) },
]

interface Contender {
  id: string
  label: string
  client: Client
  /** enters the contender's own request context around a batch */
  within<T>(fn: () => Promise<T>): Promise<T>
}

function gcFunction(): () => void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g) return g
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}

/** prisma-rls wants Prisma's DMMF (Prisma 7 no longer ships it in the client): rebuilt from tenantfence's data model. */
function dmmfOf(client: Client) {
  const dm = dataModelOfClient(client)!
  return {
    datamodel: {
      models: Object.entries(dm.models).map(([name, m]) => ({
        name,
        primaryKey: null,
        uniqueFields: (m.uniques ?? []).filter((u) => u.fields.length > 1).map((u) => [...u.fields]),
        fields: m.fields.map((f) => ({ ...f, isId: m.primaryKey?.length === 1 && m.primaryKey[0] === f.name, isUnique: (m.uniques ?? []).some((u) => u.fields.length === 1 && u.fields[0] === f.name) })),
      })),
    },
  }
}

async function main() {
  const argv = process.argv.slice(2)
  const quick = argv.includes('--quick')
  const json = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : undefined
  const { rounds, queries, warmup } = quick ? { rounds: 3, queries: 30, warmup: 10 } : { rounds: 20, queries: 60, warmup: 10 }
  if (!existsSync(join(peers, 'prisma-rls'))) throw new Error('bench:peers: bench/peers/node_modules is missing: run `npm run bench:peers` (it installs them)')
  setEnvFlags(FLAGS.enforce)
  let statements = 0
  const plain: Client = (await openPrisma('7', () => statements++)).client
  await plain.role.createMany({ data: Array.from({ length: 10 }, (_, i) => ({ id: i + 1, tenantId: i + 1, name: 'member' })) })
  await plain.userRole.createMany({ data: Array.from({ length: 100 }, (_, i) => ({ userId: i + 1, roleId: (i % 10) + 1 })) })

  const { createTenantContext, createTenantExtension } = await import(join(peers, 'prisma-tenant-extension/dist/index.js'))
  const { createRlsExtension } = await import(join(peers, 'prisma-rls/dist/index.js'))
  const enhance = await zenstackEnhancer()
  const { Prisma } = (await import(join(root, 'src/demo/generated/prisma/client.ts'))) as { Prisma: unknown }
  const tenantContext = createTenantContext()
  const ownTenant = { tenantId: { equals: 1 } }
  const viaUser = { user: { tenantId: { equals: 1 } } }
  const viaRole = { role: { tenantId: { equals: 1 } } }
  const all = (filter: object) => ({ read: filter, create: true, update: filter, delete: filter })
  const permissions = {
    Tenant: all({ id: { equals: 1 } }), User: all(ownTenant), Role: all(ownTenant), AuditLog: all(ownTenant), SecurityAlert: all(ownTenant),
    RefreshToken: all(viaUser), PasswordResetToken: all(viaUser), MfaBackupCode: all(viaUser), UserRole: all(viaUser), RolePermission: all(viaRole),
    Permission: { read: true, create: true, update: true, delete: true },
  }
  const log = nullLogger()
  const direct = <T>(fn: () => Promise<T>) => fn()
  const contenders: Contender[] = [
    { id: 'plain', label: 'plain client', client: plain, within: direct },
    { id: 'tenantfence', label: 'tenantfence enforce (request path)', client: plain.$extends(tenantEnforcement({ config, logger: log.logger, audit: false })), within: direct },
    { id: 'tenantfence_ext', label: 'tenantfence enforce (query extension)', client: plain.$extends(tenantEnforcement({ config, logger: log.logger, audit: false, hook: 'query-extension' })), within: direct },
    { id: 'pte', label: 'prisma-tenant-extension 0.1.5', client: plain.$extends(createTenantExtension({ context: tenantContext, tenantField: 'tenantId' })), within: (fn) => tenantContext.run({ tenantId: 1 }, fn) },
    { id: 'prisma_rls', label: 'prisma-rls 1.0.1', client: plain.$extends(createRlsExtension({ dmmf: dmmfOf(plain), permissionsConfig: permissions, context: {} })), within: direct },
    // enhanced once for the request's user (an app calls enhance() per request: its cost is not counted here)
    { id: 'zenstack', label: 'ZenStack 2.22.3 enhance()', client: enhance(plain, { user: { id: 1, tenantId: 1 } }, { prismaModule: Prisma }), within: direct },
  ]
  const ctx = { tenantId: 1, userId: 1, endpoint: '/bench', method: 'GET' }
  let n = 0
  for (const c of contenders) for (const s of SHAPES) await runWithTenant(ctx, () => c.within(() => Promise.resolve(s.run(c.client, n++))))
  // SQL statements per query (a transaction's BEGIN counted, its COMMIT not), once each
  const perQuery = new Map<string, number>()
  for (const c of contenders) {
    for (const s of SHAPES) {
      statements = 0
      await runWithTenant(ctx, () => c.within(() => Promise.resolve(s.run(c.client, n++))))
      perQuery.set(`${c.id}/${s.id}`, statements)
    }
  }

  const gc = gcFunction()
  const key = (c: Contender, s: Shape) => `${c.id}/${s.id}`
  const ratios = new Map<string, number[]>()
  const cpuRatios = new Map<string, number[]>()
  const lat = new Map<string, Samples>()
  const loadStart = loadavg()[0]!
  for (let r = 0; r < rounds; r++) {
    const mean = new Map<string, number>()
    const cpu = new Map<string, number>()
    for (const s of SHAPES) {
      for (let k = 0; k < contenders.length; k++) {
        const c = contenders[(k + r) % contenders.length]!
        gc()
        const round = new Samples(queries)
        const samples = lat.get(key(c, s)) ?? lat.set(key(c, s), new Samples(rounds * queries)).get(key(c, s))!
        let used = { user: 0, system: 0 }
        await runWithTenant(ctx, () => c.within(async () => {
          for (let i = 0; i < warmup; i++) await s.run(c.client, n++)
          const cpu0 = process.cpuUsage()
          for (let i = 0; i < queries; i++) {
            const t0 = performance.now()
            await s.run(c.client, n++)
            const dt = performance.now() - t0
            samples.push(dt)
            round.push(dt)
          }
          used = process.cpuUsage(cpu0)
        }))
        mean.set(key(c, s), percentile(round.sorted(), 50))
        // The roles the nested create added go (untimed): left there, tenant 1's roles grow by
        // thousands over a run, and a join filter on them (ZenStack's include) slows with them.
        if (s.id === 'nested_create') await plain.role.deleteMany({ where: { id: { gt: 10 } } })
        cpu.set(key(c, s), (used.user + used.system) / queries)
      }
      for (const c of contenders) {
        ;(ratios.get(key(c, s)) ?? ratios.set(key(c, s), []).get(key(c, s))!).push(mean.get(key(c, s))! / mean.get(key(contenders[0]!, s))!)
        ;(cpuRatios.get(key(c, s)) ?? cpuRatios.set(key(c, s), []).get(key(c, s))!).push(cpu.get(key(c, s))! / cpu.get(key(contenders[0]!, s))!)
      }
    }
  }
  const loadEnd = loadavg()[0]!
  const results = SHAPES.map((s) => ({
    shape: s.id,
    label: s.label,
    contenders: contenders.map((c) => {
      const sorted = lat.get(key(c, s))!.sorted()
      return { id: c.id, label: c.label, p50Us: sorted[Math.floor(sorted.length / 2)]! * 1000, vsPlain: spread(ratios.get(key(c, s))!), cpuVsPlain: spread(cpuRatios.get(key(c, s))!) }
    }),
  }))
  console.log(`Prisma 7 + SQLite in memory, ${rounds} interleaved rounds x ${queries} queries per shape and client, load average ${loadStart.toFixed(2)} at the start, ${loadEnd.toFixed(2)} at the end`)
  console.log(table(['shape', ...contenders.slice(1).map((c) => c.label)], results.map((r) => [r.label, ...r.contenders.slice(1).map((c) => `${pct(c.vsPlain.median)} (${pct(c.vsPlain.q1)} … ${pct(c.vsPlain.q3)})`)])))
  console.log('SQL statements per query (BEGIN counted, COMMIT not)')
  console.log(table(['shape', ...contenders.map((c) => c.label)], SHAPES.map((s) => [s.label, ...contenders.map((c) => String(perQuery.get(`${c.id}/${s.id}`)))])))
  console.log('CPU time per query vs plain (median of per-round ratios, quartiles)')
  console.log(table(['shape', ...contenders.slice(1).map((c) => c.label)], results.map((r) => [r.label, ...r.contenders.slice(1).map((c) => `${pct(c.cpuVsPlain.median)} (${pct(c.cpuVsPlain.q1)} … ${pct(c.cpuVsPlain.q3)})`)])))
  console.log(table(['shape: p50 µs', ...contenders.map((c) => c.label)], results.map((r) => [r.shape, ...r.contenders.map((c) => fmt(c.p50Us))])))
  if (json) writeFileSync(json, JSON.stringify({ node: process.version, loadStart, loadEnd, rounds, queries, statements: Object.fromEntries(perQuery), results }, null, 2))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
