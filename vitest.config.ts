import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Every lib and service with a project.json is a vitest project named after its folder, so
// `vitest run --project roster` runs one project's tests. Integration tests (`*.int.test.ts`)
// need the real Kafka and MongoDB-wire database; the global setup provides them (see
// libs/testing/README.md). `TEST_SCOPE=unit` runs only the pure unit tests.
const unitOnly = process.env.TEST_SCOPE === 'unit';

const projectDirs = ['libs', 'services']
  .flatMap((top) => (existsSync(top) ? readdirSync(top).map((name) => join(top, name)) : []))
  .filter((dir) => existsSync(join(dir, 'project.json')));

const include = ['test/**/*.test.ts', 'src/**/*.test.ts'];
const exclude = ['**/node_modules/**', ...(unitOnly ? ['**/*.int.test.ts'] : [])];

export default defineConfig({
  test: {
    globalSetup: unitOnly ? [] : ['libs/testing/src/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    projects: [
      ...projectDirs.map((dir) => ({
        extends: true as const,
        test: { name: dir.split('/')[1], root: dir, include, exclude },
      })),
      {
        extends: true as const,
        test: { name: 'tools', root: 'tools', include: ['**/*.test.ts'], exclude },
      },
    ],
  },
});
