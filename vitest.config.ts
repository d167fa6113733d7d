import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Every lib and service with a project.json is a vitest project named after its folder, so
// `npx vitest run --project roster` runs one project's tests. Integration tests (`*.int.test.ts`)
// need the real Kafka and MongoDB-wire database; the global setup (run once, at the root) provides
// them (see libs/testing/README.md). `TEST_SCOPE=unit` runs only the pure unit tests.
const unitOnly = process.env.TEST_SCOPE === 'unit';
const here = import.meta.dirname;

const projectDirs = ['libs', 'services']
  .flatMap((top) =>
    existsSync(join(here, top)) ? readdirSync(join(here, top)).map((name) => join(top, name)) : [],
  )
  .filter((dir) => existsSync(join(here, dir, 'project.json')));

const shared = {
  include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
  exclude: ['**/node_modules/**', ...(unitOnly ? ['**/*.int.test.ts'] : [])],
  testTimeout: 60_000,
  hookTimeout: 120_000,
  teardownTimeout: 60_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    globalSetup: unitOnly ? [] : [resolve(here, 'libs/testing/src/global-setup.ts')],
    projects: [
      ...projectDirs.map((dir) => ({
        test: { ...shared, name: dir.split('/')[1], root: resolve(here, dir) },
      })),
      { test: { ...shared, name: 'tools', root: resolve(here, 'tools'), include: ['**/*.test.ts'] } },
    ],
  },
});
