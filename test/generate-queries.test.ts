// Every PromQL expression the generator writes parses with Prometheus's own grammar (lezer) and
// type-checks in promtool; every LogQL parses with Loki's grammar.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parser as logqlParser } from '@grafana/lezer-logql'
import { parser as promqlParser } from '@prometheus-io/lezer-promql'
import type { LRParser } from '@lezer/lr'
import { stringify } from 'yaml'
import { describe, expect, it } from 'vitest'
import config from '../tenantfence.config.ts'
import { generateFiles } from '../src/generate/files.ts'
import { logqlExpressions, promqlExpressions, promtool } from './fixtures/generate/helpers.ts'
import { tempDir } from './helpers/tmp.ts'

const files = generateFiles(config)
const promql = promqlExpressions(files)
const logql = logqlExpressions(files)

/** Positions of error nodes in the parse tree (lezer recovers instead of throwing). */
function syntaxErrors(parser: LRParser, expr: string): number[] {
  const errors: number[] = []
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from)
    },
  })
  return errors
}

describe('generate: queries', () => {
  it('finds the alert expressions and the dashboard targets', () => {
    expect(promql.length).toBeGreaterThan(30)
    expect(logql.length).toBe(2)
  })

  it.each(promql.map((q) => [q.where, q.expr]))('PromQL of %s parses', (_where, expr) => {
    expect(syntaxErrors(promqlParser, expr)).toEqual([])
  })

  it.each(logql.map((q) => [q.where, q.expr]))('LogQL of %s parses', (_where, expr) => {
    expect(syntaxErrors(logqlParser, expr)).toEqual([])
  })

  it('the grammars do catch a broken expression (the check is not vacuous)', () => {
    expect(syntaxErrors(promqlParser, 'sum(rate(foo[5m])')).not.toEqual([])
    expect(syntaxErrors(logqlParser, '{app="x"} | json | msg=')).not.toEqual([])
  })

  it('every PromQL expression type-checks in promtool (as throwaway recording rules)', () => {
    const dir = tempDir('tenantfence-promql-')
    const file = join(dir, 'expressions.rules.yml')
    writeFileSync(file, stringify({ groups: [{ name: 'generated-expressions', rules: promql.map((q, i) => ({ record: `tenantfence:expression_${i}`, expr: q.expr })) }] }))
    const { status, output } = promtool(['check', 'rules', file])
    expect(output).toContain(`SUCCESS: ${promql.length} rules found`)
    expect(status).toBe(0)
  })

  it('promtool type-checking catches a counter given to rate without a range', () => {
    const dir = tempDir('tenantfence-promql-')
    const file = join(dir, 'bad.rules.yml')
    writeFileSync(file, stringify({ groups: [{ name: 'bad', rules: [{ record: 'bad', expr: 'rate(tenant_violations_total)' }] }] }))
    expect(promtool(['check', 'rules', file]).status).not.toBe(0)
  })
})
