// Violation lines carry the app's own call site: anonymous functions (Express arrow handlers)
// included, Node's, the dependencies' and tenantfence's own frames left out, paths relative.
import { readFileSync } from 'node:fs'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { FLAG_NAMES } from '../src/config/flags.ts'
import { createDemo, memoryLogger } from '../src/demo/harness.ts'
import { DEMO_USERS } from '../src/demo/fixture.ts'
import { signDemoToken } from '../src/demo/tokens.ts'
import { cleanStack } from '../src/telemetry/stack.ts'

const cwd = process.cwd()
const own = new URL('../src/', import.meta.url).pathname // tenantfence's own source folder

describe('cleanStack', () => {
  const stack = [
    'Error: call site',
    `    at new Promise (<anonymous>)`,
    `    at Object.findMany (${own}enforcement/extension.ts:120:9)`,
    `    at ${cwd}/node_modules/@prisma/client/runtime/client.js:1:2`,
    `    at <anonymous> (${cwd}/app/routes.ts:55:25)`,
    `    at /app/src/x.ts:1:2`,
    `    at file://${cwd}/app/jobs/cleanup.ts:9:3`,
    `    at listUsers (${cwd}/app/users.ts:12:7)`,
    `    at async Promise.all (index 0)`,
    `    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`,
    `    at Layer.handle (${cwd}/node_modules/express/lib/router/layer.js:95:5)`,
    `    at runMicrotasks (native)`,
    `    at ${own}demo/app.ts:80:11`,
  ].join('\n')

  it('keeps the app\'s frames, anonymous ones too, relative to the working directory', () => {
    expect(cleanStack(stack).split('\n')).toEqual([
      'at <anonymous> (app/routes.ts:55:25)',
      'at /app/src/x.ts:1:2',
      'at app/jobs/cleanup.ts:9:3',
      'at listUsers (app/users.ts:12:7)',
      `at ${own.replace(`${cwd}/`, '')}demo/app.ts:80:11`,
    ])
  })

  it('drops Node\'s, the dependencies\' and tenantfence\'s frames, and keeps at most maxFrames', () => {
    const kept = cleanStack(stack)
    for (const gone of ['node_modules', 'node:internal', 'new Promise', 'extension.ts', '(native)', 'Promise.all']) expect(kept).not.toContain(gone)
    expect(cleanStack(stack, 2).split('\n')).toHaveLength(2)
    expect(cleanStack(undefined)).toBe('')
  })
})

describe('a violation line through the demo app', () => {
  it('names the Express arrow handler\'s line (an anonymous function) in stackTrace', async () => {
    const saved = Object.fromEntries(FLAG_NAMES.map((f) => [f, process.env[f]]))
    for (const f of FLAG_NAMES) delete process.env[f]
    Object.assign(process.env, { TENANT_ENFORCEMENT_ENABLED: 'true', TENANT_ENFORCEMENT_MODE: 'log_only' })
    const logs = memoryLogger()
    const demo = await createDemo({ logger: logs.logger })
    try {
      const admin = DEMO_USERS.find((u) => u.tenantId === 1 && u.admin)!
      const res = await request(demo.app).get('/api/admin/users').set('Authorization', `Bearer ${await signDemoToken(admin)}`)
      expect(res.status).toBe(200)
      const line = logs.lines().find((l) => l.msg === 'TENANT_VIOLATION' && l.model === 'User')
      expect(line, JSON.stringify(logs.lines())).toBeDefined()
      // the unscoped query of GET /api/admin/users, inside `async (_req, res) => { ... }`
      const source = readFileSync('src/demo/app.ts', 'utf8').split('\n')
      const bug = source.findIndex((l) => l.includes('user.findMany({ where: { isActive: true }')) + 1
      const frames = String(line!.stackTrace).split('\n')
      expect(frames[0]).toMatch(new RegExp(`^at (<anonymous> \\()?src/demo/app\\.ts:${bug}:\\d+\\)?$`))
      expect(String(line!.stackTrace)).not.toContain(cwd)
    } finally {
      await demo.close()
      for (const f of FLAG_NAMES) {
        if (saved[f] === undefined) delete process.env[f]
        else process.env[f] = saved[f]
      }
    }
  })
})
