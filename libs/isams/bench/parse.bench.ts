/**
 * Parse benchmark: throughput (MB/s) and peak RSS of the streaming parser vs a plain
 * whole-document parse of the same bytes (fast-xml-parser / JSON.parse on the whole string),
 * for a ~50 MB large-school document. Each variant runs in its own child process so peak RSS is
 * not polluted by the others, three times, alternating, and the median run of each is compared (the
 * machines are noisy). `--json` prints one JSON line for tools/bench/run-all.ts.
 *
 *   npx tsx libs/isams/bench/parse.bench.ts [--json] [--mb 50]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { streamBatchDocument } from '../src/parser/stream-batch-document';
import { generateLargeDocument } from './generate-large-document';
import { generateSimulatorSchool } from './simulator-school';

type Variant = 'stream-xml' | 'baseline-xml' | 'stream-json' | 'baseline-json' | 'read-only';
interface ChildResult {
  variant: Variant;
  seconds: number;
  bytes: number;
  records: number;
  peakRssMb: number;
}

const args = process.argv.slice(2);
const argValue = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

async function runChild(variant: Variant, file: string): Promise<void> {
  const bytes = statSync(file).size;
  const started = process.hrtime.bigint();
  let records = 0;
  if (variant === 'read-only') {
    // Runtime floor: node + tsx + reading the bytes, no parsing.
    for await (const _ of createReadStream(file, { highWaterMark: 64 * 1024 })) void _;
  } else if (variant.startsWith('stream')) {
    const format = variant === 'stream-json' ? 'json' : 'xml';
    for await (const e of streamBatchDocument(createReadStream(file, { highWaterMark: 64 * 1024 }), {
      format,
    })) {
      if (e.type === 'record') records++;
    }
  } else if (variant === 'baseline-xml') {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(
      readFileSync(file, 'utf8'),
    );
    records = countRows(doc);
  } else {
    records = countRows(JSON.parse(readFileSync(file, 'utf8')));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const result: ChildResult = { variant, seconds, bytes, records, peakRssMb };
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** Rows = items at depth 4 (iSAMS/Module/Container/Row) — the same thing the streaming parser counts. */
function countRows(doc: Record<string, unknown>): number {
  const asList = (v: unknown): unknown[] =>
    Array.isArray(v) ? v : v === undefined || v === null || v === '' ? [] : [v];
  const values = (v: unknown): unknown[] => (typeof v === 'object' && v !== null ? Object.values(v) : []);
  let n = 0;
  for (const root of asList((doc as { iSAMS?: unknown }).iSAMS)) {
    for (const module of values(root).flatMap(asList)) {
      for (const container of values(module).flatMap(asList)) {
        for (const rows of values(container)) n += asList(rows).length;
      }
    }
  }
  return n;
}

