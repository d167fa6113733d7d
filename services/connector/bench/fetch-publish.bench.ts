/**
 * Connector benchmark, large simulated school: fetch (HTTP from the simulator) + stream-parse +
 * spool + publish every chunk and the marker to Kafka, against a baseline measured in the same run:
 * publishing the same number of messages of the same sizes with a bare producer (libs/kafka's
 * `createRawProducer`: acks=all, idempotent, the same batching, nothing else). A second row compares
 * it with its floor: the same document fetched and stream-parsed alone (libs/isams, records only
 * counted) plus that bare publish. The connector publishes as the service does (use-cases/
 * chunk-publishing, a first sync): each dataset once its container is read, while the parse goes
 * on, and the rest after the document; the marker only once the whole document parsed.
 * Each variant runs in its own child process so peak RSS is its own; the connector child also
 * reports its stages' wall times and its CPU time (steadier than wall time on a shared machine).
 * Needs the local Kafka (`KAFKA_BROKERS` or 127.0.0.1:19092); starts the simulator itself.
 *
 *   npx tsx services/connector/bench/fetch-publish.bench.ts [--json] [--quick] [--rounds 2] [--size large] [--chunk-kib 512]
 *
 * Default: the best of 2 rounds; `--quick` (run-all's default mode): 1 round. The connector runs as
 * the service does by default (`CONNECTOR_PARSE_WORKERS`, `DEFAULT_PARSE_WORKERS`: the parse on its
 * one thread), and again with one parse worker thread (started before the clock, as the service
 * starts it with the process) for a row of its own.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createEventProducer,
  createKafkaClient,
  createRawProducer,
  deleteTopics,
  ensureTopics,
} from '@isams-sync/kafka';
import type { KafkaClient, RawRecord } from '@isams-sync/kafka';
import { fetchAndParse } from '@isams-sync/isams';
import { createLogger } from '@isams-sync/logger';
import { CHUNK_ENVELOPE_OVERHEAD_BYTES } from '../src/domain/chunk-plan';
import { fetchToSpool } from '../src/adapters/isams/batch-source';
import { ParseWorkerPool } from '../src/adapters/isams/parse-workers';
import { DEFAULT_PARSE_WORKERS } from '../src/config';
import { KafkaRunPublisher } from '../src/adapters/kafka/run-publisher';
import type { RunRecord } from '../src/domain/run-record';
import { EMPTY_PROGRESS } from '../src/domain/sync-run';
import { RunSpool } from '../src/adapters/spool/run-spool';
import { ChunkPublishing } from '../src/use-cases/chunk-publishing';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const KEY = '{BE4C4BE4-0000-0000-0000-000000000001}';
const repoRoot = resolve(import.meta.dirname, '../../..');
const log = (msg: string) => process.stderr.write(`[connector bench] ${msg}\n`);

const CLIENT = {
  connectTimeoutMs: 10_000,
  readTimeoutMs: 60_000,
  totalTimeoutMs: 600_000,
  maxBytes: 1024 ** 3,
  readAheadBytes: 0,
  retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  // The simulator on loopback: the development setting (CONNECTOR_ALLOW_PRIVATE_EGRESS).
  egress: { allowPrivateAddresses: true, hostSuffixes: [], allowedPorts: [443] },
};

interface ChildResult {
  seconds: number;
  bytes: number;
  messages: number;
  peakRssMb: number;
  docBytes?: number;
  records?: number;
  /**
   * Connector child: fetch + parse + spool (chunks published meanwhile), and what is published after
   * the document (the rest of the chunks + the marker), in seconds.
   */
  fetchSeconds?: number;
  publishSeconds?: number;
  /** CPU time (user + system) of the child's work, in seconds: steadier than wall time on a shared machine. */
  cpuSeconds?: number;
}

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

