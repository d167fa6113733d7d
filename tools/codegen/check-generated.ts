/**
 * CI freshness check: regenerates every committed generated artefact (the event JSON Schemas from
 * the zod contracts, the AsyncAPI document from the event registry) and fails when the result differs
 * from what git has. The gRPC types (libs/grpc/src/generated) and the iSAMS dataset tables'
 * TypeScript (libs/isams/src/typed/generated) are not committed: every install generates them from
 * protos/ and libs/isams/datasets/ (the root `postinstall`; the Dockerfile runs both generators itself).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const GENERATED = ['libs/events/schemas', 'libs/events/asyncapi'];

const gen = spawnSync('npm', ['run', '-s', 'gen'], { cwd: root, stdio: 'inherit' });
if (gen.status !== 0) {
  console.error('check-generated: `npm run gen` failed');
  process.exit(1);
}
const diff = spawnSync('git', ['status', '--porcelain', '--', ...GENERATED], { cwd: root, encoding: 'utf8' });
if (diff.status !== 0) {
  console.error(`check-generated: git status failed: ${diff.stderr}`);
  process.exit(1);
}
if (diff.stdout.trim() !== '') {
  console.error(
    'check-generated: generated files are stale or uncommitted — run `npm run gen` and commit:\n' +
      diff.stdout,
  );
  process.exit(1);
}
console.log(`check-generated: ${GENERATED.join(', ')} are up to date`);
