import { openBenchDatabase } from './db.ts'
import { runWithTenant, tenantStorage } from '../src/enforcement/context.ts'
import { tenantEnforcement } from '../src/enforcement/extension.ts'
import { FLAG_NAMES } from '../src/config/flags.ts'
import { config, FLAGS, nullLogger, setEnvFlags } from './setup.ts'
import { percentile, Samples, spread } from './stats.ts'
const db = await openBenchDatabase('memory')
const base = db.prisma
const env = process.env
let sink = 0
const clients: Record<string, any> = {
  hook: base.$extends({ query: { $allOperations: ({ args, query }) => query(args) } }),
  hookEnv: base.$extends({ query: { $allOperations: ({ args, query }) => { for (let k = 0; k < 8; k++) sink += env[FLAG_NAMES[k]!]?.length ?? 0; return query(args) } } }),
  hookEnvUnrolled: base.$extends({ query: { $allOperations: ({ args, query }) => { sink += (env.TENANT_ENFORCEMENT_ENABLED?.length ?? 0) + (env.TENANT_ENFORCEMENT_MODE?.length ?? 0) + (env.TENANT_ENFORCEMENT_MODELS?.length ?? 0) + (env.TENANT_ENFORCEMENT_ENFORCE_MODELS?.length ?? 0) + (env.TENANT_ENFORCEMENT_LOG_MODELS?.length ?? 0) + (env.TENANT_ENFORCEMENT_ALLOW_BYPASS?.length ?? 0) + (env.TENANT_ENFORCEMENT_BYPASS_REQUIRES_REASON?.length ?? 0) + (env.TENANT_ENFORCEMENT_LOG_SAMPLE_RATE?.length ?? 0); return query(args) } } }),
  hookAls: base.$extends({ query: { $allOperations: ({ args, query }) => { if (tenantStorage.getStore()) sink++; const t = performance.now(); sink += performance.now() - t; return query(args) } } }),
  tfEnforce: base.$extends(tenantEnforcement({ config, logger: nullLogger().logger, audit: false })),
}
setEnvFlags(FLAGS.enforce)
const names = Object.keys(clients)
const p50: number[][] = names.map(() => [])
const rounds = Number(process.argv[2] ?? 100), q = 200
await runWithTenant({ tenantId: 1, endpoint: '/x' }, async () => {
  for (let r = 0; r < rounds; r++) for (let k = 0; k < names.length; k++) {
    const idx = (k + r) % names.length; const c = clients[names[idx]!]
    for (let i = 0; i < 20; i++) await c.user.findMany({ where: { tenantId: 1 } })
    const s = new Samples(q)
    for (let i = 0; i < q; i++) { const t = performance.now(); await c.user.findMany({ where: { tenantId: 1 } }); s.push(performance.now() - t) }
    p50[idx]!.push(percentile(s.sorted(), 50))
  }
})
for (let i = 0; i < names.length; i++) {
  const r = spread(p50[i]!.map((v, k) => v / p50[0]![k]!))
  console.log(names[i]!.padEnd(16), 'p50 µs', (spread(p50[i]!).median * 1000).toFixed(1), 'vs hook', ((r.median - 1) * 100).toFixed(2) + '%', `[${((r.q1 - 1) * 100).toFixed(1)} .. ${((r.q3 - 1) * 100).toFixed(1)}]`)
}
await db.close()
