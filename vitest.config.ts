import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Worker threads and child processes: keep each file in its own fork so that a test that kills
    // a process or a worker cannot disturb another file.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2
  }
})
