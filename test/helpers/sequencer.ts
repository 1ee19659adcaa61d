// The order files start in. vitest runs the longest first when its cache knows their durations
// (node_modules/.vite/vitest/…/results.json); on a fresh clone it knows none and starts the largest
// files first, so the small files that drive a long shared suite (the PostgreSQL shapes, 223 tests
// from a 4-line file) started last and one worker ran them alone at the end. These files take the
// most time in a run (measured: .tmp/vitest-results.json); they start first, in this order, and the
// rest keep vitest's order. A file missing here only costs time, never a result.
import { BaseSequencer, type TestSpecification } from 'vitest/node'

const LONGEST = [
  'enforcement-shapes-pg',
  'generate-promtool',
  'generate-cli',
  'scan-cli',
  'enforcement-shapes',
  'alerts-scenarios',
  'scan-demo',
  'rls-extension',
  'enforcement-flags',
  'flag-file-exit',
  'scan-shapes',
  'ops-prometheus',
  'isolation-app-fuzz',
  'two-level-isolation-pg',
  'enforcement-bypass',
  'isolation-fuzz',
  'rls-direct',
  // the slow project (npm run test:slow)
  'rls-agreement.slow',
  'demo-run.slow',
  'scan-real-apps.slow',
  'fleet.slow',
  'stack-e2e.slow',
  'scan-guard.slow',
]

const rank = (spec: TestSpecification): number => {
  const i = LONGEST.findIndex((name) => spec.moduleId.endsWith(`/test/${name}.test.ts`))
  return i === -1 ? LONGEST.length : i
}

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files)
    const position = new Map(base.map((f, i) => [f, i]))
    // within a project only: projects keep the order vitest gives them
    return [...base].sort((a, b) => (a.project.name === b.project.name ? rank(a) - rank(b) : 0) || position.get(a)! - position.get(b)!)
  }
}
