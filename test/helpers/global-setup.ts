// Once per `vitest run`, before any worker starts: give the run its own temporary folder and fail
// the run if a test leaves anything in it.
//
// TMPDIR is set here, so os.tmpdir() in every worker and every child process (promtool, Prometheus,
// tsx, PostgreSQL's initdb) points into the run's folder. Two runs at the same time (two engineers,
// or CI beside a developer) never see each other's files, and what a run leaves behind is its own.
import { mkdtempSync, readdirSync, rmSync, symlinkSync, chmodSync, mkdirSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'

/** Compile caches that tools keep in os.tmpdir() (tsx: tsx-<uid>, jiti: jiti), not files of a test. */
const toolCaches = () => [`tsx-${userInfo().uid}`, 'jiti']

/** Set while a run's folder is in place: vitest calls the setup once per project, the run needs one folder. */
const MARK = 'TENANTFENCE_TEST_TMPDIR'

export default function setup(): () => void {
  if (process.env[MARK]) return () => {}
  const systemTmp = tmpdir()
  const root = mkdtempSync(join(systemTmp, 'tenantfence-test-run-'))
  // World-writable and sticky like /tmp: PostgreSQL's initdb runs as the postgres user here.
  chmodSync(root, 0o1777)
  // Share the tools' compile caches across runs (a first start compiles every module it loads).
  for (const cache of toolCaches()) {
    try {
      mkdirSync(join(systemTmp, cache), { recursive: true })
      symlinkSync(join(systemTmp, cache), join(root, cache), 'dir')
    } catch {
      // no shared cache: the tool makes its own inside the run's folder
    }
  }
  const previous = process.env.TMPDIR
  process.env.TMPDIR = root
  process.env[MARK] = root

  return () => {
    delete process.env[MARK]
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
    const left = readdirSync(root).filter((name) => !toolCaches().includes(name))
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
