// Once per `vitest run`, before any worker starts: give the run its own temporary folder and fail
// the run if a test leaves anything in it.
//
// TMPDIR is set here, so os.tmpdir() in every worker and every child process (promtool, Prometheus,
// tsx, PostgreSQL's initdb) points into the run's folder. Two runs at the same time (two engineers,
// or CI beside a developer) never see each other's files, and what a run leaves behind is its own.
import { mkdtempSync, readdirSync, rmSync, symlinkSync, chmodSync, mkdirSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'

/** Created by tools, not by tests: tsx keeps its compile cache in os.tmpdir()/tsx-<uid>. */
const TOOL_FILES = /^tsx-\d+$/

/** Set while a run's folder is in place: vitest calls the setup once per project, the run needs one folder. */
const MARK = 'TENANTFENCE_TEST_TMPDIR'

export default function setup(): () => void {
  if (process.env[MARK]) return () => {}
  const systemTmp = tmpdir()
  const root = mkdtempSync(join(systemTmp, 'tenantfence-test-run-'))
  // World-writable and sticky like /tmp: PostgreSQL's initdb runs as the postgres user here.
  chmodSync(root, 0o1777)
  // Share tsx's compile cache across runs (a child's first start compiles every module it loads).
  const tsxCache = `tsx-${userInfo().uid}`
  try {
    mkdirSync(join(systemTmp, tsxCache), { recursive: true })
    symlinkSync(join(systemTmp, tsxCache), join(root, tsxCache), 'dir')
  } catch {
    // no shared cache: tsx makes its own inside the run's folder
  }
  const previous = process.env.TMPDIR
  process.env.TMPDIR = root
  process.env[MARK] = root

  return () => {
    delete process.env[MARK]
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
    const left = readdirSync(root).filter((name) => !TOOL_FILES.test(name))
    rmSync(root, { recursive: true, force: true })
    if (left.length > 0) {
      // vitest prints an error thrown here but keeps the exit code: set it, so the run fails.
      process.exitCode = 1
      throw new Error(
        `the tests left ${left.length} item(s) in their temporary folder: ${left.sort().join(', ')}. ` +
          'Remove what a test creates (test/helpers/tmp.ts tempDir() does it for you; close databases and servers in afterAll).',
      )
    }
  }
}
