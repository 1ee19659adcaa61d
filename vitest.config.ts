import { configDefaults, defineConfig } from 'vitest/config'
import LongestFirst from './test/helpers/sequencer.ts'

/**
 * Test files too slow for every `npm test` (each takes 15 s or more of a core: a 200 MB file, the
 * benchmark, packing the package). `npm run test:slow` runs them, and so does CI (.ci/run).
 * Name a new one `*.slow.test.ts`.
 */
export const SLOW_TESTS = ['test/**/*.slow.test.ts', 'test/package*.test.ts']

export default defineConfig({
  test: {
    // One temporary folder per run (TMPDIR), removed at the end; the run fails if a test left
    // anything in it (test/helpers/global-setup.ts). One PostgreSQL server per run, started by the
    // first test that needs it, stopped at the end (test/helpers/postgres.ts).
    globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/postgres.ts'],
    // 2 workers for 2 cores (a third made runs slower here). Each file runs in its own worker with
    // its own process.env; the pool is set per project below.
    maxWorkers: 2,
    // The longest files start first, also on a fresh clone with no durations cached.
    sequence: { sequencer: LongestFirst },
    // A logic test that hangs fails here; spawns and servers carry their own, longer deadlines
    // (test/helpers/spawn.ts) and set their test's timeout above them.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // Output of passing tests is dropped; a failing test's console output is shown with it.
    silent: 'passed-only',
    projects: [
      {
        extends: true,
        // Threads: about 15 % less CPU and wall time than forks for this suite on this machine
        // (docs/testing.md, "How long the suite takes"). A file that needs a process of its own (process.chdir, its
        // own heap figures, signals to itself) needs a project with pool 'forks'.
        test: {
          name: 'fast',
          pool: 'threads',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SLOW_TESTS],
        },
      },
      {
        extends: true,
        // Forks: the report test measures its own process's heap; the package test installs and runs it.
        test: { name: 'slow', pool: 'forks', include: SLOW_TESTS },
      },
    ],
  },
})
