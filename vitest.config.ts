import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Chinook is loaded once into its own database on each server (see test/support/chinook.ts).
    globalSetup: ['test/support/global-setup.ts'],
  },
})
