// promtool, asynchronously and with a deadline (test/helpers/spawn.ts): a slow promtool on a busy
// machine fails as "timed out", never as a wrong exit status.
import { REPO, run } from './spawn.ts'
import { requireTool } from './tools.ts'

export interface PromtoolResult {
  status: number
  /** stdout then stderr */
  output: string
}

export async function promtool(args: string[], cwd = REPO): Promise<PromtoolResult> {
  requireTool('promtool', 'prometheus')
  const r = await run('promtool', args, { cwd, label: `promtool ${args.slice(0, 2).join(' ')}` })
  return { status: r.code, output: `${r.stdout}${r.stderr}` }
}

/**
 * `promtool test rules` over several files in ONE process (it starts in ~0.3 s but each call
 * re-reads the rule files), split into each file's own verdict: promtool prints one
 * "Unit Testing: <file>" section per file, then SUCCESS or FAILED.
 */
export async function promtoolTestRules(files: string[], cwd = REPO): Promise<Map<string, { passed: boolean; output: string }>> {
  const { output } = await promtool(['test', 'rules', ...files], cwd)
  const sections = new Map<string, { passed: boolean; output: string }>()
  for (const section of output.split(/^(?=Unit Testing: )/m)) {
    const file = /^Unit Testing:\s+(.+)$/m.exec(section)?.[1]?.trim()
    if (file) sections.set(file, { passed: /^\s+SUCCESS\s*$/m.test(section) && !/FAILED/.test(section), output: section })
  }
  for (const f of files) if (!sections.has(f)) sections.set(f, { passed: false, output: `promtool printed no section for ${f}:\n${output}` })
  return sections
}
