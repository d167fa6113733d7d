/**
 * End-to-end sync benchmark through the gateway's HTTP API, one whole system (simulator, connector,
 * roster, bookings, gateway as processes on the real Kafka + FerretDB), one school:
 *
 *  - first sync: trigger (POST /sync-runs) → the gateway reports `applied`;
 *  - unchanged resync: trigger → `unchanged`;
 *  - 1 % churn resync: the simulator's churn (leavers + joiners ≈ 1 % of pupils each, below the
 *    10 % removal hold) → trigger → `applied`;
 *  - peak RSS of every service process (VmHWM) after the three runs.
 *
 * Baselines, measured in the same run by a bare Node child process (tools/system-client/raw-cost.ts):
 *  - first sync and churn: plain `fetch` of the same document + bare kafkajs produce of the same
 *    number/size of messages + bare `insertMany` of the same record count (churn: of the changed
 *    count) — "the raw cost of moving the same bytes"; ratio = how many times that the system takes;
 *  - unchanged resync: the plain fetch alone (the least an unchanged run can do);
 *  - peak RSS: the baseline child's own peak RSS.
 *
 *   npx tsx tools/bench/e2e-sync.bench.ts [--json] [--size large|medium|small] [--quick]
 *
 * Default: a large school (3,000 pupils, ~40,000 records). `--quick` (run-all's default mode): a
 * medium school (1,200 pupils), because a large first sync + churn resync takes ~20 minutes on the
 * shared machine's FerretDB; the row notes name the size used. Endpoints: KAFKA_BROKERS/MONGO_URL, the running local infra, else infra:up.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { startSystem, type AdminSyncRun } from '@isams-sync/testing';
import { argValue, emitResult, progress, row, type BenchRow } from '../system-client/bench-output';
import { repoRoot, resolveInfra } from '../system-client/infra-endpoints';
import { peakRssMb } from '../system-client/process-memory';
import { bareInsert, bareProduce, batchUrl, plainFetch } from '../system-client/raw-cost';
import { changedCount, runTotals, schoolApiClient } from '../system-client/school-client';

const args = process.argv.slice(2);
const log = progress('e2e-sync');

interface BaselineInput {
  url: string;
  brokers: string[];
  mongoUrl: string;
  messages: number;
  bytesEach: number;
  records: number;
  recordBytes: number;
  changed: number;
}
interface BaselineResult {
  fetchSeconds: number;
  produceSeconds: number;
  insertSeconds: number;
  insertChangedSeconds: number;
  documentBytes: number;
  peakRssMb: number;
}

async function baselineChild(input: BaselineInput): Promise<BaselineResult> {
  // Best of two fetches: the first also warms the simulator's generation of the document.
  const f1 = await plainFetch(input.url);
  const f2 = await plainFetch(input.url);
  const produce = await bareProduce(
    input.brokers,
    `bench-baseline-${randomBytes(4).toString('hex')}`,
    input.messages,
    input.bytesEach,
  );
  const insert = await bareInsert(input.mongoUrl, input.records, input.recordBytes);
  const insertChanged = await bareInsert(input.mongoUrl, Math.max(1, input.changed), input.recordBytes);
  return {
    fetchSeconds: Math.min(f1.seconds, f2.seconds),
    produceSeconds: produce.seconds,
    insertSeconds: insert.seconds,
    insertChangedSeconds: insertChanged.seconds,
    documentBytes: Buffer.byteLength(f2.text),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

function runBaseline(input: BaselineInput): BaselineResult {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, '--child', JSON.stringify(input)],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  if (r.status !== 0) throw new Error(`baseline child failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as BaselineResult;
}

function expectStatus(run: AdminSyncRun, status: string, what: string): void {
  if (run.status !== status)
    throw new Error(`${what} ended ${run.status}, expected ${status}: ${JSON.stringify(run.error)}`);
}

async function main(): Promise<void> {
  const child = argValue(args, '--child');
  if (child !== undefined) {
    process.stdout.write(`${JSON.stringify(await baselineChild(JSON.parse(child) as BaselineInput))}\n`);
    return;
  }
  // Quick mode (run-all's default) uses a medium school so the whole `npm run bench` stays bounded.
  const size = (argValue(args, '--size') ?? (args.includes('--quick') ? 'medium' : 'large')) as
    'small' | 'medium' | 'large';
  const infra = resolveInfra(log);
  log(`starting the system (Kafka ${infra.kafkaBrokers.join(',')}, ${infra.source})…`);
  const system = await startSystem({
    infra,
    holdPercent: 10,
    holdMin: 5,
    // BENCH_LOG_LEVEL=debug keeps each roster changeset step's duration in .cache/bench-logs (a profile).
    logLevel: process.env.BENCH_LOG_LEVEL === 'debug' ? 'debug' : 'warn',
    logDir: resolve(repoRoot, '.cache/bench-logs'),
  });
  const rows: BenchRow[] = [];
  try {
    const schoolId = `bench-${size}`;
    const apiKey = `{${randomUUID().toUpperCase()}}`;
    await system.simulator.createSchool(schoolId, { seed: 42, size, apiKey, cacheMode: 'bypass' });
    const school = schoolApiClient(system.gatewayUrl, schoolId, await system.issueToken(schoolId, 'bench'));
    await school.saveSettings({ isamsUrl: system.simulator.url, apiKey });

    log(`first sync of a ${size} school…`);
    const first = await school.syncAndWait({ onStatus: (s) => log(`  first sync: ${s}`) });
    expectStatus(first.run, 'applied', 'first sync');
    const totals = runTotals(first.run);
    log(
      `  ${first.seconds.toFixed(1)} s, ${totals.records} records, ${(totals.bytes / 1e6).toFixed(1)} MB, ${totals.chunks} chunks`,
    );

    log('unchanged resync…');
    const unchanged = await school.syncAndWait();
    expectStatus(unchanged.run, 'unchanged', 'unchanged resync');
    log(`  ${unchanged.seconds.toFixed(1)} s`);

    const summary = (await system.simulator.admin('GET', `/admin/schools/${schoolId}`)) as {
      rowCounts: Record<string, number>;
    };
    const pupilCount = summary.rowCounts.currentPupils ?? 0;
    const churn = Math.max(1, Math.round(pupilCount / 100));
    await system.simulator.admin('POST', `/admin/schools/${schoolId}/churn`, {
      leavers: churn,
      joiners: churn,
    });
    log(`1 % churn resync (${churn} leavers + ${churn} joiners of ${pupilCount} pupils)…`);
    const churned = await school.syncAndWait();
    expectStatus(churned.run, 'applied', 'churn resync');
    const changed = changedCount(churned.run);
    log(`  ${churned.seconds.toFixed(1)} s, ${changed} entities changed`);

    const rss = Object.fromEntries(
      Object.entries({ ...system.processes, simulator: system.simulator.process }).map(([name, p]) => [
        name,
        peakRssMb(p.pid()),
      ]),
    );

    log('baseline: plain fetch + bare produce + bare insertMany of the same sizes (own process)…');
    const base = runBaseline({
      url: batchUrl(system.simulator.url, apiKey),
      brokers: infra.kafkaBrokers,
      mongoUrl: infra.mongoUrl,
      messages: totals.chunks,
      bytesEach: Math.ceil(totals.bytes / Math.max(1, totals.chunks)),
      records: totals.records,
      recordBytes: Math.ceil(totals.bytes / Math.max(1, totals.records)),
      changed,
    });
    log(
      `  fetch ${base.fetchSeconds.toFixed(2)} s, produce ${base.produceSeconds.toFixed(2)} s, insert ${base.insertSeconds.toFixed(2)} s, insert changed ${base.insertChangedSeconds.toFixed(2)} s`,
    );

    const moveAll = base.fetchSeconds + base.produceSeconds + base.insertSeconds;
    const moveChurn = base.fetchSeconds + base.produceSeconds + base.insertChangedSeconds;
    const what = `${size} school, ${totals.records} records, ${(totals.bytes / 1e6).toFixed(1)} MB XML`;
    rows.push(
      row(
        'first sync (trigger → applied)',
        first.seconds,
        's',
        moveAll,
        `${what}; baseline: plain fetch + bare produce of ${totals.chunks} msgs + bare insertMany of ${totals.records} docs; lower is better`,
      ),
      row(
        'unchanged resync (trigger → unchanged)',
        unchanged.seconds,
        's',
        base.fetchSeconds,
        'baseline: plain fetch of the same document; lower is better',
      ),
      row(
        '1 % churn resync (trigger → applied)',
        churned.seconds,
        's',
        moveChurn,
        `${churn} leavers + ${churn} joiners, ${changed} entities changed; baseline: plain fetch + bare produce + bare insertMany of ${changed} docs; lower is better`,
      ),
    );
    for (const [name, mb] of Object.entries(rss)) {
      if (mb === undefined) continue;
      rows.push(
        row(
          `peak RSS ${name}`,
          mb,
          'MB',
          base.peakRssMb,
          'VmHWM after the three runs; baseline: peak RSS of the bare Node process that moved the same bytes; lower is better',
        ),
      );
    }
  } catch (err) {
    process.stderr.write(`${system.logs()}\n`);
    throw err;
  } finally {
    await system.stop().catch(() => undefined);
  }
  emitResult('end-to-end sync via the gateway', rows, args.includes('--json'));
}

await main();
