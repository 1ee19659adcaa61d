// The README is a short manual whose detail lives one link away in docs/. These checks keep that
// promise as text moves between the two: every relative link (file and #anchor) resolves, every
// `npm run <script>` is a script of package.json, and every `tenantfence <command>` is a command of
// the CLI (src/cli.ts), in the README and in every page of docs/. Pure file reads: no process, no I/O
// beyond the repository.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { USAGE } from '../src/cli.ts'
import { FLAG_NAMES } from '../src/config/flags.ts'
import { VIOLATION_KINDS } from '../src/telemetry/metric-names.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
const read = (page: string): string => readFileSync(join(root, page), 'utf8')
const withoutCode = (text: string): string => text.replace(/^```[\s\S]*?^```/gm, '')

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, -1, -2 … for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const text = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    const slug = text.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-')
    const n = seen.get(slug) ?? 0
    seen.set(slug, n + 1)
    anchors.add(n === 0 ? slug : `${slug}-${n}`)
  }
  return anchors
}

/** Relative links of a page (code blocks left out) that name a missing file or a missing heading. */
function brokenLinks(page: string, markdown: string, exists: (path: string) => boolean, readPage: (path: string) => string): string[] {
  const broken: string[] = []
  for (const [, target] of withoutCode(markdown).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue // https:, mailto:
    const [path, anchor] = target!.split('#', 2) as [string, string | undefined]
    const file = path ? normalize(join(dirname(page), path)) : page
    if (!exists(file)) broken.push(`${page}: ${target} (no file ${file})`)
    else if (anchor && file.endsWith('.md') && !anchorsOf(readPage(file)).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`)
  }
  return broken
}

const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts)
const commands = [...USAGE.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!)

/** `tenantfence <word>` where the text runs the CLI: after npx or `npm run tenantfence --`, in inline code, in sh blocks. */
function cliWords(markdown: string): string[] {
  const words = [...markdown.matchAll(/(?:npx tenantfence|npm run (?:-s )?tenantfence --|`tenantfence) ([\w-]+)/g)].map((m) => m[1]!)
  for (const [, block] of markdown.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```/gm)) {
    for (const [, word] of block!.matchAll(/^(?:\$ )?tenantfence ([\w-]+)/gm)) words.push(word!)
  }
  return words
}

describe('the README and docs/', () => {
  it('every relative link resolves, file and #anchor', () => {
    const broken = pages.flatMap((page) => brokenLinks(page, read(page), (p) => existsSync(join(root, p)), read))
    expect(broken).toEqual([])
  })

  it('the link check fails on a missing page and on a missing heading', () => {
    const docs = { 'docs/a.md': '# Title\n\n## The link audit (before phase 3)\n' }
    const exists = (p: string): boolean => p in docs
    const readPage = (p: string): string => docs[p as keyof typeof docs]
    const text = '[ok](a.md#the-link-audit-before-phase-3) [gone](b.md) [typo](a.md#the-link-audit) [self](#title)\n```\n[code](nowhere.md)\n```'
    expect(brokenLinks('docs/a.md', docs['docs/a.md'] + text, exists, readPage)).toEqual([
      'docs/a.md: b.md (no file docs/b.md)',
      'docs/a.md: a.md#the-link-audit (no heading #the-link-audit in docs/a.md)',
    ])
    expect([...anchorsOf('## Without Docker: `npm run stack:local`\n## Flags\n## Flags')]).toEqual(['without-docker-npm-run-stacklocal', 'flags', 'flags-1'])
  })

  it('every `npm run <script>` shown is a script of package.json', () => {
    const missing = pages.flatMap((page) =>
      [...read(page).matchAll(/npm run (?:-s )?([\w:-]+)/g)].map((m) => m[1]!).filter((s) => !scripts.includes(s)).map((s) => `${page}: npm run ${s}`),
    )
    expect(scripts).toContain('stack:local')
    expect(missing).toEqual([])
  })

  it('every `tenantfence <command>` shown is a command of the CLI', () => {
    expect(commands).toEqual(expect.arrayContaining(['init', 'generate', 'audit', 'report', 'status', 'phase', 'scan']))
    const known = new Set([...commands, 'help', '--help', '--version'])
    const unknown = pages.flatMap((page) => cliWords(read(page)).filter((w) => !known.has(w)).map((w) => `${page}: tenantfence ${w}`))
    expect(unknown).toEqual([])
  })

  it("the README's flag table names exactly the flags the code reads", () => {
    const table = [...read('README.md').matchAll(/^\| `(TENANT_ENFORCEMENT_[A-Z_]+)` \|/gm)].map((m) => m[1])
    expect(table).toEqual([...FLAG_NAMES])
  })

  it('the README names every violation kind, and docs/isolation.md has a row for each', () => {
    const readme = read('README.md')
    const isolation = read('docs/isolation.md')
    for (const kind of VIOLATION_KINDS) {
      expect(readme, kind).toContain(`\`${kind}\``)
      expect(isolation, kind).toMatch(new RegExp(`^\\| \`${kind}\` \\|`, 'm'))
    }
  })

  it('the README gives the commands a fresh machine starts with', () => {
    const readme = read('README.md')
    for (const command of ['npm install && npm run demo', 'npm test', 'npm run stack:local']) expect(readme).toContain(command)
  })
})
