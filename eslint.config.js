// ESLint (flat config): typescript-eslint's recommended rules over every TypeScript and JavaScript
// file of the project; generated and third-party folders are ignored. Run by `npm run lint` and CI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  // generated, installed and third-party folders (the same as .gitignore's)
  { ignores: ['dist/', 'node_modules/', '.fdk/', '.venv*/', 'fdk-out/', 'out/', 'reports/', 'test-artifacts/', 'coverage/', '**/*.d.ts', 'src/accuracy/wasm/resize-wasm-bytes.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names are deliberately unused (callbacks with a fixed signature)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // tests and the fuzzer read untyped JSON (reports, CLI output); the browser lane talks to page globals
    files: ['test/**', 'fuzz/**', 'src/browser/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // tests look for terminal escapes and control characters in CLI output on purpose
    files: ['test/**'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // a ternary of two writes is how the .mat fixtures pick the byte order
    files: ['test/wider-mat.test.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true }] },
  },
  {
    // code that runs in the browser page (report tests, browser lane, demo)
    files: ['**/browser/**', '**/demo/**', 'test/report-browser.ts'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
);
