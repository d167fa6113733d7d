/**
 * Parse benchmark: throughput (MB/s) and peak RSS of the streaming parser vs a plain
 * whole-document parse of the same bytes (fast-xml-parser / JSON.parse on the whole string),
 * for a ~50 MB large-school document. Each variant runs in its own child process so peak RSS is
 * not polluted by the others, three times, alternating, and the median run of each is compared (the
 * machines are noisy). JSON is measured a second way too: each variant parses the document five
 * times in one process and the last three count — the throughput of a running connector, where the
 * fresh-process rows include V8 optimising the reader's code on the first megabytes. `--json`
 * prints one JSON line for tools/bench/run-all.ts.
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

type Format = 'xml' | 'json';
type Variant =
  | `stream-${Format}`
  | `baseline-${Format}`
  | 'read-only'
  | `warm-stream-${Format}`
  | `warm-baseline-${Format}`;
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

/** One parse of the document by `variant` (a parser, or the bytes only read); its record count. */
async function parseOnce(variant: Variant, file: string): Promise<number> {
  let records = 0;
  if (variant === 'read-only') {
    // Runtime floor: node + tsx + reading the bytes, no parsing.
    for await (const _ of createReadStream(file, { highWaterMark: 64 * 1024 })) void _;
  } else if (variant.includes('stream-')) {
    const format = variant.endsWith('json') ? 'json' : 'xml';
    for await (const e of streamBatchDocument(createReadStream(file, { highWaterMark: 64 * 1024 }), {
      format,
    })) {
      if (e.type === 'record') records++;
    }
  } else if (variant.endsWith('xml')) {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(
      readFileSync(file, 'utf8'),
    );
    records = countRows(doc);
  } else {
    records = countRows(JSON.parse(readFileSync(file, 'utf8')));
  }
  return records;
}

/**
 * A child's measurement: one parse in a fresh process (a connector that has just started), or for a
 * `warm-` variant the median of the parses after {@link WARM_UP} in one process (a connector's steady
 * state: it reads every school's document every hour, its code long optimised by V8).
 */
async function runChild(variant: Variant, file: string): Promise<void> {
  const bytes = statSync(file).size;
  const times: number[] = [];
  let records = 0;
  const parses = variant.startsWith('warm-') ? WARM_UP + WARM_RUNS : 1;
  for (let i = 0; i < parses; i++) {
    const started = process.hrtime.bigint();
    records = await parseOnce(variant, file);
    times.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  const measured = times.slice(parses === 1 ? 0 : WARM_UP).sort((a, b) => a - b);
  const seconds = measured[(measured.length - 1) >> 1]!;
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
      // JSON (issue #17's goal): also the steady state, each variant warmed up in a process of its own.
      const warm = { stream: [] as ChildResult[], base: [] as ChildResult[] };
      if (format === 'json')
        for (let r = 0; r < RUNS; r++) {
          warm.stream.push(spawnVariant(`warm-stream-${format}`, file));
          warm.base.push(spawnVariant(`warm-baseline-${format}`, file));
        }
      if (stream.records !== base.records || (generated !== undefined && stream.records !== generated)) {
        throw new Error(
          `record count mismatch: generated ${generated}, stream ${stream.records}, baseline ${base.records}`,
        );
      }
      const baselineName = format === 'xml' ? 'fast-xml-parser whole document' : 'JSON.parse whole document';
      const sMbps = mb / stream.seconds;
      const bMbps = mb / base.seconds;
      const what = `${format} ${label} (${mb.toFixed(1)} MB)`;
      if (format === 'json') {
        const ws = median(warm.stream);
        const wb = median(warm.base);
        if (ws.records !== base.records || wb.records !== base.records)
          throw new Error(`record count mismatch (warm): stream ${ws.records}, baseline ${wb.records}`);
        rows.push({
          metric: `${what} parse throughput, warmed up`,
          value: round(mb / ws.seconds),
          unit: 'MB/s',
          baseline: round(mb / wb.seconds),
          ratio: round(wb.seconds / ws.seconds),
          note: `baseline: ${baselineName}; each in a process of its own, the median of ${WARM_RUNS} parses after ${WARM_UP} not counted (the steady state of a running connector), median of ${RUNS} such processes each, alternating; higher is better`,
        });
        table.push(
          [
            `warm-stream-${format} ${label}`,
            mb.toFixed(1),
            String(ws.records),
            (mb / ws.seconds).toFixed(1),
            '-',
          ],
          [
            `warm-baseline-${format} ${label}`,
            mb.toFixed(1),
            String(wb.records),
            (mb / wb.seconds).toFixed(1),
            '-',
          ],
        );
      }
      rows.push(
        {
          metric: `${what} parse throughput`,
          value: round(sMbps),
          unit: 'MB/s',
          baseline: round(bMbps),
          ratio: round(sMbps / bMbps),
          note: `baseline: ${baselineName}; each run a fresh process (its first document: V8 has not optimised the reader yet); median of ${RUNS} runs each, alternating; higher is better`,
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
/** Parses a warm child does before it counts (V8 optimises the reader's code over the first ones). */
const WARM_UP = 2;
/** Parses a warm child counts (odd). */
const WARM_RUNS = 3;

/** The run of median time (its peak RSS with it, as measured in that run). */
function median(results: ChildResult[]): ChildResult {
  return [...results].sort((a, b) => a.seconds - b.seconds)[(results.length - 1) >> 1]!;
}

await main();
