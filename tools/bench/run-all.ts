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
 * Quick mode (the default) keeps a whole run under 10 minutes on the shared 2-core dev machine with
 * one database backend: 4.9 min on 2026-12-03 on PostgreSQL, load average 10 falling to 5.5 (the
 * earlier sizes took ~25 min under heavier load): scripts get `--quick` and the sizes
 * in QUICK_ARGS — every path still runs, on smaller inputs (parse: the simulator's large school and a
 * ~10 MB synthetic document; roster apply: a small school; the connector: one round of the large
 * school; load: 10 schools of all three sizes; e2e-sync: a medium school). `npm run bench -- --full`
 * runs every script at its own full default size plus FULL_ARGS, made explicit: the 200-school load
 * and the large school end to end (e2e-sync), the roster's large school, two connector rounds, the
 * ~50 MB parse (not timed as a whole here; the load alone is capped at 20 min). One failing or hanging script (timeout SCRIPT_TIMEOUT_MS)
 * does not stop the others; failures are listed in the table. In quick mode the e2e sync script cuts a
 * sync that has not ended after 5 minutes (its row says "cut off", a lower bound): FerretDB on SQLite
 * took over 25 minutes on one churn resync, and a `--backend both` run would not end in useful time.
 * A backend whose script was cut off has its FerretDB restarted before the next script (it would
 * otherwise go on with the abandoned write, a core's worth, through the other backend's runs).
 * The table opens with the goals of issue #17 against this run (bench-goals.ts).
 *
 * Database backend: every script gets the same KAFKA_BROKERS + MONGO_URL (from the environment, the
 * running local infra, else `infra:up`), and every row names the backend it ran on (detected with
 * real requests). `--backend sqlite|postgresql|both` instead starts a database-only FerretDB per
 * backend (own state dir `<cache>/bench-<backend>`, ports LOCAL_MONGO_PORT+100/+101 and
 * LOCAL_POSTGRES_PORT+100, wiped afterwards) on the same Kafka and runs each database script on
 * each backend back to back; `--repeat N` repeats every (script, backend) run N times, interleaved,
 * so the table shows the run-to-run noise. With two backends the file gets a side-by-side table.
 *
 * Every run saves its record to `.cache/bench/last-run.json`; `--render <file>` writes
 * docs/benchmarks.md from a saved record without running anything (see bench-report.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { detectServerBackend } from '@isams-sync/mongo';
import { MongoClient } from 'mongodb';
import { loadSettings, MONGO_BACKENDS, parseMongoBackend, type MongoBackend } from '../local-infra/settings';
import { postgresVersion } from '../local-infra/postgres';
import { argValue, type BenchRow } from '../system-client/bench-output';
import { resolveInfra } from '../system-client/infra-endpoints';
import {
  BACKEND_TITLE,
  fmt,
  isCutOff,
  renderReport,
  type BackendLabel,
  type BenchResult,
  type RunRecord,
} from './bench-report';

const root = resolve(import.meta.dirname, '../..');
const cliArgs = process.argv.slice(2);
const full = cliArgs.includes('--full');
const backendArg = argValue(cliArgs, '--backend');
const repeatArg = argValue(cliArgs, '--repeat');
const renderArg = argValue(cliArgs, '--render');
const valueFlags = new Set(['--backend', '--repeat', '--render']);
const docsFile = join(root, 'docs/benchmarks.md');
const recordFile = join(root, '.cache/bench/last-run.json');
if (renderArg !== undefined) {
  writeFileSync(docsFile, renderReport(JSON.parse(readFileSync(renderArg, 'utf8')) as RunRecord));
  console.log(`docs/benchmarks.md written from ${renderArg}`);
  process.exit(0);
}
const filter = cliArgs.find((a, i) => !a.startsWith('--') && !valueFlags.has(cliArgs[i - 1] ?? ''));
const backends: MongoBackend[] | undefined =
  backendArg === undefined
    ? undefined
    : backendArg === 'both'
      ? [...MONGO_BACKENDS]
      : [parseMongoBackend(backendArg, '--backend')];
const repeat = repeatArg === undefined ? 1 : Number(repeatArg);
if (!Number.isInteger(repeat) || repeat < 1 || repeat > 5) {
  console.error(`--repeat must be 1-5, got ${repeatArg}`);
  process.exit(2);
}
const SCRIPT_TIMEOUT_MS = (full ? 90 : 30) * 60_000;
/** Extra arguments per script (repo-relative path) in quick mode; each script's own note says its size. */
const QUICK_ARGS: Record<string, string[]> = {
  // The simulator's large school (XML and JSON) plus a ~10 MB synthetic document instead of ~50 MB:
  // the 50 MB whole-document baselines alone took ~2.5 min.
  'libs/isams/bench/parse.bench.ts': ['--mb', '10'],
  // 1,000 removals take ~10 min on FerretDB (no secondary index use); 200 show the same shape.
  'services/bookings/bench/removal-latency.bench.ts': ['--count', '200'],
  // First sync + no-change resync of a small school (the large one took ~6 min on FerretDB).
  'services/roster/bench/apply.bench.ts': ['--size', 'small'],
};
/** Extra arguments per script in full mode (`--full`), beyond each script's own full default size. */
const FULL_ARGS: Record<string, string[]> = {
  'tools/bench/load-200-schools.bench.ts': ['--schools', '200'],
  'tools/bench/e2e-sync.bench.ts': ['--size', 'large'],
  'services/roster/bench/apply.bench.ts': ['--size', 'large'],
};
/** Scripts that never touch the database: run once per repeat, labelled `none`. */
const DATABASE_FREE = new Set([
  'libs/isams/bench/parse.bench.ts',
  'libs/isams/bench/hostile-documents.bench.ts',
  'services/connector/bench/fetch-publish.bench.ts',
]);

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

interface Target {
  readonly backend: BackendLabel;
  /** Set again when the backend's FerretDB is restarted after a cut-off phase. */
  mongoUrl: string;
}

const tsx = join(root, 'node_modules/.bin/tsx');
const infraCli = join(root, 'tools/local-infra/cli.ts');

/** A database-only local-infra set for one backend, beside (not instead of) the developer's own. */
function benchDatabaseEnv(backend: MongoBackend): NodeJS.ProcessEnv {
  const s = loadSettings(backend);
  return {
    ...process.env,
    LOCAL_INFRA_STATE_DIR: join(s.cacheDir, `bench-${backend}`),
    LOCAL_MONGO_PORT: String(s.mongoPort + 100 + MONGO_BACKENDS.indexOf(backend)),
    LOCAL_POSTGRES_PORT: String(s.postgresPort + 100),
  };
}

function startBenchDatabase(backend: MongoBackend): string {
  console.log(`starting a FerretDB on ${backend} for the benchmarks…`);
  const up = spawnSync(tsx, [infraCli, 'up', '--no-kafka', '--json', '--backend', backend], {
    cwd: root,
    env: benchDatabaseEnv(backend),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (up.status !== 0) throw new Error(`could not start FerretDB on ${backend} (see the lines above)`);
  return (JSON.parse(up.stdout.trim().split('\n').at(-1) ?? '{}') as { mongoUrl: string }).mongoUrl;
}

function stopBenchDatabase(backend: MongoBackend): void {
  spawnSync(tsx, [infraCli, 'down', '--wipe', '--backend', backend], {
    cwd: root,
    env: benchDatabaseEnv(backend),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function backendOf(mongoUrl: string): Promise<BackendLabel> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  try {
    const kind = await detectServerBackend(await client.connect());
    return kind === 'mongodb' ? 'mongodb' : kind === 'ferretdb-sqlite' ? 'sqlite' : 'postgresql';
  } finally {
    await client.close();
  }
}

const infra = resolveInfra((line) => console.log(line));
const kafkaBrokers = infra.kafkaBrokers.join(',');
const started = new Set<MongoBackend>();
const targets: Target[] = [];
try {
  if (backends) {
    for (const backend of backends) {
      started.add(backend);
      targets.push({ backend, mongoUrl: startBenchDatabase(backend) });
    }
  } else {
    targets.push({ backend: await backendOf(infra.mongoUrl), mongoUrl: infra.mongoUrl });
  }
} catch (err) {
  for (const b of started) stopBenchDatabase(b);
  throw err;
}
console.log(
  `Kafka ${kafkaBrokers}; database ${targets.map((t) => `${t.backend} at ${t.mongoUrl}`).join(', ')}`,
);

const results: BenchResult[] = [];
const failures: string[] = [];
const timings = new Map<string, number>();
const loads: number[] = [];
const runStarted = Date.now();
const plan: Array<{ bench: string; target: Target; run: number }> = [];
for (let run = 1; run <= repeat; run++) {
  for (const bench of benches) {
    const rel = relative(root, bench);
    if (DATABASE_FREE.has(rel))
      plan.push({ bench, target: { backend: 'none', mongoUrl: targets[0]!.mongoUrl }, run });
    else for (const target of targets) plan.push({ bench, target, run });
  }
}
for (const [i, { bench, target, run }] of plan.entries()) {
  const rel = relative(root, bench);
  const extra = full ? (FULL_ARGS[rel] ?? []) : ['--quick', ...(QUICK_ARGS[rel] ?? [])];
  const where = `${target.backend === 'none' ? 'no database' : `on ${target.backend}`}${repeat > 1 ? `, run ${run}/${repeat}` : ''}`;
  console.log(
    `\n▶ [${i + 1}/${plan.length}] ${rel}${extra.length ? ` ${extra.join(' ')}` : ''} ${where} (total so far ${((Date.now() - runStarted) / 60_000).toFixed(1)} min, load ${loadavg()[0]!.toFixed(1)})`,
  );
  loads.push(loadavg()[0]!);
  const t0 = Date.now();
  const child = spawnSync(tsx, [bench, '--json', ...extra], {
    cwd: root,
    env: { ...process.env, KAFKA_BROKERS: kafkaBrokers, MONGO_URL: target.mongoUrl },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: SCRIPT_TIMEOUT_MS,
    killSignal: 'SIGTERM',
  });
  const seconds = (Date.now() - t0) / 1000;
  const timingKey = `${rel}${target.backend === 'none' ? '' : ` (${target.backend})`}`;
  timings.set(timingKey, (timings.get(timingKey) ?? 0) + seconds);
  // The result is the last line that is one: with BENCH_LOG_LEVEL=debug a script's in-process
  // services may log JSON lines to stdout after it.
  const last =
    (child.stdout ?? '')
      .trim()
      .split('\n')
      .reverse()
      .find((line) => /^\{"name":.*"rows":\[/.test(line)) ?? '';
  if (child.error || child.status !== 0) {
    const why = child.error?.message.includes('ETIMEDOUT')
      ? `timed out after ${SCRIPT_TIMEOUT_MS / 60_000} min`
      : child.error
        ? child.error.message
        : `exit ${child.status ?? child.signal}`;
    failures.push(`${rel} ${where} (${why})`);
    console.log(`  ✗ failed: ${why} (${seconds.toFixed(1)} s)`);
    continue;
  }
  try {
    const result = JSON.parse(last) as { name: string; rows: BenchRow[] };
    if (!Array.isArray(result.rows)) throw new Error('no rows');
    results.push({ ...result, script: rel, backend: target.backend, run });
    // A phase cut off leaves its database busy with the write the killed service was waiting on
    // (FerretDB/SQLite ground on a churn's bulkWrite for minutes, a core's worth, through the next
    // backend's e2e run): that backend's FerretDB is started afresh before anything else runs.
    if (
      target.backend !== 'none' &&
      started.has(target.backend as MongoBackend) &&
      result.rows.some(isCutOff)
    ) {
      console.log(`  a phase was cut off: restarting the FerretDB on ${target.backend}`);
      stopBenchDatabase(target.backend as MongoBackend);
      target.mongoUrl = startBenchDatabase(target.backend as MongoBackend);
    }
    for (const r of result.rows) {
      const ratio =
        r.ratio !== undefined ? ` · ×${fmt(r.ratio)} vs baseline ${fmt(r.baseline)} ${r.unit}` : '';
      console.log(`  ${r.metric}: ${fmt(r.value)} ${r.unit}${ratio}${r.note ? ` (${r.note})` : ''}`);
    }
    console.log(`  (${seconds.toFixed(1)} s)`);
  } catch {
    failures.push(`${rel} ${where} (no JSON result line)`);
    console.log(`  ✗ failed: no JSON result line (${seconds.toFixed(1)} s)`);
  }
}
for (const b of started) stopBenchDatabase(b);

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
  const used = new Set(targets.map((t) => t.backend));
  const ferret = [
    used.has('sqlite') ? 'SQLite' : '',
    used.has('postgresql') ? `PostgreSQL ${postgresVersion() ?? '?'}` : '',
  ].filter(Boolean);
  const database = used.has('mongodb')
    ? 'MongoDB (from MONGO_URL)'
    : `FerretDB v1.24.2 (${ferret.join(' and ')} backend${ferret.length > 1 ? 's' : ''})`;
  return `Node ${process.version}, kafkajs ${pkg('kafkajs')}, mongodb driver ${pkg('mongodb')}, Kafka 4.1.1 (local KRaft), ${database}`;
}

const record: RunRecord = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
  versions: versions(),
  mode: full
    ? `full sizes (\`npm run bench -- --full\`${Object.entries(FULL_ARGS)
        .map(([f, a]) => `, ${f} gets \`${a.join(' ')}\``)
        .join('')})`
    : `quick (default; scripts get \`--quick\`${Object.entries(QUICK_ARGS)
        .map(([f, a]) => `, ${f} gets \`${a.join(' ')}\``)
        .join('')}; \`npm run bench -- --full\` for full sizes)`,
  database: `${
    backends
      ? `\`--backend ${backendArg}\` — a database-only FerretDB per backend, started for this run on the same Kafka`
      : `${BACKEND_TITLE[targets[0]!.backend]} (detected at ${infra.source === 'environment' ? 'MONGO_URL' : 'the local infrastructure'}); \`npm run bench -- --backend both\` compares the FerretDB backends`
  }${repeat > 1 ? `; every run repeated ${repeat} times (\`--repeat ${repeat}\`)` : ''}`,
  backends: targets.map((t) => t.backend),
  repeat,
  wallMinutes: (Date.now() - runStarted) / 60_000,
  timings: [...timings],
  loads,
  results,
  failures,
};
mkdirSync(join(root, '.cache/bench'), { recursive: true });
writeFileSync(recordFile, JSON.stringify(record, null, 2) + '\n');
if (!filter) writeFileSync(docsFile, renderReport(record));
console.log(
  `\n${results.length} benchmark script(s) ok, ${failures.length} failed${filter ? '' : ' — table written to docs/benchmarks.md'} (record: ${relative(root, recordFile)})`,
);
process.exit(failures.length ? 1 : 0);
