#!/usr/bin/env node
// Runs the whole test suite (or one project: `npm test -- --project kafka`) through vitest and
// closes with the line CI reads: `N passed, N failed`. Two passes: the pure unit tests (no
// Kafka/MongoDB) under the coverage gate, then the integration tests; `--unit` runs only the first.
// Integration infrastructure is chosen by libs/testing/src/global-setup.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { passCounts, summarise } from './counts.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const unit = args.includes('--unit');
const passthrough = args.filter((a) => a !== '--unit');

// The browser tests drive Debian's chromium; install it on a fresh machine (a no-op when present).
if (!unit && !existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
  process.stdout.write(
    'chromium not found: installing it for the browser tests (tools/browser/install-chromium.sh)…\n',
  );
  spawnSync('bash', [resolve(root, 'tools/browser/install-chromium.sh')], { cwd: root, stdio: 'inherit' });
}

/**
 * One vitest pass over `scope`'s files, reported to its own JSON file; returns its counts. A pass
 * whose filter matches none of its files passes with none (`npm test -- some.int.test.ts`).
 */
function runPass(scope, extra) {
  const report = resolve(root, `.cache/test-results/vitest-${scope}.json`);
  mkdirSync(dirname(report), { recursive: true });
  rmSync(report, { force: true });
  const result = spawnSync(
    resolve(root, 'node_modules/.bin/vitest'),
    [
      'run',
      '--passWithNoTests',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...extra,
      ...passthrough,
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, TEST_SCOPE: scope } },
  );
  return passCounts(
    existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) : undefined,
    result.status ?? 1,
  );
}

// The unit pass runs first, under the coverage gate (vitest.config.ts) when it runs every unit
// test; the integration pass (real Kafka and MongoDB-wire database) follows unless `--unit`.
const wholeSuite = passthrough.length === 0;
const passes = [runPass('unit', wholeSuite ? ['--coverage.enabled'] : [])];
if (!unit) passes.push(runPass('integration', []));
const summary = summarise(passes);
for (const line of summary.lines) process.stdout.write(`${line}\n`);
process.exit(summary.exitCode);
