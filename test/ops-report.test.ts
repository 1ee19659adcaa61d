import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { ReportAggregator } from '../src/ops/report/aggregate.ts'
import { buildReport } from '../src/ops/report/build.ts'
import { renderReport } from '../src/ops/report/render.ts'
import { dailyReport } from '../src/ops/report-cli.ts'
import { runCli } from './fixtures/ops/run-cli.ts'

const FIXTURE = 'test/fixtures/ops/violations.jsonl'

describe('daily report from a log file', () => {
  it('counts totals, severities, endpoints and the trend of the latest day', async () => {
    const r = await dailyReport({ logs: FIXTURE })
    expect(r.date).toBe('2025-03-10')
    expect(r.previousDate).toBe('2025-03-09')
    expect({ total: r.total, logged: r.logged, blocked: r.blocked, previousTotal: r.previousTotal, change: r.change }).toEqual({
      total: 15,
      logged: 13,
      blocked: 2,
      previousTotal: 10,
      change: 5,
    })
    expect(r.changeRatio).toBeCloseTo(0.5)
    expect(r.bySeverity).toEqual([
      { severity: 'CRITICAL', count: 7, previous: 6, models: [{ model: 'User', count: 5 }, { model: 'RefreshToken', count: 2 }] },
      { severity: 'HIGH', count: 5, previous: 4, models: [{ model: 'Role', count: 4 }, { model: 'SecurityAlert', count: 1 }] },
      { severity: 'MEDIUM', count: 3, previous: 0, models: [{ model: 'RolePermission', count: 3 }] },
    ])
    expect(r.topEndpoints.map((e) => `${e.method} ${e.endpoint} ${e.count}`)).toEqual([
      'GET /api/admin/users 5',
      'GET /api/roles 4',
      'GET /api/roles/:id/permissions 3',
      'POST /api/auth/logout 2',
      'GET /api/alerts/:id 1',
    ])
    expect(r.input).toMatchObject({ lines: 34, violations: 25, malformed: 2, malformedExamples: [16, 27], ignored: 2, outsideRange: 4 })
  })

  it('ranks recommended actions by severity, then count', async () => {
    const r = await dailyReport({ logs: FIXTURE })
    expect(r.actions.map((a) => a.text)).toEqual([
      'Scope User.findMany at GET /api/admin/users (missing_tenant_id, 5 times)',
      'Scope RefreshToken.deleteMany at POST /api/auth/logout (missing_relation_filter, 2 times)',
      'Scope Role.findMany at GET /api/roles (missing_tenant_id, 4 times)',
      'Fix the tenant passed to SecurityAlert.findFirst at GET /api/alerts/:id (tenant_mismatch, 1 time)',
      'Scope RolePermission.findMany at GET /api/roles/:id/permissions (missing_relation_filter, 3 times)',
    ])
  })

  it('reports an earlier --date against its own day before', async () => {
    const r = await dailyReport({ logs: FIXTURE, date: '2025-03-09' })
    expect([r.total, r.previousTotal, r.change]).toEqual([10, 4, 6])
    expect(r.input.outsideRange).toBe(15)
  })

  it('renders text, markdown and json', async () => {
    const r = await dailyReport({ logs: FIXTURE })
    r.source = 'violations.jsonl'
    expect(renderReport(r, 'text')).toMatchSnapshot()
    expect(renderReport(r, 'markdown')).toMatchSnapshot()
    expect(JSON.parse(renderReport(r, 'json')).total).toBe(15)
  })

  it('runs through the CLI, reporting malformed lines on stderr without failing', async () => {
    const res = await runCli(['report', '--logs', FIXTURE, '--format', 'markdown'])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('# Daily tenant violation report: 2025-03-10 (UTC)')
    expect(res.stdout).toContain('2 malformed lines skipped (first at line 16, 27)')
    expect(res.stderr).toContain('2 malformed line(s) skipped')
  })
})

const line = (day: string, model: string, endpoint = '/api/x', severity = 'HIGH') =>
  JSON.stringify({ msg: 'TENANT_VIOLATION', timestamp: `${day}T10:00:00Z`, severity, model, action: 'findMany', violation: 'missing_tenant_id', decision: 'logged', endpoint, method: 'GET' })

