// Lint for recordkit: ESLint's and typescript-eslint's recommended rules (no type information,
// so it stays fast), with the few exceptions this codebase's idioms need, each said why.
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import tseslint from 'typescript-eslint'

export default defineConfig(
  { ignores: ['dist/', '.tmp/', 'bench/.cpuprofile/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // The model layer's type-level code constrains generics with `any` (`Model<any>`,
      // `(...args: any[]) => unknown`): `unknown` there would reject every concrete model.
      '@typescript-eslint/no-explicit-any': 'off',
      // Type-level code uses `{}` as the empty record (`Loaded & {}`), and the DbError union
      // declares each tag as an interface that only extends its base.
      '@typescript-eslint/no-empty-object-type': 'off',
      // `const { engine: _, ...options } = config` drops a field on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The cold-start benchmarks are plain Node scripts.
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
)
