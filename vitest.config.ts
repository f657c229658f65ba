import { defineConfig } from 'vitest/config'

// CI asks for a JSON report beside the usual output (.ci/run prints its counts as the closing line).
const report = process.env.PROM_INGEST_TEST_REPORT

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Worker threads and child processes: each file in its own fork, so that a test that kills a
    // process or a worker cannot disturb another file.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    reporters: report !== undefined ? ['default', ['json', { outputFile: report }]] : ['default']
  }
})