describe('aggregation bounds', () => {
  it('keeps only the two latest days whatever the order of the lines', () => {
    const agg = new ReportAggregator()
    for (const l of [line('2025-01-02', 'A'), line('2025-01-01', 'A'), line('2025-01-04', 'A'), line('2025-01-03', 'A'), line('2025-01-04', 'B'), line('2025-01-01', 'A')]) agg.add(l)
    const r = buildReport(agg, { source: 't' })
    expect([r.date, r.total, r.previousTotal]).toEqual(['2025-01-04', 2, 1])
    expect(r.input.outsideRange).toBe(3)
    expect(r.input.violations).toBe(3)
  })

  it('folds keys beyond the cap into "(other)" and says so', () => {
    const agg = new ReportAggregator('2025-01-01', 10)
    for (let i = 0; i < 100; i++) agg.add(line('2025-01-01', 'User', `/api/e${i}`))
    const r = buildReport(agg, { source: 't' })
    expect(r.total).toBe(100)
    expect(r.topEndpoints).toHaveLength(10)
    expect(r.input.foldedKeys).toBeGreaterThan(0)
    expect(renderReport(r, 'text')).toContain('folded into "(other)"')
  })

  it('names violations outside a request as such', () => {
    const agg = new ReportAggregator()
    agg.add(JSON.stringify({ msg: 'TENANT_VIOLATION', timestamp: '2025-01-01T03:00:00Z', severity: 'HIGH', model: 'Role', action: 'deleteMany', violation: 'missing_tenant_id', endpoint: 'unknown', method: 'unknown' }))
    const r = buildReport(agg, { source: 't' })
    expect(r.actions[0]!.text).toBe('Scope Role.deleteMany at no endpoint (outside a request) (missing_tenant_id, 1 time)')
    expect(r.topEndpoints[0]).toEqual({ method: '-', endpoint: 'unknown', count: 1 })
  })

  it("names where in the query to fix it: the line's path, one action per place", () => {
    const agg = new ReportAggregator()
    const line = (path: string) => JSON.stringify({ msg: 'TENANT_VIOLATION', timestamp: '2025-01-01T03:00:00Z', severity: 'HIGH', model: 'User', action: 'findMany', violation: 'missing_tenant_id', endpoint: '/api/users', method: 'GET', path })
    agg.add(line('where.OR[1]'))
    agg.add(line('where.OR[1]'))
    agg.add(line('where.AND[0].user'))
    const r = buildReport(agg, { source: 't' })
    expect(r.actions.map((a) => a.text)).toEqual([
      'Scope User.findMany at GET /api/users (missing_tenant_id at where.OR[1], 2 times)',
      'Scope User.findMany at GET /api/users (missing_tenant_id at where.AND[0].user, 1 time)',
    ])
    expect(r.actions[0]).toMatchObject({ path: 'where.OR[1]', count: 2 })
  })

  it('treats violation lines without a valid severity, model or time as malformed', () => {
    const agg = new ReportAggregator()
    agg.add('{"msg":"TENANT_VIOLATION","model":"User","timestamp":"2025-01-01T00:00:00Z"}')
    agg.add('{"msg":"TENANT_VIOLATION","severity":"SEVERE","model":"User","timestamp":"2025-01-01T00:00:00Z"}')
    agg.add('{"msg":"TENANT_VIOLATION","severity":"HIGH","model":"User"}')
    agg.add('{"msg":"TENANT_VIOLATION"')
    agg.add('[1,2] TENANT_VIOLATION')
    agg.add('{"msg":"TENANT_VIOLATION","severity":"HIGH","model":"User","time":1735689600000}')
    expect(agg.stats).toMatchObject({ malformed: 5, violations: 1 })
  })
})

describe('report input: gzip, unreadable, dated in the future', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tf-report-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }

  it('reads gzip input as such, whatever the file is called', async () => {
    const text = readFileSync(FIXTURE)
    const plain = await dailyReport({ logs: FIXTURE })
    for (const name of ['violations.jsonl.gz', 'violations.log']) {
      const r = await dailyReport({ logs: file(name, gzipSync(text)) })
      expect({ ...r, source: '' }).toEqual({ ...plain, source: '' })
    }
  })

  it.each([
    ['empty', () => file('empty.log', ''), /--logs .*empty\.log: the input is empty \(no line, or blank lines only\)/],
    ['blank lines', () => file('blank.log', '\n\n  \n'), /the input is empty/],
    ['binary', () => file('binary.bin', randomBytes(4096)), /--logs .*binary\.bin: no readable log line in \d+ lines? \(none is a JSON object: a binary file, or not a log\?\)/],
    ['text that is not a log', () => file('notes.txt', 'not json\nalso not json\n'), /no readable log line in 2 lines/],
    ['a truncated gzip', () => file('cut.gz', gzipSync(readFileSync(FIXTURE)).subarray(0, 40)), /--logs .*cut\.gz: read failed \(gzip\)/],
  ])('%s input exits non-zero with one line', async (_name, path, message) => {
    const res = await runCli(['report', '--logs', path()])
    expect(res.code).toBe(1)
    expect(res.stdout).toBe('')
    expect(res.stderr).toMatch(message)
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('a line dated in the future is reported, not taken as the latest day', async () => {
    const today = '2025-03-11T06:00:00.000Z' // the morning after the fixture's last day
    const future = readFileSync(FIXTURE, 'utf8').split('\n').find((l) => l.includes('TENANT_VIOLATION'))!.replace(/"timestamp":"[^"]+"/, '"timestamp":"2031-01-01T00:00:00.000Z"')
    const path = file('future.log', `${readFileSync(FIXTURE, 'utf8')}\n${future}\n`)
    const r = await dailyReport({ logs: path }, new Date(today))
    expect(r.date).toBe('2025-03-10')
    expect(r.total).toBe(15)
    expect(r.input).toMatchObject({ future: 1, latestFuture: '2031-01-01T00:00:00.000Z' })
    expect(renderReport(r, 'text')).toContain('Warning: 1 violation line dated in the future (latest 2031-01-01T00:00:00.000Z) not counted: check the clock of the app that wrote it')
  })
})
