/**
 * `npm run bench`: runs every benchmark script in the repo (`libs/<x>/bench/*.bench.ts`,
 * `services/<x>/bench/*.bench.ts`, `tools/bench/*.bench.ts`), each in its own process, and writes
 * the combined table to docs/benchmarks.md with the machine, versions and date.
 *
 * Contract for a benchmark script: run with `--json`, it prints ONE JSON line on stdout (last line):
 *   {"name": "...", "rows": [{"metric": "...", "value": n, "unit": "...", "baseline": n, "ratio": n, "note": "..."}]}
 * where `ratio` compares against a baseline measured in the same run (these machines are noisy).
 * Progress goes to stderr. `npm run bench -- <filter>` runs only scripts whose path contains <filter>.
 *
 * Quick mode (the default) keeps the whole run bounded (~25 min on the 2-core dev machine): scripts
 * get `--quick` and the sizes in QUICK_ARGS; `npm run bench -- --full` runs every script at its own
 * full default size. One failing or hanging script (timeout SCRIPT_TIMEOUT_MS) does not stop the
 * others; failures are listed in the table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { BenchRow } from '../system-client/bench-output';

interface Result {
  name: string;
  rows: BenchRow[];
}

const root = resolve(import.meta.dirname, '../..');
const cliArgs = process.argv.slice(2);
const full = cliArgs.includes('--full');
const filter = cliArgs.find((a) => !a.startsWith('--'));
const SCRIPT_TIMEOUT_MS = (full ? 90 : 30) * 60_000;
/** Extra arguments per script (repo-relative path) in quick mode; each script's own note says its size. */
const QUICK_ARGS: Record<string, string[]> = {
  // 1,000 removals take ~10 min on FerretDB (no secondary index use); 200 show the same shape.
  'services/bookings/bench/removal-latency.bench.ts': ['--count', '200'],
};

function findBenches(): string[] {
  const found: string[] = [];
  for (const top of ['libs', 'services']) {
    const dir = join(root, top);
    if (!existsSync(dir)) continue;
    for (const pkg of readdirSync(dir)) {
      const benchDir = join(dir, pkg, 'bench');
      if (!existsSync(benchDir)) continue;
      for (const f of readdirSync(benchDir)) if (f.endsWith('.bench.ts')) found.push(join(benchDir, f));
    }
  }
  const toolsDir = join(root, 'tools/bench');
  for (const f of readdirSync(toolsDir)) if (f.endsWith('.bench.ts')) found.push(join(toolsDir, f));
  return found.sort().filter((f) => !filter || f.includes(filter));
}

const benches = findBenches();
if (benches.length === 0) {
  console.log('no benchmark scripts found' + (filter ? ` matching "${filter}"` : ''));
  process.exit(1);
}
console.log(
  `running ${benches.length} benchmark script(s): ${benches.map((b) => relative(root, b)).join(', ')}`,
);

const results: Result[] = [];
const failures: string[] = [];
const timings: string[] = [];
const runStarted = Date.now();
for (const [i, bench] of benches.entries()) {
  const rel = relative(root, bench);
  const extra = full ? [] : ['--quick', ...(QUICK_ARGS[rel] ?? [])];
  console.log(
    `\n▶ [${i + 1}/${benches.length}] ${rel}${extra.length ? ` ${extra.join(' ')}` : ''} (total so far ${((Date.now() - runStarted) / 60_000).toFixed(1)} min)`,
  );
  const started = Date.now();
  const run = spawnSync(join(root, 'node_modules/.bin/tsx'), [bench, '--json', ...extra], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: SCRIPT_TIMEOUT_MS,
    killSignal: 'SIGTERM',
  });
  const seconds = (Date.now() - started) / 1000;
  timings.push(`${rel} ${seconds.toFixed(0)} s`);
  const last = (run.stdout ?? '').trim().split('\n').at(-1) ?? '';
  if (run.error || run.status !== 0) {
    const why = run.error?.message.includes('ETIMEDOUT')
      ? `timed out after ${SCRIPT_TIMEOUT_MS / 60_000} min`
      : run.error
        ? run.error.message
        : `exit ${run.status ?? run.signal}`;
    failures.push(`${rel} (${why})`);
    console.log(`  ✗ failed: ${why} (${seconds.toFixed(1)} s)`);
    continue;
  }
  try {
    const result = JSON.parse(last) as Result;
    results.push(result);
    for (const r of result.rows) {
      const ratio =
        r.ratio !== undefined ? ` · ×${fmt(r.ratio)} vs baseline ${fmt(r.baseline)} ${r.unit}` : '';
      console.log(`  ${r.metric}: ${fmt(r.value)} ${r.unit}${ratio}${r.note ? ` (${r.note})` : ''}`);
    }
    console.log(`  (${seconds.toFixed(1)} s)`);
  } catch {
    failures.push(`${rel} (no JSON result line)`);
    console.log(`  ✗ failed: no JSON result line (${seconds.toFixed(1)} s)`);
  }
}

function fmt(n: number | undefined): string {
  if (n === undefined) return '';
  if (Math.abs(n) >= 100) return n.toFixed(0);
  return Math.abs(n) >= 1 || n === 0 ? n.toFixed(2) : n.toPrecision(3);
}

function versions(): string {
  const pkg = (name: string) => {
    try {
      return (
        spawnSync('node', ['-p', `require('${name}/package.json').version`], {
          cwd: root,
          encoding: 'utf8',
        }).stdout.trim() || '?'
      );
    } catch {
      return '?';
    }
  };
  return `Node ${process.version}, kafkajs ${pkg('kafkajs')}, mongodb driver ${pkg('mongodb')}, Kafka 4.1.1 (local KRaft), FerretDB v1.24.2 (SQLite)`;
}

const lines = [
  '# Benchmarks',
  '',
  'Generated by `npm run bench` — do not edit by hand. Every figure is compared with a baseline measured in',
  'the same run on the same machine (ratio = value ÷ baseline, so for times lower is better and for',
  'throughputs higher is better; each row says which).',
  '',
  `- Date: ${new Date().toISOString()}`,
  `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
  `- Versions: ${versions()}`,
  `- Mode: ${
    full
      ? 'full sizes (`npm run bench -- --full`)'
      : `quick (default; scripts get \`--quick\`${Object.entries(QUICK_ARGS)
          .map(([f, a]) => `, ${f} gets \`${a.join(' ')}\``)
          .join('')}; \`npm run bench -- --full\` for full sizes)`
  }`,
  `- Wall time: ${((Date.now() - runStarted) / 60_000).toFixed(1)} min (${timings.join(', ')})`,
  '',
  '| benchmark | metric | value | baseline | ratio | note |',
  '|---|---|---|---|---|---|',
  ...results.flatMap((r) =>
    r.rows.map(
      (row) =>
        `| ${r.name} | ${row.metric} | ${fmt(row.value)} ${row.unit} | ${row.baseline !== undefined ? `${fmt(row.baseline)} ${row.unit}` : ''} | ${row.ratio !== undefined ? `×${fmt(row.ratio)}` : ''} | ${row.note ?? ''} |`,
    ),
  ),
  '',
];
if (failures.length) lines.push('## Failed benchmark scripts', '', ...failures.map((f) => `- ${f}`), '');
if (!filter) writeFileSync(join(root, 'docs/benchmarks.md'), lines.join('\n'));
console.log(
  `\n${results.length} benchmark script(s) ok, ${failures.length} failed${filter ? '' : ' — table written to docs/benchmarks.md'}`,
);
process.exit(failures.length ? 1 : 0);
