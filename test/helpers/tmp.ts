// Temporary folders that a test file cannot forget: every folder made here is removed after the
// file's last test (an afterAll registered when this module is first imported, i.e. while the test
// file is being collected). The run's guard (test/helpers/global-setup.ts) fails the run on
// anything left in the temporary folder, so use this rather than a bare mkdtemp.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

const made: string[] = []

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A new empty folder under os.tmpdir(), removed after the file's tests. */
export function tempDir(prefix = 'tf-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}
