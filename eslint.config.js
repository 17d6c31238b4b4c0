// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const apps = ['gateway', 'identity', 'channels', 'live', 'chat', 'notify', 'payments', 'web'];

/** Import rules that keep the architecture honest; each message says why. */
const deepImport = {
  group: ['@neon/*/src/*', '@neon/*/src'],
  message: "Import a package through its entry ('@neon/x'), never its src/: internals may change.",
};
const relativeEscape = {
  group: [
    '../../packages/*',
    '../../../packages/*',
    '../../apps/*',
    '../../../apps/*',
    '../../../../*',
  ],
  message:
    'Cross-workspace relative imports bypass package boundaries: import the package by name.',
};

/**
 * @param {string[]} files
 * @param {...{ group: string[]; message: string }} patterns
 */
function restrictImports(files, ...patterns) {
  return { files, rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

export default tseslint.config(
  {
    ignores: [
      'eslint.config.js',
      '**/node_modules/**',
      '**/dist/**',
      // Served as written, before the app's bundle (the theme before the first paint).
      'apps/web/public/**',
      'data/**',
      'test-results/**',
      'bench/results/**',
      '.stryker-tmp/**',
      'reports/**',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/only-throw-error': 'error',
      'no-restricted-imports': ['error', { patterns: [deepImport, relativeEscape] }],
    },
  },
  // Packages are shared by every app: an import of an app would invert the dependency.
  restrictImports(['packages/**/*.ts'], deepImport, relativeEscape, {
    group: apps.map((a) => `@neon/${a}`),
    message:
      'Packages never import apps: move what both need into a package (contracts for shapes).',
  }),
  // contracts runs in the browser too.
  restrictImports(
    ['packages/contracts/src/**/*.ts'],
    deepImport,
    {
      group: ['node:*'],
      message: 'contracts is environment-neutral: no node:* (the web app imports it).',
    },
    {
      group: ['@neon/*'],
      message: 'contracts depends on nothing of ours: everything else depends on it.',
    },
  ),
  // Each app talks to the others over HTTP or the bus, never by import.
  ...apps
    .filter((app) => app !== 'web')
    .map((app) =>
      restrictImports([`apps/${app}/**/*.ts`], deepImport, relativeEscape, {
        group: apps.filter((a) => a !== app).map((a) => `@neon/${a}`),
        message:
          'Apps never import each other: call over HTTP or the bus; share shapes through @neon/contracts.',
      }),
    ),
  // The web app runs in the browser: of our packages it may use only the shared shapes.
  restrictImports(['apps/web/**/*.ts', 'apps/web/**/*.tsx'], deepImport, relativeEscape, {
    group: ['@neon/*', '!@neon/contracts'],
    message:
      'The web app imports only @neon/contracts of our packages: the others are for servers.',
  }),
  // process.env is read once, in a config parse, and passed in.
  {
    files: ['apps/*/src/**/*.ts', 'packages/*/src/**/*.ts'],
    ignores: ['apps/*/src/main.ts', 'packages/testing/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration in config.ts via loadConfig and pass it in.',
        },
      ],
    },
  },
  {
    files: ['**/test/**/*.ts', 'tests/**/*.ts', 'bench/**/*.ts', '**/*.test.ts', '**/*.test.tsx'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
    },
  },
  // The scripts are plain JavaScript run by node: linted without type information.
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { ...globals.node },
    },
  },
);
