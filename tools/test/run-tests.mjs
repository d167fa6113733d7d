#!/usr/bin/env node
// Runs the whole test suite (or one project: `npm test -- --project kafka`) through vitest and
// closes with the line CI reads: `N passed, N failed`. `--unit` runs only pure unit tests (no
// Kafka/MongoDB). Integration infrastructure is chosen by libs/testing/src/global-setup.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const unit = args.includes('--unit');
const passthrough = args.filter((a) => a !== '--unit');
const report = resolve(root, '.cache/test-results/vitest.json');
mkdirSync(dirname(report), { recursive: true });
rmSync(report, { force: true });

// The browser tests drive Debian's chromium; install it on a fresh machine (a no-op when present).
if (!unit && !existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
  process.stdout.write(
    'chromium not found: installing it for the browser tests (tools/browser/install-chromium.sh)…\n',
  );
  spawnSync('bash', [resolve(root, 'tools/browser/install-chromium.sh')], { cwd: root, stdio: 'inherit' });
}

const result = spawnSync(
  resolve(root, 'node_modules/.bin/vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...passthrough],
  { cwd: root, stdio: 'inherit', env: { ...process.env, ...(unit ? { TEST_SCOPE: 'unit' } : {}) } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  failed = (json.numFailedTests ?? 0) + (json.numRuntimeErrors ?? 0);
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  // A test file that fails to load counts as a failure even if vitest reports no failed test.
  const brokenSuites = (json.testResults ?? []).filter(
    (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0,
  ).length;
  failed += brokenSuites;
}
const exitCode = result.status ?? 1;
if (exitCode !== 0 && failed === 0) failed = 1; // vitest failed outside any test (setup/teardown/crash)
if (passed + failed === 0) {
  process.stdout.write('no tests ran\n');
  failed = 1;
}
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(exitCode !== 0 ? exitCode : failed > 0 ? 1 : 0);
