// One lint preset for the whole repo. Module boundaries are enforced with Nx project tags
// (see docs/architecture.md#module-boundaries).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const adapterModules = [
  'kafkajs',
  'mongodb',
  '@grpc/*',
  'fastify',
  'undici',
  'node:http',
  'node:https',
  'node:net',
  'node:fs',
  'node:fs/promises',
  '@isams-sync/kafka',
  '@isams-sync/mongo',
  '@isams-sync/grpc',
  '@isams-sync/testing',
];

// Services are deployables, never libraries: nothing imports one (Nx's tag check only sees libs).
const servicePackages = [
  '@isams-sync/connector',
  '@isams-sync/roster',
  '@isams-sync/bookings',
  '@isams-sync/gateway',
  '@isams-sync/isams-simulator',
];
const serviceImportRule = {
  group: [...servicePackages, ...servicePackages.map((p) => `${p}/*`), '**/services/*/src/**'],
  message: 'A service is never imported; shared code belongs in libs/.',
};

// kafkajs (in maintenance mode) stays behind libs/kafka, so a later swap is that library's change.
const kafkajsImportRule = {
  group: ['kafkajs', 'kafkajs/*'],
  message:
    'kafkajs is private to libs/kafka: use @isams-sync/kafka (add a narrow function there if one is missing).',
};

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.cache/**',
      '.nx/**',
      'coverage/**',
      'libs/grpc/src/generated/**',
      'charts/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    // No function over 150 lines anywhere in services/ and libs/ — sources, tests, benches (issue
    // #20): a longer one is split into named steps, a long describe into describes by topic that
    // share a module-level setup (see docs/development.md).
    files: ['services/**/*.ts', 'libs/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 150 }] },
  },
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          // libs/testing creates test topics through @isams-sync/kafka (kafkajs is private to it), and
          // libs/kafka's own tests use libs/testing: a test-only edge. libs/kafka's sources still
          // cannot import libs/testing (type:infra may not use type:test-util).
          ignoredCircularDependencies: [['kafka', 'testing']],
          // Layers (docs/architecture.md › Module boundaries): foundation ← integration ← contract ←
          // infra ← shell ← app, each using only the layers before it (the shell, libs/service-shell,
          // is the services' common wiring: only the services use it); test-util is for tests and tools.
          // Scopes: `scope:isams` (the iSAMS client, parser and dataset catalogue) is for the
          // projects that read iSAMS documents or describe its datasets — never bookings or gateway.
          depConstraints: [
            { sourceTag: 'type:foundation', onlyDependOnLibsWithTags: ['type:foundation'] },
            { sourceTag: 'type:integration', onlyDependOnLibsWithTags: ['type:foundation'] },
            {
              sourceTag: 'type:contract',
              onlyDependOnLibsWithTags: ['type:foundation', 'type:integration'],
            },
            {
              sourceTag: 'type:infra',
              onlyDependOnLibsWithTags: ['type:foundation', 'type:contract'],
            },
            {
              sourceTag: 'type:shell',
              onlyDependOnLibsWithTags: ['type:foundation', 'type:contract', 'type:infra'],
            },
            {
              sourceTag: 'type:test-util',
              onlyDependOnLibsWithTags: ['type:foundation', 'type:contract', 'type:infra'],
            },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:foundation',
                'type:integration',
                'type:contract',
                'type:infra',
                'type:shell',
              ],
            },
            {
              sourceTag: 'type:tool',
              onlyDependOnLibsWithTags: [
                'type:foundation',
                'type:integration',
                'type:contract',
                'type:infra',
                'type:test-util',
              ],
            },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', 'scope:isams'] },
            { sourceTag: 'scope:isams', onlyDependOnLibsWithTags: ['scope:shared'] },
            {
              sourceTag: 'scope:connector',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:isams', 'scope:connector'],
            },
            {
              sourceTag: 'scope:roster',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:isams', 'scope:roster'],
            },
            { sourceTag: 'scope:bookings', onlyDependOnLibsWithTags: ['scope:shared', 'scope:bookings'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:shared', 'scope:gateway'] },
            {
              sourceTag: 'scope:simulator',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:isams', 'scope:simulator'],
            },
          ],
        },
      ],
      'no-console': 'error',
      'no-restricted-imports': ['error', { patterns: [serviceImportRule, kafkajsImportRule] }],
    },
  },
  {
    // Tests may use the testing helpers in any project.
    files: ['**/test/**/*.ts', '**/*.test.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off', 'no-console': 'off' },
  },
  {
    // So may benchmarks (dev-only measurement code, never bundled); services still never import
    // each other (no-restricted-imports stays on).
    files: ['libs/*/bench/**/*.ts', 'services/*/bench/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // Domain code is pure: no I/O, no adapters, no other layers.
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            serviceImportRule,
            { group: adapterModules, message: 'Domain code is pure: no I/O or adapter imports.' },
            {
              group: ['**/adapters/**', '**/handlers/**', '**/app', '**/main'],
              message: 'Domain code must not import adapters, handlers or the composition root.',
            },
          ],
        },
      ],
    },
  },
  {
    // Every service's use-cases reach storage, leases, the broker, the other services and the disk
    // only through their ports (services/<name>/src/use-cases/ports.ts), so the roster's and the
    // connector's state machines run on in-memory ports in unit tests (the crash matrices, the
    // settings, key-vault, connection-test and notifier tests) and no use-case names an adapter.
    // Every use-case is checked; there are no exceptions (issue #20).
    files: ['services/*/src/use-cases/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            serviceImportRule,
            kafkajsImportRule,
            {
              group: adapterModules,
              message: 'Use-cases reach I/O through their ports (use-cases/ports.ts).',
            },
            {
              group: ['**/adapters/**', '**/handlers/**', '**/app', '**/main'],
              message:
                'Use-cases must not import adapters, handlers or the composition root: declare a port; app.ts wires them.',
            },
          ],
        },
      ],
    },
  },
  {
    // The one place kafkajs may be imported.
    files: ['libs/kafka/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [serviceImportRule] }] },
  },
  {
    // CLIs and dev tooling print to the terminal.
    files: ['tools/**/*.ts', 'tools/**/*.mjs', '**/src/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  prettier,
);
