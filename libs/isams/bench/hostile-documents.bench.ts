/**
 * Hostile-documents benchmark: peak RSS and V8 heap of the streaming parser on each bomb of
 * test/support/bombs.ts (depth, record size, count, 80 MB of tiny rows), against the simulator's
 * large school parsed in the same run (XML and JSON) as the baseline. Each parse runs in its own
 * child process (test/support/parse-in-child.ts), once without a heap cap (what a bomb costs, not
 * cut off; V8 lets garbage accumulate up to its default heap) and once with
 * `--max-old-space-size=96` (what the parser needs: it must still end with its ISAMS_* error).
 *
 *   npx tsx libs/isams/bench/hostile-documents.bench.ts [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOMBS } from '../test/support/bombs';
import { generateSimulatorSchool } from './simulator-school';

interface ChildResult {
  name: string;
  outcome: string;
  records: number;
  peakRssMb: number;
  peakHeapMb: number;
}

const json = process.argv.includes('--json');
const CHILD = join(import.meta.dirname, '../test/support/parse-in-child.ts');

function parseInChild(name: string, file?: string, heapMb?: number): ChildResult {
  const cap = heapMb === undefined ? [] : [`--max-old-space-size=${heapMb}`];
  const run = spawnSync(process.execPath, [...cap, '--import', 'tsx', CHILD, name, ...(file ? [file] : [])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = run.stdout.trim().split('\n').at(-1);
  if (run.status !== 0 || !line) {
    // Without a heap cap this only happens when the machine itself runs out of memory.
    const why = /heap out of memory/.test(run.stderr) ? 'out of memory' : `exit ${run.status ?? run.signal}`;
    return { name, outcome: why, records: 0, peakRssMb: Number.NaN, peakHeapMb: Number.NaN };
  }
  return JSON.parse(line) as ChildResult;
}

const dir = mkdtempSync(join(tmpdir(), 'isams-hostile-bench-'));
const results: ChildResult[] = [];
const capped = new Map<string, ChildResult>();
const HEAP_CAP_MB = 96;
try {
  for (const format of ['xml', 'json'] as const) {
    const file = join(dir, `school.${format}`);
    process.stderr.write(`generating the simulator's large school (${format})…\n`);
    generateSimulatorSchool(file, format);
    results.push(parseInChild(`school-${format}`, file));
    capped.set(`school-${format}`, parseInChild(`school-${format}`, file, HEAP_CAP_MB));
  }
  for (const name of Object.keys(BOMBS)) {
    process.stderr.write(`parsing ${name}…\n`);
    results.push(parseInChild(name));
    capped.set(name, parseInChild(name, undefined, HEAP_CAP_MB));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const baseline = results.find((r) => r.name === 'school-xml')!;
const round = (n: number): number => Math.round(n * 100) / 100;
const header = [
  'document',
  'outcome',
  'records',
  'peak RSS MB',
  'peak heap MB',
  'RSS ÷ school-xml',
  `${HEAP_CAP_MB} MB heap: outcome`,
  'peak RSS MB',
];
const table = results.map((r) => [
  r.name,
  r.outcome,
  String(r.records),
  r.peakRssMb.toFixed(0),
  r.peakHeapMb.toFixed(0),
  (r.peakRssMb / baseline.peakRssMb).toFixed(2),
  capped.get(r.name)?.outcome ?? '-',
  capped.get(r.name)?.peakRssMb.toFixed(0) ?? '-',
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const lines = [header, ...table].map((r) =>
  r.map((c, i) => (i < 2 || i === 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
);
if (json) {
  process.stderr.write(lines.join('\n') + '\n');
  const rows = results
    .filter((r) => r.name !== 'school-xml')
    .map((r) => ({
      metric: `${r.name} parse peak RSS`,
      value: round(r.peakRssMb),
      unit: 'MB',
      baseline: round(baseline.peakRssMb),
      ratio: round(r.peakRssMb / baseline.peakRssMb),
      note: `baseline: the simulator's large school (XML) in the same run; ended with ${r.outcome}; peak heap ${r.peakHeapMb.toFixed(0)} MB; with a ${HEAP_CAP_MB} MB heap: ${capped.get(r.name)?.outcome}, peak RSS ${capped.get(r.name)?.peakRssMb.toFixed(0)} MB; lower is better`,
    }));
  process.stdout.write(JSON.stringify({ name: 'isams hostile documents', rows }) + '\n');
} else {
  process.stdout.write(lines.join('\n') + '\n');
}
