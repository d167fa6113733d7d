/**
 * Compatibility check of the published event contracts (CI step "contracts compatible"): compares
 * the JSON Schemas generated from the event registry with the released snapshot in
 * libs/events/schemas/released/ and fails on a breaking change without a new version, a changed
 * schema without a new version, or a package version that does not follow (libs/events README ›
 * Versions). `--release` records the current schemas and CONTRACTS_VERSION as the new snapshot —
 * run it when a contracts version is published, and commit the result.
 *   npm run check:contracts [-- --release] [-- --released-dir <dir>]
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CONTRACTS_VERSION,
  RELEASED_DIR,
  checkContracts,
  generateEventSchemaFiles,
  registry,
  stableJson,
} from '@isams-sync/events';
import type { ContractsRelease } from '@isams-sync/events';

const MANIFEST = 'manifest.json';
const { values } = parseArgs({
  options: { release: { type: 'boolean', default: false }, 'released-dir': { type: 'string' } },
});
const releasedDir = resolve(
  values['released-dir'] ?? join(import.meta.dirname, '../../libs/events/schemas', RELEASED_DIR),
);

const generated = generateEventSchemaFiles(registry);
const current: ContractsRelease = {
  packageVersion: CONTRACTS_VERSION,
  files: Object.fromEntries(Object.entries(generated).map(([f, text]) => [f, JSON.parse(text) as never])),
};

if (values.release) {
  rmSync(releasedDir, { recursive: true, force: true });
  for (const [file, text] of Object.entries(generated)) {
    mkdirSync(dirname(join(releasedDir, file)), { recursive: true });
    writeFileSync(join(releasedDir, file), text);
  }
  writeFileSync(join(releasedDir, MANIFEST), stableJson({ packageVersion: CONTRACTS_VERSION }));
  console.log(`check-contracts: released ${Object.keys(generated).length} schemas as ${CONTRACTS_VERSION}`);
  process.exit(0);
}

const manifest = JSON.parse(readFileSync(join(releasedDir, MANIFEST), 'utf8')) as { packageVersion: string };
const files: Record<string, never> = {};
for (const file of readdirSync(releasedDir, { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.json') || file === MANIFEST) continue;
  files[file] = JSON.parse(readFileSync(join(releasedDir, file), 'utf8')) as never;
}
const problems = checkContracts({ packageVersion: manifest.packageVersion, files }, current);
if (problems.length > 0) {
  console.error(
    `check-contracts: the contracts are not compatible with the released ${manifest.packageVersion}:\n` +
      problems.map((p) => `  - ${p}`).join('\n'),
  );
  process.exit(1);
}
console.log(
  `check-contracts: ${Object.keys(current.files).length} schemas compatible with the released ${manifest.packageVersion} (package ${CONTRACTS_VERSION})`,
);
