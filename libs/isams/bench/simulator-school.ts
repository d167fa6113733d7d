import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The simulator's large school, written by its CLI (a separate process: libs never import services). */
export function generateSimulatorSchool(file: string, format: 'xml' | 'json'): undefined {
  const cli = join(import.meta.dirname, '../../../services/isams-simulator/src/cli/generate-school.ts');
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', cli, '--seed', '1', '--size', 'large', '--format', format, '--out', file],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (run.status !== 0) throw new Error(`simulator generate-school failed (exit ${run.status})`);
  return undefined;
}
