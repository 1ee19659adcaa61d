import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Prometheus servers and demo runs bind ports and spawn processes: keep files parallel but bounded.
    maxWorkers: 2,
    // One PostgreSQL server per run, started by the first test that needs it, stopped at the end.
    globalSetup: ['test/helpers/postgres.ts'],
  },
})
