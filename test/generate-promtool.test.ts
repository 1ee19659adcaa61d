// The committed rule files load in Prometheus (promtool check rules) and their generated unit
// tests pass (promtool test rules): each alert fires at `for`, not one step before, not while
// the app reports another phase's mode, and not on the look-alike case it must ignore. All the
// files together load at once too.
import { readdirSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { REPO } from './fixtures/generate/helpers.ts'
import { promtool, promtoolTestRules } from './helpers/promtool.ts'

const rules = readdirSync(join(REPO, 'alerts')).filter((f) => f.endsWith('.rules.yml')).map((f) => `alerts/${f}`)
const tests = readdirSync(join(REPO, 'alerts/tests')).filter((f) => f.endsWith('.test.yml')).map((f) => `alerts/tests/${f}`)

describe('generate: promtool', () => {
  it('finds a rule file and a test file for each phase, and for the silence alerts', () => {
    expect(rules).toHaveLength(6)
    expect(tests).toHaveLength(6)
  })

  it.each(rules)('promtool check rules %s', async (file) => {
    const { status, output } = await promtool(['check', 'rules', file])
    expect(output).toContain('SUCCESS')
    expect(status).toBe(0)
  })

  it('every phase file loads into one Prometheus at once (distinct group names)', async () => {
    const { status, output } = await promtool(['check', 'rules', ...rules])
    expect(status, output).toBe(0)
  })

  // One promtool process for the five files (each reports its own verdict): a third less work.
  let verdicts: Map<string, { passed: boolean; output: string }>
  beforeAll(async () => {
    verdicts = await promtoolTestRules(tests)
  })

  it.each(tests)('promtool test rules %s', (file) => {
    const { passed, output } = verdicts.get(file)!
    expect(output).toContain('SUCCESS')
    expect(passed, output).toBe(true)
  })
})