async function connectorChild(
  url: string,
  topic: string,
  chunkBytes: number,
  sizesFile: string,
  parseWorkers: number,
): Promise<ChildResult> {
  const logger = createLogger({ service: 'connector-bench', level: 'warn' });
  // Started before the clock, as the service starts its pool with the process.
  const pool = parseWorkers > 0 ? new ParseWorkerPool(parseWorkers, logger) : undefined;
  if (pool) await warmUp(pool);
  const kafka = createKafkaClient({ brokers, clientId: 'connector-bench', logger });
  const producer = createEventProducer(kafka, { logger });
  await producer.connect();
  const sizes: number[] = [];
  const counting = {
    ...producer,
    publishRaw: (t: string, msgs: readonly RawRecord[]) => {
      for (const m of msgs) sizes.push(m.value === null ? 0 : Buffer.byteLength(m.value));
      return producer.publishRaw(t, msgs);
    },
  };
  const publisher = new KafkaRunPublisher(counting, { rawDatasets: topic, syncRuns: topic });
  const spoolDir = mkdtempSync(join(tmpdir(), 'connector-bench-'));
  const spool = new RunSpool(spoolDir, 'bench-run');
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  await spool.reset();
  const now = new Date();
  let run: RunRecord = {
    _id: `bench-${Date.now()}`,
    tenantId: 'bench-school',
    status: 'fetching',
    trigger: { kind: 'manual' },
    dryRun: true,
    requestedAt: now,
    fetchStartedAt: now,
    progress: { ...EMPTY_PROGRESS },
    datasets: [],
    absent: [],
    unknownContainers: [],
    findings: [],
    sourceFormat: 'xml',
    sequence: 0,
    updatedAt: now,
  };
  const chunks = new ChunkPublishing({
    publish: (datasets, opts) => publisher.publishChunks(run, datasets, spool, () => undefined, opts),
    differs: () => true,
    signal: new AbortController().signal,
  });
  const result = await fetchToSpool({
    source: { baseUrl: url, apiKey: KEY, format: 'xml' },
    client: CLIENT,
    spool: chunks.guard(spool),
    maxChunkRecordBytes: chunkBytes - CHUNK_ENVELOPE_OVERHEAD_BYTES,
    onDatasetRead: (dataset) => chunks.read(dataset),
    ...(pool ? { parse: pool.parse } : {}),
  });
  const fetched = process.hrtime.bigint();
  run = {
    ...run,
    status: 'fetched',
    fetchedAt: new Date(),
    datasets: result.datasets,
    absent: result.absent,
    unknownContainers: result.unknownContainers,
    findings: result.findings,
  };
  await chunks.finish(run.datasets);
  await publisher.publishMarker(run);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  await spool.remove();
  rmSync(spoolDir, { recursive: true, force: true });
  await producer.disconnect();
  await pool?.close();
  writeFileSync(sizesFile, JSON.stringify(sizes));
  return {
    seconds,
    bytes: sizes.reduce((a, b) => a + b, 0),
    messages: sizes.length + 1,
    peakRssMb: peakRssMb(),
    docBytes: result.bytes,
    records: result.datasets.reduce((n, d) => n + d.recordCount, 0),
    fetchSeconds: Number(fetched - started) / 1e9,
    publishSeconds: seconds - Number(fetched - started) / 1e9,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

/** One tiny document through each worker, so the timed run does not wait for a worker's start. */
async function warmUp(pool: ParseWorkerPool): Promise<void> {
  const doc = Buffer.from('<?xml version="1.0"?><iSAMS><HRManager><CurrentStaff/></HRManager></iSAMS>');
  async function* once(): AsyncGenerator<Uint8Array> {
    yield doc;
  }
  for await (const _ of pool.parse(once(), { format: 'xml' })) void _;
}

/**
 * The fetch stage's floor: the same document fetched and stream-parsed by libs/isams, records only
 * counted (no canonical JSON, fingerprint, spool or publish).
 */
async function fetchParseChild(url: string): Promise<ChildResult> {
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let records = 0;
  let docBytes = 0;
  for await (const ev of fetchAndParse({ ...CLIENT, baseUrl: url, apiKey: KEY, format: 'xml' })) {
    if (ev.type === 'record') records += 1;
    else if (ev.type === 'end') docBytes = ev.bytes;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    bytes: docBytes,
    messages: 0,
    peakRssMb: peakRssMb(),
    docBytes,
    records,
  };
}

async function baselineChild(topic: string, sizesFile: string): Promise<ChildResult> {
  const sizes = JSON.parse(readFileSync(sizesFile, 'utf8')) as number[];
  const client = createKafkaClient({
    brokers,
    clientId: 'connector-bench-baseline',
    logger: createLogger({ service: 'connector-bench-baseline', level: 'silent' }),
  });
  const producer = createRawProducer(client);
  await producer.connect();
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < sizes.length; i += 4) {
    await producer.send(
      topic,
      sizes.slice(i, i + 4).map((n) => ({ key: 'bench-school', value: Buffer.alloc(n, 120) })),
    );
  }
  await producer.send(topic, [{ key: 'bench-school', value: Buffer.alloc(2048, 120) }]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  await producer.disconnect();
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    bytes: sizes.reduce((a, b) => a + b, 0),
    messages: sizes.length + 1,
    peakRssMb: peakRssMb(),
  };
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

function runChild(kind: string, extra: string[]): ChildResult {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, '--child', kind, ...extra],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  if (r.status !== 0) throw new Error(`${kind} child failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

/** In a `--child` process: runs that variant and prints its result as one JSON line; true if it did. */
async function runAsChild(): Promise<boolean> {
  const child = arg('--child');
  if (child === 'connector') {
    process.stdout.write(
      `${JSON.stringify(
        await connectorChild(
          arg('--url')!,
          arg('--topic')!,
          Number(arg('--chunk-bytes')),
          arg('--sizes')!,
          Number(arg('--parse-workers') ?? DEFAULT_PARSE_WORKERS),
        ),
      )}\n`,
    );
    return true;
  }
  if (child === 'fetch-parse') {
    process.stdout.write(`${JSON.stringify(await fetchParseChild(arg('--url')!))}\n`);
    return true;
  }
  if (child === 'baseline') {
    process.stdout.write(`${JSON.stringify(await baselineChild(arg('--topic')!, arg('--sizes')!))}\n`);
    return true;
  }
  return false;
}

/** Waits for the simulator to answer its health check, then creates the benchmark school. */
async function createSchool(url: string, size: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // starting
    }
    if (i > 300) throw new Error('simulator did not start');
    await sleep(100);
  }
  const created = await fetch(`${url}/admin/schools`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ schoolId: 'bench', seed: 42, size, apiKey: KEY }),
  });
  if (!created.ok) throw new Error(`simulator school not created: HTTP ${created.status}`);
}

async function createTopics(admin: KafkaClient, topics: string[]): Promise<void> {
  await ensureTopics(
    admin,
    topics.map((name) => ({
      name,
      partitions: 12,
      replicationFactor: 1,
      configEntries: {},
      keying: 'tenant' as const,
      description: 'benchmark',
    })),
  );
}

/** The best (fastest) result of each variant over the rounds. */
interface BestOfRounds {
  /** The connector as configured by default (`CONNECTOR_PARSE_WORKERS` default). */
  connector: ChildResult;
  /** The connector with one parse worker thread. */
  worker: ChildResult;
  baseline: ChildResult;
  floor: ChildResult;
}

const parsing = (workers: number) =>
  workers === 0 ? 'parse on the main thread' : `${workers} parse worker${workers > 1 ? 's' : ''}`;

/**
 * Each round: the connector child as configured by default (it writes its message sizes to the
 * round's file), the same with one parse worker, the bare publish of those sizes, then the fetch +
 * parse floor; each logged as it ends.
 */
function runRounds(
  rounds: number,
  opts: { url: string; topics: string[]; work: string; size: string; chunkBytes: number },
): BestOfRounds {
  const { url, topics, work, size, chunkBytes } = opts;
  const best: Partial<BestOfRounds> = {};
  const keep = (key: keyof BestOfRounds, r: ChildResult) => {
    if (!best[key] || r.seconds < best[key].seconds) best[key] = r;
  };
  for (let round = 1; round <= rounds; round++) {
    const sizes = join(work, `sizes-${round}.json`);
    for (const [key, workers] of [
      ['connector', DEFAULT_PARSE_WORKERS],
      ['worker', 1],
    ] as const) {
      log(
        `round ${round}/${rounds}: connector fetch+parse+publish (${size} school, ${chunkBytes / 1024} KiB chunks, ${parsing(workers)})`,
      );
      const c = runChild('connector', [
        '--url',
        url,
        '--topic',
        topics[0]!,
        '--chunk-bytes',
        String(chunkBytes),
        '--sizes',
        sizes,
        '--parse-workers',
        String(workers),
      ]);
      log(
        `  ${c.seconds.toFixed(2)} s (fetch+parse+spool, publishing as datasets are read, ${c.fetchSeconds!.toFixed(2)} s, then the rest and the marker ${c.publishSeconds!.toFixed(2)} s; CPU ${c.cpuSeconds!.toFixed(2)} s), ${(c.docBytes! / 1e6).toFixed(1)} MB document, ${c.records} records, ${c.messages} messages, peak RSS ${c.peakRssMb.toFixed(0)} MB`,
      );
      keep(key, c);
    }
    log(`round ${round}/${rounds}: baseline bare publish of the same bytes`);
    const b = runChild('baseline', ['--topic', topics[1]!, '--sizes', sizes]);
    log(
      `  ${b.seconds.toFixed(2)} s (CPU ${b.cpuSeconds!.toFixed(2)} s), peak RSS ${b.peakRssMb.toFixed(0)} MB`,
    );
    keep('baseline', b);
    log(`round ${round}/${rounds}: fetch + stream-parse alone (the fetch stage's floor)`);
    const f = runChild('fetch-parse', ['--url', url]);
    log(`  ${f.seconds.toFixed(2)} s (CPU ${f.cpuSeconds!.toFixed(2)} s), ${f.records} records`);
    keep('floor', f);
  }
  return best as BestOfRounds;
}

function benchResult({ connector: c, worker: w, baseline: b, floor: f }: BestOfRounds) {
  return {
    name: 'connector fetch + parse + publish (large school)',
    rows: [
      {
        metric: 'fetch+parse+spool+publish',
        value: c.seconds,
        unit: 's',
        baseline: b.seconds,
        ratio: c.seconds / b.seconds,
        note: `baseline: bare publish (raw producer) of the same ${c.messages} messages / ${(c.bytes / 1e6).toFixed(1)} MB; ${parsing(DEFAULT_PARSE_WORKERS)} (CONNECTOR_PARSE_WORKERS=${DEFAULT_PARSE_WORKERS}, the default)`,
      },
      {
        metric: 'fetch+parse+spool+publish with one parse worker thread',
        value: w.seconds,
        unit: 's',
        baseline: b.seconds,
        ratio: w.seconds / b.seconds,
        note: `CONNECTOR_PARSE_WORKERS=1: the parse and each record's canonical JSON on a worker thread; CPU ${w.cpuSeconds!.toFixed(2)} s (both threads) against ${c.cpuSeconds!.toFixed(2)} s on one; baseline: the same bare publish`,
      },
      {
        metric: 'fetch+parse+spool+publish vs its floor (fetch+parse alone, then bare publish)',
        value: c.seconds,
        unit: 's',
        baseline: f.seconds + b.seconds,
        ratio: c.seconds / (f.seconds + b.seconds),
        note: `floor: the same document fetched + stream-parsed alone (${f.seconds.toFixed(2)} s, CPU ${f.cpuSeconds!.toFixed(2)} s) plus the bare publish (${b.seconds.toFixed(2)} s); connector CPU ${c.cpuSeconds!.toFixed(2)} s (fetch stage, publishing as datasets are read, ${c.fetchSeconds!.toFixed(2)} s, publish after it ${c.publishSeconds!.toFixed(2)} s wall); lower is better`,
      },
      {
        metric: 'end-to-end throughput (iSAMS document bytes)',
        value: c.docBytes! / 1e6 / c.seconds,
        unit: 'MB/s',
        note: `${(c.docBytes! / 1e6).toFixed(1)} MB XML, ${c.records} records; served from the simulator cache (warmed up before the rounds)`,
      },
      {
        metric: 'peak RSS',
        value: c.peakRssMb,
        unit: 'MB',
        baseline: b.peakRssMb,
        ratio: c.peakRssMb / b.peakRssMb,
        note: 'connector child vs bare-producer child',
      },
    ],
  };
}

/** One JSON line with `--json`, else one line per row. */
function printResult(result: ReturnType<typeof benchResult>): void {
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    for (const r of result.rows)
      process.stdout.write(
        `${`${r.metric}: ${r.value.toFixed(2)} ${r.unit}${r.ratio !== undefined && r.baseline !== undefined ? ` (baseline ${r.baseline.toFixed(2)}, ×${r.ratio.toFixed(2)})` : ''} — ${r.note}`}\n`,
      );
}

async function main(): Promise<void> {
  if (await runAsChild()) return;

  const size = arg('--size') ?? 'large';
  const chunkBytes = Number(arg('--chunk-kib') ?? 512) * 1024;
  const port = await freePort();
  const sim = spawn(process.execPath, ['--import', 'tsx', 'services/isams-simulator/src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, SIM_PORT: String(port), LOG_LEVEL: 'warn', NODE_ENV: 'test' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const work = mkdtempSync(join(tmpdir(), 'connector-bench-'));
  const admin = createKafkaClient({
    brokers,
    clientId: 'connector-bench-admin',
    logger: createLogger({ service: 'connector-bench-admin', level: 'silent' }),
  });
  const topics = [`bench-connector-${Date.now()}`, `bench-baseline-${Date.now()}`];
  try {
    await createSchool(url, size);
    await createTopics(admin, topics);

    // Warm-up: the simulator generates the document on its first request and serves its cached copy
    // after that (as iSAMS does within the key's cache expiry). Without this, the connector's first
    // round paid for the generation while the floor's fetch, after it, got the cached copy, which
    // made the floor look cheaper than it is.
    log('warm-up: one fetch + parse, so every timed fetch is served from the simulator cache');
    runChild('fetch-parse', ['--url', url]);

    // Best of two rounds; one in quick mode (run-all's default), or `--rounds N`.
    const rounds = Number(arg('--rounds') ?? (args.includes('--quick') ? 1 : 2));
    printResult(benchResult(runRounds(rounds, { url, topics, work, size, chunkBytes })));
  } finally {
    await deleteTopics(admin, topics).catch(() => undefined);
    sim.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