function spawnVariant(variant: Variant, file: string): ChildResult {
  const run = spawnSync(
    process.execPath,
    [...process.execArgv, import.meta.filename, '--child', variant, '--file', file],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  if (run.status !== 0) throw new Error(`${variant} failed (exit ${run.status})`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

async function main(): Promise<void> {
  const child = argValue('--child') as Variant | undefined;
  if (child !== undefined) return runChild(child, argValue('--file')!);
  const json = args.includes('--json');
  const targetMb = Number(argValue('--mb') ?? '50');
  const dir = mkdtempSync(join(tmpdir(), 'isams-bench-'));
  const rows: {
    metric: string;
    value: number;
    unit: string;
    baseline: number;
    ratio: number;
    note: string;
  }[] = [];
  const table: string[][] = [];
  try {
    // Two inputs per format: the simulator's large school (3,000 pupils, 30,000 set-list rows; what
    // a big school really sends) and a ~50 MB synthetic document (shows memory stays bounded).
    const inputs = (['xml', 'json'] as const).flatMap((format) => [
      { format, label: 'large school', make: (file: string) => generateSimulatorSchool(file, format) },
      {
        format,
        label: `~${targetMb} MB`,
        make: (file: string) => generateLargeDocument(file, format, targetMb * 1024 * 1024),
      },
    ]);
    for (const [i, { format, label, make }] of inputs.entries()) {
      const file = join(dir, `doc-${i}.${format}`);
      process.stderr.write(`generating ${label} ${format} document…\n`);
      const generated = await make(file);
      const mb = statSync(file).size / 1024 / 1024;
      process.stderr.write(
        `running stream-${format} and baseline-${format} (${mb.toFixed(1)} MB, ${generated ?? '?'} records)…\n`,
      );
      // Each variant runs RUNS times, alternating, each in a fresh process (a first document, as a
      // connector that just started reads it); the median run of each is compared.
      const runs = { stream: [] as ChildResult[], base: [] as ChildResult[], floor: [] as ChildResult[] };
      for (let r = 0; r < RUNS; r++) {
        runs.stream.push(spawnVariant(`stream-${format}`, file));
        runs.base.push(spawnVariant(`baseline-${format}`, file));
        runs.floor.push(spawnVariant('read-only', file));
      }
      const stream = median(runs.stream);
      const base = median(runs.base);
      const floor = median(runs.floor);
      if (stream.records !== base.records || (generated !== undefined && stream.records !== generated)) {
        throw new Error(
          `record count mismatch: generated ${generated}, stream ${stream.records}, baseline ${base.records}`,
        );
      }
      const baselineName = format === 'xml' ? 'fast-xml-parser whole document' : 'JSON.parse whole document';
      const sMbps = mb / stream.seconds;
      const bMbps = mb / base.seconds;
      const what = `${format} ${label} (${mb.toFixed(1)} MB)`;
      rows.push(
        {
          metric: `${what} parse throughput`,
          value: round(sMbps),
          unit: 'MB/s',
          baseline: round(bMbps),
          ratio: round(sMbps / bMbps),
          note: `baseline: ${baselineName}; median of ${RUNS} runs each, alternating; higher is better`,
        },
        {
          metric: `${what} parse peak RSS`,
          value: round(stream.peakRssMb),
          unit: 'MB',
          baseline: round(base.peakRssMb),
          ratio: round(stream.peakRssMb / base.peakRssMb),
          note: `baseline: ${baselineName}; median run of ${RUNS}; lower is better; runtime floor ${floor.peakRssMb.toFixed(0)} MB`,
        },
      );
      table.push(
        [
          `stream-${format} ${label}`,
          mb.toFixed(1),
          String(stream.records),
          sMbps.toFixed(1),
          stream.peakRssMb.toFixed(0),
        ],
        [
          `baseline-${format} ${label}`,
          mb.toFixed(1),
          String(base.records),
          bMbps.toFixed(1),
          base.peakRssMb.toFixed(0),
        ],
        [
          `read-only-${format} ${label} (floor)`,
          mb.toFixed(1),
          '-',
          (mb / floor.seconds).toFixed(1),
          floor.peakRssMb.toFixed(0),
        ],
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const header = ['variant', 'MB', 'records', 'MB/s', 'peak RSS MB'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const lines = [header, ...table].map((r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
  );
  const ratios = rows.map((r) => `${r.metric}: ×${r.ratio} vs baseline`);
  if (json) {
    process.stderr.write(lines.join('\n') + '\n' + ratios.join('\n') + '\n');
    process.stdout.write(JSON.stringify({ name: 'isams parse', rows }) + '\n');
  } else {
    process.stdout.write(lines.join('\n') + '\n\n' + ratios.join('\n') + '\n');
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** Runs of each variant per input (odd, so the median is one of them). */
const RUNS = 3;

/** The run of median time (its peak RSS with it, as measured in that run). */
function median(results: ChildResult[]): ChildResult {
  return [...results].sort((a, b) => a.seconds - b.seconds)[(results.length - 1) >> 1]!;
}

await main();
