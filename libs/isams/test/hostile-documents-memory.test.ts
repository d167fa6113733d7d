import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOMBS } from './support/bombs';
import type { BombName } from './support/bombs';

// Each bomb is parsed in a child process whose V8 heap is capped at 96 MB — what the parser spent
// on these before the limits (430 MB for 4 MB of nesting, 315 MB for 80 MB of tiny rows) would
// end it with "JavaScript heap out of memory". Memory is bounded, not fast: no time is asserted.
const HEAP_MB = 96;
const CHILD = join(import.meta.dirname, 'support/parse-in-child.ts');

interface ChildOutcome {
  exitCode: number | null;
  result?: { outcome: string; records: number; peakRssMb: number; peakHeapMb: number };
  stderrTail: string;
}

function parseInChild(name: BombName): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', CHILD, name],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      const line = out.trim().split('\n').at(-1);
      resolve({
        exitCode,
        ...(line ? { result: JSON.parse(line) as ChildOutcome['result'] } : {}),
        stderrTail: err.split('\n').slice(-5).join('\n'),
      });
    });
  });
}

const expected: Record<BombName, string> = {
  'depth-xml': 'ISAMS_DOCUMENT_TOO_DEEP',
  'depth-json': 'ISAMS_DOCUMENT_TOO_DEEP',
  'record-xml': 'ISAMS_RECORD_TOO_LARGE',
  'text-json': 'ISAMS_RECORD_TOO_LARGE',
  'rows-xml': 'ISAMS_TOO_MANY_RECORDS',
  'count-xml': 'ISAMS_TOO_MANY_RECORDS',
  // Each element that is not a row is a record (DocumentSink.notARow): the record limits bound them.
  'others-xml': 'ISAMS_TOO_MANY_RECORDS',
  'others-json': 'ISAMS_TOO_MANY_RECORDS',
};

describe(`hostile documents: memory stays bounded (child process, ${HEAP_MB} MB heap)`, () => {
  for (const name of Object.keys(BOMBS) as BombName[]) {
    it(`${name} (${BOMBS[name].about}) ends with ${expected[name]}, not out of memory`, async () => {
      const child = await parseInChild(name);
      expect(child.stderrTail, 'the child ran out of memory or crashed').not.toMatch(
        /heap out of memory|FATAL ERROR/,
      );
      expect(child.exitCode).toBe(0);
      expect(child.result?.outcome).toBe(expected[name]);
    }, 240_000);
  }
});
