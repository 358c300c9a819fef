import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = fileURLToPath(new URL('./src/', import.meta.url))

export default defineConfig({
  resolve: {
    // The package's entry points (`recordkit`, `recordkit/schema`, ...) resolve to the sources, as
    // tsconfig.json's `paths` do for the type check: tests and documentation blocks import them.
    alias: [
      { find: /^recordkit$/, replacement: `${src}index.ts` },
      { find: /^recordkit\/(testing|schema|scale-out)$/, replacement: `${src}$1/index.ts` },
      { find: /^recordkit\/(.+)$/, replacement: `${src}$1.ts` },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Chinook is loaded once into its own database on each server (see test/support/chinook.ts).
    globalSetup: ['test/support/global-setup.ts'],
  },
})
