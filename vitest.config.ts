import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = fileURLToPath(new URL('./src/', import.meta.url))

export default defineConfig({
  resolve: {
    // The package's entry points (package.json `exports`) resolve to the sources, as tsconfig.json's
    // `paths` do for the type check: tests and documentation blocks import them. Keep the three alike.
    alias: [
      { find: /^recordkit$/, replacement: `${src}index.ts` },
      { find: /^recordkit\/query$/, replacement: `${src}query/index.ts` },
      { find: /^recordkit\/model$/, replacement: `${src}model/index.ts` },
      { find: /^recordkit\/schema$/, replacement: `${src}schema/index.ts` },
      { find: /^recordkit\/promise$/, replacement: `${src}promise.ts` },
      { find: /^recordkit\/backend$/, replacement: `${src}backend.ts` },
      { find: /^recordkit\/testing$/, replacement: `${src}testing/index.ts` },
      { find: /^recordkit\/dialects\/standard$/, replacement: `${src}dialects/standard.ts` },
      { find: /^recordkit\/dialects\/sqlite$/, replacement: `${src}dialects/sqlite.ts` },
      { find: /^recordkit\/dialects\/postgres$/, replacement: `${src}dialects/postgres.ts` },
      { find: /^recordkit\/dialects\/mysql$/, replacement: `${src}dialects/mysql.ts` },
      { find: /^recordkit\/drivers\/better-sqlite3$/, replacement: `${src}drivers/better-sqlite3.ts` },
      { find: /^recordkit\/drivers\/postgres$/, replacement: `${src}drivers/postgres.ts` },
      { find: /^recordkit\/drivers\/mysql2$/, replacement: `${src}drivers/mysql2.ts` },
      { find: /^recordkit\/scale-out$/, replacement: `${src}scale-out/index.ts` },
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
