import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Prometheus servers and demo runs bind ports and spawn processes: keep files parallel but bounded.
    maxWorkers: 2,
  },
})
