// ESLint (flat config): a small set of rules, each for a kind of slip found in this code base
// (issue 13), not a style guide. There is no formatter; the one layout rule is the line length.
// `npm run lint` runs this and scripts/unused-exports.mjs (exports nothing imports, which ESLint
// cannot see file by file).
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import svelteParser from 'svelte-eslint-parser';

// A local rule rather than `no-restricted-syntax`: `x as unknown as T` throws the type checker
// away, so it is allowed only with a comment that says why, on the line of the cast or the line
// above it (no eslint-disable needed, the comment itself is the licence).
const explainedDoubleCast = {
  meta: {
    type: 'problem',
    docs: { description: 'require a comment on every `as unknown as` cast' },
    messages: { unexplained: '`as unknown as` needs a comment (on this line or the one above) saying why the types cannot meet' },
    schema: [],
  },
  create(context) {
    const source = context.sourceCode;
    return {
      TSAsExpression(node) {
        const inner = node.expression;
        if (inner.type !== 'TSAsExpression' || inner.typeAnnotation.type !== 'TSUnknownKeyword') return;
        const first = node.loc.start.line;
        const last = node.loc.end.line;
        const explained = source.getAllComments().some((c) => c.loc.end.line >= first - 1 && c.loc.start.line <= last);
        if (!explained) context.report({ node, messageId: 'unexplained' });
      },
    };
  },
};

export default defineConfig(
  { ignores: ['dist/**', 'dist-renderer/**', 'release/**', 'node_modules/**', 'scratch/**', '.exitlab/**', 'test-results/**'] },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.svelte'],
    plugins: { '@typescript-eslint': tseslint.plugin, exitlab: { rules: { 'explained-double-cast': explainedDoubleCast } } },
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        project: './tsconfig.eslint.json',
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Dead locals, parameters and imports. A leading underscore marks a parameter kept for its
      // position (callbacks); caught errors may go unnamed but not unused-and-named.
      '@typescript-eslint/no-unused-vars': ['error', {
        args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'all', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
      // A promise nobody awaits loses its rejection (an unhandled rejection ends the process) and
      // races what follows; write `void p` where fire-and-forget is meant.
      '@typescript-eslint/no-floating-promises': 'error',
      'exitlab/explained-double-cast': 'error',
      // The length the code already keeps; URLs and regular expression literals, which cannot be
      // wrapped, may run over.
      'max-len': ['error', { code: 160, tabWidth: 2, ignoreUrls: true, ignoreRegExpLiterals: true }],
    },
  },
  {
    files: ['**/*.svelte'],
    plugins: { svelte },
    processor: svelte.processors.svelte,
    languageOptions: { parser: svelteParser, parserOptions: { parser: tseslint.parser } },
  },
  {
    // The scripts and this file: no type information, the same two checks that need none.
    files: ['**/*.mjs'],
    rules: { 'no-unused-vars': 'error', 'max-len': ['error', { code: 160, tabWidth: 2, ignoreUrls: true }] },
  },
);
