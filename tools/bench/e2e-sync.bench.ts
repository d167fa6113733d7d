/**
 * End-to-end sync benchmark through the gateway's HTTP API, one whole system (simulator, connector,
 * roster, bookings, gateway as processes on the real Kafka + FerretDB), one school:
 *
 *  - first sync: trigger (POST /sync-runs) → the gateway reports `applied` (on the run's live events,
 *    `GET …/sync-runs/<id>/events`, as the dashboard follows a run);
 *  - unchanged resync: trigger → `unchanged`;
 *  - 1 % churn resync: the simulator's churn (leavers + joiners ≈ 1 % of pupils each, below the
 *    10 % removal hold) → trigger → `applied`;
 *  - peak RSS of every service process (VmHWM) after the three runs.
 *
 * Baselines, measured in the same run by a bare Node child process (tools/system-client/raw-cost.ts):
 *  - first sync and churn: plain `fetch` of the same document + bare kafkajs produce of the same
 *    number/size of messages + bare `insertMany` of the same record count (churn: of the changed
 *    count) — "the raw cost of moving the same bytes"; ratio = how many times that the system takes;
 *  - their floors (the "against its floor" rows): the work no implementation of the contract avoids,
 *    done bare — the document fetched and stream-parsed (the Batch API has no delta), the raw chunks
 *    produced, the roster's very entity documents written again (read back from its database: all
 *    of them inserted for the first sync; the churn's inserted or replaced by `_id` among them), and
 *    the very records the roster published for the run (state, change and directory events, read
 *    back from its four topics) produced again;
 *  - unchanged resync: the plain fetch alone (the least an unchanged run can do), measured by this
 *    process in pairs with the counted resyncs, the goal's ratio the pairs' median (not by the child:
 *    see the unchanged phase);
 *  - peak RSS: the baseline child's own peak RSS;
 *  - the CPU rows: the machine's CPU time during each sync against its cores for that time, with
 *    each service's share (a profile of where the sync's time went); and the same CPU against the
 *    machine's CPU during the floor's steps done bare, with the budget the goal's time gives the
 *    cores once the floor's work is done (what the services may add, against what they added).
 *
 *   npx tsx tools/bench/e2e-sync.bench.ts [--json] [--size large|medium|small] [--quick] [--phase-limit-s N]
 *
 * Default: a large school (3,000 pupils, ~40,000 records). `--quick` (run-all's default mode): a
 * medium school (1,200 pupils), so that the whole quick bench stays well under 10 minutes with both
 * database backends (on FerretDB/SQLite a large school's churn resync does not end: see the SQLite
 * note below; on PostgreSQL its first sync took 18.6 s in session 51); the row notes name the size used. Endpoints: KAFKA_BROKERS/MONGO_URL, the running local infra, else infra:up.
 *
 * `--phase-limit-s N` (quick mode: 300 by default) cuts a sync that has not ended after N seconds: its
 * row says "cut off" with N as a lower bound, and the phases after it are not run. FerretDB on SQLite
 * took over 25 minutes on the medium school's churn resync (2026-12-03); the limit keeps a
 * `--backend both` run bounded without dropping the rows that did finish.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventuallyTimedOut, startSystem, type AdminSyncRun } from '@isams-sync/testing';
import { BSON, type Document } from 'mongodb';
import {
  argValue,
  emitResult,
  median,
  progress,
  round,
  row,
  type BenchRow,
} from '../system-client/bench-output';
import { SYNC_GOALS } from './bench-goals';
import { isCutOff } from './bench-report';
import { repoRoot, resolveInfra } from '../system-client/infra-endpoints';
import { cpuFloorRow, cpuRow } from '../system-client/cpu-rows';
import {
  peakRssMb,
  startCpuMeter,
  waitForIdleMachine,
  waitForQuiet,
  type CpuUse,
} from '../system-client/process-memory';
import {
  bareInsert,
  bareProduce,
  BARE_WRITES,
  bareReproduce,
  bareWriteDocuments,
  batchUrl,
  fetchParse,
  plainFetch,
  readDocuments,
  readPublished,
  type PublishedRecord,
} from '../system-client/raw-cost';
import { changedCount, runTotals, schoolApiClient, writtenChanges } from '../system-client/school-client';

const args = process.argv.slice(2);
const log = progress('e2e-sync');
const RESULT_NAME = 'end-to-end sync via the gateway';
/**
 * Unchanged resyncs measured, each paired with a plain fetch (a multiple of 4 plus 2 keeps the ABBA
 * order balanced: pairs 1, 4, 5 fetch first; the median of an even count is its upper middle one).
 */
const UNCHANGED_RUNS = 6;

interface BaselineInput {
  url: string;
  brokers: string[];
  mongoUrl: string;
  messages: number;
  bytesEach: number;
  records: number;
  recordBytes: number;
  changed: number;
  /** The churn's changes as written: inserted (added) and replaced (updated, removed). */
  written: { inserted: number; replaced: number };
  /** An EJSON file of {@link StoredEntities}: the roster's entity documents after the runs. */
  entitiesFile: string;
  /** A JSON file of {@link Published}: the records the roster published for each run. */
  publishedFile: string;
}
/** The records the roster published on its four topics for the first sync and the churn resync. */
interface Published {
  first: PublishedRecord[];
  churn: PublishedRecord[];
}
interface BaselineResult {
  fetchSeconds: number;
  produceSeconds: number;
  insertSeconds: number;
  insertChangedSeconds: number;
  writeFirstSeconds: number;
  writeChangedSeconds: number;
  fetchParseSeconds: number;
  republishFirstSeconds: number;
  republishChurnSeconds: number;
  /** The machine's CPU during each floor step (core-seconds; {@link StepCost}), where it could be read. */
  floorCpu: {
    fetchParse?: number | undefined;
    produce?: number | undefined;
    writeFirst?: number | undefined;
    writeChanged?: number | undefined;
    republishFirst?: number | undefined;
    republishChurn?: number | undefined;
  };
  documentBytes: number;
  peakRssMb: number;
}

/** The roster's entity documents of the school after the runs: all of them, and the churn's. */
interface StoredEntities {
  all: Document[];
  churn: Document[];
}
/** The roster's declared index of its `entities` collection (services/roster: roster-store.ts). */
const ENTITY_INDEXES = [{ key: { tenantId: 1, entityType: 1, entityId: 1 } as const, unique: true }];
const INSERTS_PER_COMMAND_NOTE = `into a collection with the roster’s index, ${BARE_WRITES.insertsPerCommand} inserts or ${BARE_WRITES.replacesPerCommand} replaces a command, ${BARE_WRITES.inFlight} commands at once, as the roster writes`;

/** A fresh topic name for one bare produce (each is deleted after it). */
const scratchTopic = () => `bench-baseline-${randomBytes(4).toString('hex')}`;

async function baselineChild(input: BaselineInput): Promise<BaselineResult> {
  // Best of two fetches: the first also warms the simulator's generation of the document.
  const f1 = await plainFetch(input.url);
  const f2 = await plainFetch(input.url);
  const produce = await bareProduce(input.brokers, scratchTopic(), input.messages, input.bytesEach);
  const insert = await bareInsert(input.mongoUrl, input.records, input.recordBytes);
  const insertChanged = await bareInsert(input.mongoUrl, Math.max(1, input.changed), input.recordBytes);
  const entities = BSON.EJSON.parse(readFileSync(input.entitiesFile, 'utf8')) as StoredEntities;
  const writeFirst = await bareWriteDocuments(input.mongoUrl, {
    indexes: ENTITY_INDEXES,
    inserted: entities.all,
  });
  // The churn's written documents: as many inserted (under ids of their own) as it added, as many
  // replaced (a field changed, as an update changes one) as it updated or removed.
  const { inserted, replaced } = input.written;
  const writeChanged = await bareWriteDocuments(input.mongoUrl, {
    indexes: ENTITY_INDEXES,
    stored: entities.all,
    inserted: entities.churn
      .slice(0, inserted)
      .map((d) => ({ ...d, _id: `${String(d._id)}|new`, entityId: `${String(d.entityId)}|new` })),
    replaced: entities.churn
      .slice(inserted, inserted + replaced)
      .map((d) => ({ ...d, changedAt: new Date().toISOString() })),
  });
  const parsed = await fetchParse(input.url);
  const published = JSON.parse(readFileSync(input.publishedFile, 'utf8')) as Published;
  const republishFirst = await bareReproduce(input.brokers, scratchTopic(), published.first);
  const republishChurn = await bareReproduce(input.brokers, scratchTopic(), published.churn);
  return {
    fetchSeconds: Math.min(f1.seconds, f2.seconds),
    produceSeconds: produce.seconds,
    insertSeconds: insert.seconds,
    insertChangedSeconds: insertChanged.seconds,
    writeFirstSeconds: writeFirst.seconds,
    writeChangedSeconds: writeChanged.seconds,
    fetchParseSeconds: parsed.seconds,
    republishFirstSeconds: republishFirst.seconds,
    republishChurnSeconds: republishChurn.seconds,
    floorCpu: {
      fetchParse: parsed.cpuSeconds,
      produce: produce.cpuSeconds,
      writeFirst: writeFirst.cpuSeconds,
      writeChanged: writeChanged.cpuSeconds,
      republishFirst: republishFirst.cpuSeconds,
      republishChurn: republishChurn.cpuSeconds,
    },
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

/** A phase's sync, or `undefined` when it had not ended within the phase limit. */
async function timedSync(
  sync: (timeoutMs: number | undefined) => Promise<{ run: AdminSyncRun; seconds: number }>,
  limitS: number | undefined,
  status: string,
  what: string,
): Promise<{ run: AdminSyncRun; seconds: number } | undefined> {
  try {
    const result = await sync(limitS === undefined ? undefined : limitS * 1000);
    expectStatus(result.run, status, what);
    return result;
  } catch (err) {
    // Only the wait for the run's end ran out (syncAndWait's one `eventually`); anything else fails.
    if (limitS === undefined || !(err instanceof EventuallyTimedOut)) throw err;
    log(`  ${what}: cut off after ${limitS} s (${String(err).slice(0, 160)})`);
    return undefined;
  }
}

function cutOffRow(metric: string, limitS: number, note: string): BenchRow {
  return row(
    metric,
    limitS,
    's',
    undefined,
    `CUT OFF: had not ended after ${limitS} s (--phase-limit-s), so the value is a lower bound and later phases did not run; ${note}`,
  );
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
  const limitArg = argValue(args, '--phase-limit-s') ?? (args.includes('--quick') ? '300' : undefined);
  const phaseLimitS = limitArg === undefined ? undefined : Number(limitArg);
  if (phaseLimitS !== undefined && !(phaseLimitS > 0)) throw new Error(`--phase-limit-s: ${limitArg}`);
  const infra = resolveInfra(log);
  log(`starting the system (Kafka ${infra.kafkaBrokers.join(',')}, ${infra.source})…`);
  const system = await startSystem({
    infra,
    holdPercent: 10,
    holdMin: 5,
    // BENCH_LOG_LEVEL=debug keeps each roster changeset step's duration in .cache/bench-logs (a
    // profile); =info the services' step lines alone, without debug logging's own cost.
    logLevel: ['debug', 'info'].includes(process.env.BENCH_LOG_LEVEL ?? '')
      ? process.env.BENCH_LOG_LEVEL
      : 'warn',
    logDir: resolve(repoRoot, '.cache/bench-logs'),
  });
  const rows: BenchRow[] = [];
  try {
    const schoolId = `bench-${size}`;
    const apiKey = `{${randomUUID().toUpperCase()}}`;
    await system.simulator.createSchool(schoolId, { seed: 42, size, apiKey, cacheMode: 'bypass' });
    const school = schoolApiClient(system.gatewayUrl, schoolId, await system.issueToken(schoolId, 'bench'));
    await school.saveSettings({ isamsUrl: system.simulator.url, apiKey });

    const pids = Object.fromEntries(
      Object.entries({ ...system.processes, simulator: system.simulator.process }).map(([name, p]) => [
        name,
        p.pid(),
      ]),
    );
    log(`first sync of a ${size} school…`);
    const firstMeter = startCpuMeter(pids);
    const first = await timedSync(
      (timeoutMs) => school.syncAndWatch({ timeoutMs, onStatus: (s) => log(`  first sync: ${s}`) }),
      phaseLimitS,
      'applied',
      'first sync',
    );
    if (first === undefined) {
      rows.push(cutOffRow('first sync (trigger → applied)', phaseLimitS!, `${size} school`));
      emitResult(RESULT_NAME, rows, args.includes('--json'));
      return;
    }
    const firstCpu = firstMeter.stop();
    const totals = runTotals(first.run);
    log(
      `  ${first.seconds.toFixed(1)} s, ${totals.records} records, ${(totals.bytes / 1e6).toFixed(1)} MB, ${totals.chunks} chunks`,
    );

    // The services are still working through the first sync's events (the roster publishing them,
    // bookings consuming them): an hourly resync finds them quiet, so the resyncs wait for that.
    const settled = await waitForQuiet(Object.values(system.processes).map((p) => p.pid()));
    const settledNote = settled.quiet
      ? `timed once the services were quiet (${settled.seconds.toFixed(0)} s after the first sync)`
      : `timed with the services still busy ${settled.seconds.toFixed(0)} s after the first sync`;
    log(`  ${settledNote}`);
    // A sub-second run on a noisy machine: the median of UNCHANGED_RUNS runs after one that is not
    // counted (the first takes code paths the first sync did not warm up: the known document, the
    // step to `unchanged`; an hourly resync runs in a process that has). Its baseline is measured in
    // pairs with it: a plain fetch of the same document by this process (warm, as the connector is;
    // the simulator renders the document for both; one fetch not counted either), the pairs' order
    // ABBA (as many fetches before their resync as after), and each of the two timed only once the
    // whole machine is idle — the database, Kafka and this process too — so neither pays for the
    // other's trailing work. The goal's ratio is the median of the pairs' ratios. A fetch timed
    // minutes later by the baseline child (shown in the note) measures the machine at another moment:
    // within one run the same fetch has taken 0.10 and 0.33 s.
    log(
      `unchanged resync, 1 + ${UNCHANGED_RUNS} paired with plain fetches (ABBA), each after the machine is idle…`,
    );
    const documentUrl = batchUrl(system.simulator.url, apiKey);
    let idleWaits = 0;
    let notIdle = 0;
    const idle = async () => {
      idleWaits += 1;
      if (!(await waitForIdleMachine()).quiet) notIdle += 1;
    };
    const unchangedRuns: { run: AdminSyncRun; seconds: number }[] = [];
    const pairedFetches: number[] = [];
    const fetchOnce = async (counted: boolean) => {
      await idle();
      const fetched = (await plainFetch(documentUrl)).seconds;
      if (counted) pairedFetches.push(fetched);
    };
    const fetchFirst = (i: number) => i % 4 === 0 || i % 4 === 3;
    for (let i = -1; i < UNCHANGED_RUNS; i++) {
      if (i < 0 || fetchFirst(i)) await fetchOnce(i >= 0);
      await idle();
      const one = await timedSync(
        (timeoutMs) => school.syncAndWatch({ timeoutMs }),
        phaseLimitS,
        'unchanged',
        'unchanged resync',
      );
      if (one === undefined) break;
      if (i < 0) log(`  not counted: ${one.seconds.toFixed(3)} s`);
      else unchangedRuns.push(one);
      if (i >= 0 && !fetchFirst(i)) await fetchOnce(true);
    }
    const unchanged =
      unchangedRuns.length < UNCHANGED_RUNS ? undefined : median(unchangedRuns.map((r) => r.seconds));
    const unchangedFetch = median(pairedFetches);
    const pairRatios = unchangedRuns.map((r, i) => r.seconds / pairedFetches[i]!);
    const seconds = (values: number[]) => values.map((v) => `${v.toFixed(3)} s`).join(', ');
    const unchangedSeconds = seconds(unchangedRuns.map((r) => r.seconds));
    const idleNote =
      notIdle === 0
        ? `the machine idle before each of the ${idleWaits} measurements`
        : `the machine idle before ${idleWaits - notIdle} of the ${idleWaits} measurements (${notIdle} timed after a 5 s wait without)`;
    const pairNote = `per pair (in order; pairs 1, 4, 5 fetched first) ×${pairRatios.map((r) => r.toFixed(2)).join(', ×')}`;
    if (unchanged !== undefined)
      log(`  ${unchangedSeconds}; plain fetches ${seconds(pairedFetches)}; ${pairNote}; ${idleNote}`);

    const summary = (await system.simulator.admin('GET', `/admin/schools/${schoolId}`)) as {
      rowCounts: Record<string, number>;
    };
    const pupilCount = summary.rowCounts.currentPupils ?? 0;
    const churn = Math.max(1, Math.round(pupilCount / 100));
    let churned: { run: AdminSyncRun; seconds: number } | undefined;
    let churnCpu: CpuUse | undefined;
    if (unchanged !== undefined) {
      await system.simulator.admin('POST', `/admin/schools/${schoolId}/churn`, {
        leavers: churn,
        joiners: churn,
      });
      log(`1 % churn resync (${churn} leavers + ${churn} joiners of ${pupilCount} pupils)…`);
      const churnMeter = startCpuMeter(pids);
      churned = await timedSync(
        (timeoutMs) => school.syncAndWatch({ timeoutMs }),
        phaseLimitS,
        'applied',
        'churn resync',
      );
      churnCpu = churnMeter.stop();
    }
    const changed = churned === undefined ? 0 : changedCount(churned.run);
    const written = churned === undefined ? { inserted: 0, replaced: 0 } : writtenChanges(churned.run);
    if (churned !== undefined) log(`  ${churned.seconds.toFixed(1)} s, ${changed} entities changed`);

    const rss = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, peakRssMb(pid)]));
    // The services (not the simulator the baseline fetches from) stop before the baseline, so a
    // cut-off phase's work does not load the database under it.
    await Promise.all(Object.values(system.processes).map((p) => p.stop(15_000)));
    // What the roster published for each run (every record names its run: `ce_syncrunid`), to be
    // produced again bare: the publishing part of the floors below.
    const { changes, state, changesDirectory, stateDirectory } = system.topics;
    const all = await readPublished(infra.kafkaBrokers, [state, changes, stateDirectory, changesDirectory]);
    const ofRun = (run: AdminSyncRun | undefined) =>
      run === undefined ? [] : all.filter((r) => r.headers.ce_syncrunid === run.syncRunId);
    const published: Published = { first: ofRun(first.run), churn: ofRun(churned?.run) };
    // An applied first sync published its changes: none found means the records were not matched to
    // their run, and a floor without them would be wrong.
    if (published.first.length === 0)
      throw new Error(`no record of the first sync (${first.run.syncRunId}) on the roster's topics`);
    const publishedBytes = (list: PublishedRecord[]) =>
      list.reduce((n, r) => n + Buffer.byteLength(r.value ?? '') + Buffer.byteLength(r.key ?? ''), 0);
    log(
      `  the roster published ${published.first.length} records for the first sync, ${published.churn.length} for the churn (of ${all.length})`,
    );
    // The roster's entity documents of the school (the first sync's, as the churn left them) and the
    // churn's, to be written again bare: the database's part of the floors below.
    const allEntities = await readDocuments(infra.mongoUrl, system.databases.roster, 'entities', {
      tenantId: schoolId,
    });
    const entities: StoredEntities = {
      all: allEntities,
      churn:
        churned === undefined ? [] : allEntities.filter((d) => d.lastSyncRunId === churned.run.syncRunId),
    };
    if (entities.all.length === 0)
      throw new Error(`no entity document of ${schoolId} in the roster's database`);
    const scratchDir = mkdtempSync(join(tmpdir(), 'e2e-sync-bench-'));
    const publishedFile = join(scratchDir, 'published.json');
    writeFileSync(publishedFile, JSON.stringify(published));
    const entitiesFile = join(scratchDir, 'entities.json');
    writeFileSync(entitiesFile, BSON.EJSON.stringify(entities, { relaxed: false }));

    log('baseline: plain fetch + bare produce + bare insertMany of the same sizes (own process)…');
    let base: BaselineResult;
    try {
      base = runBaseline({
        url: batchUrl(system.simulator.url, apiKey),
        brokers: infra.kafkaBrokers,
        mongoUrl: infra.mongoUrl,
        messages: totals.chunks,
        bytesEach: Math.ceil(totals.bytes / Math.max(1, totals.chunks)),
        records: totals.records,
        recordBytes: Math.ceil(totals.bytes / Math.max(1, totals.records)),
        changed,
        written,
        publishedFile,
        entitiesFile,
      });
    } finally {
      rmSync(scratchDir, { recursive: true, force: true });
    }
    log(
      `  fetch ${base.fetchSeconds.toFixed(2)} s, produce ${base.produceSeconds.toFixed(2)} s, insert ${base.insertSeconds.toFixed(2)} s, insert changed ${base.insertChangedSeconds.toFixed(2)} s, the roster's documents: all ${base.writeFirstSeconds.toFixed(2)} s, the churn's among them ${base.writeChangedSeconds.toFixed(2)} s, fetch + parse ${base.fetchParseSeconds.toFixed(2)} s, republish ${base.republishFirstSeconds.toFixed(2)} s / ${base.republishChurnSeconds.toFixed(2)} s`,
    );

    const moveAll = base.fetchSeconds + base.produceSeconds + base.insertSeconds;
    const moveChurn = base.fetchSeconds + base.produceSeconds + base.insertChangedSeconds;
    // The floors: the work no implementation of the contract avoids, done bare — the document fetched
    // and stream-parsed (the Batch API has no delta), the raw chunks produced, the roster's very
    // entity documents written again (a first sync's inserted; a resync's inserted or replaced by
    // `_id` among the school's, as a store of one document per entity must: on FerretDB a document
    // costs by its fields, so flat documents of the same bytes would understate it), and the very
    // records the roster published for the run (state, change and directory events) produced again.
    const floorOf = (writeSeconds: number, republishSeconds: number) =>
      base.fetchParseSeconds + base.produceSeconds + writeSeconds + republishSeconds;
    const floorNote = (
      writes: string,
      writeSeconds: number,
      records: PublishedRecord[],
      republishSeconds: number,
      aside?: string,
    ) =>
      `floor: the document fetched + stream-parsed alone (${base.fetchParseSeconds.toFixed(2)} s) + bare produce of ${totals.chunks} msgs (${base.produceSeconds.toFixed(2)} s) + ${writes} (${writeSeconds.toFixed(2)} s${aside === undefined ? '' : `; ${aside}`}) + bare produce of the ${records.length} records the roster published for the run on its four topics (${mb(publishedBytes(records))} MB, ${republishSeconds.toFixed(2)} s); lower is better`;
    // The document's own size (the plain fetch's body), and its records' size as the connector
    // spools and publishes them (canonical JSON).
    const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
    const what = `${size} school, ${totals.records} records, a ${mb(base.documentBytes)} MB XML document (${mb(totals.bytes)} MB of canonical JSON records)`;
    rows.push(
      row(
        'first sync (trigger → applied)',
        first.seconds,
        's',
        moveAll,
        `${what}; baseline: plain fetch + bare produce of ${totals.chunks} msgs + bare insertMany of ${totals.records} docs; lower is better`,
      ),
      row(
        'first sync (trigger → applied) against its floor',
        first.seconds,
        's',
        floorOf(base.writeFirstSeconds, base.republishFirstSeconds),
        floorNote(
          `the roster's ${entities.all.length} entity documents inserted again bare, ${INSERTS_PER_COMMAND_NOTE}`,
          base.writeFirstSeconds,
          published.first,
          base.republishFirstSeconds,
          `${totals.records} flat documents of the same bytes: ${base.insertSeconds.toFixed(2)} s`,
        ),
      ),
      unchanged === undefined
        ? cutOffRow('unchanged resync (trigger → unchanged)', phaseLimitS!, what)
        : {
            ...row(
              'unchanged resync (trigger → unchanged)',
              unchanged,
              's',
              unchangedFetch,
              `ratio: the median of the ${UNCHANGED_RUNS} pairs’ ratios (value and baseline: the medians of the resyncs and of the fetches); resyncs ${unchangedSeconds} after one not counted, ${settledNote}; each paired with a plain fetch of the same document (${seconds(pairedFetches)}), ${pairNote}; ${idleNote}; the baseline child's best of two fetches, minutes later: ${base.fetchSeconds.toFixed(3)} s; lower is better`,
            ),
            ratio: round(median(pairRatios)),
          },
    );
    if (unchanged !== undefined)
      rows.push(
        churned === undefined
          ? cutOffRow(
              '1 % churn resync (trigger → applied)',
              phaseLimitS!,
              `${churn} leavers + ${churn} joiners`,
            )
          : row(
              '1 % churn resync (trigger → applied)',
              churned.seconds,
              's',
              moveChurn,
              `${churn} leavers + ${churn} joiners, ${changed} entities changed; baseline: plain fetch + bare produce + bare insertMany of ${changed} docs; lower is better`,
            ),
      );
    if (churned !== undefined)
      rows.push(
        row(
          '1 % churn resync (trigger → applied) against its floor',
          churned.seconds,
          's',
          floorOf(base.writeChangedSeconds, base.republishChurnSeconds),
          floorNote(
            `the churn's entity documents written again bare among the school's ${entities.all.length}: ${written.inserted} inserted (as many as it added), ${written.replaced} replaced by _id (as many as it updated or removed), ${INSERTS_PER_COMMAND_NOTE}`,
            base.writeChangedSeconds,
            published.churn,
            base.republishChurnSeconds,
          ),
        ),
      );
    const { floorCpu } = base;
    rows.push(
      ...cpuRow('first sync (trigger → applied)', firstCpu),
      ...cpuFloorRow(
        'first sync (trigger → applied)',
        firstCpu,
        {
          'fetch + parse': floorCpu.fetchParse,
          produce: floorCpu.produce,
          writes: floorCpu.writeFirst,
          republish: floorCpu.republishFirst,
        },
        { ratio: SYNC_GOALS.firstSync, seconds: SYNC_GOALS.firstSync * moveAll },
      ),
    );
    if (churned !== undefined)
      rows.push(
        ...cpuRow('1 % churn resync (trigger → applied)', churnCpu),
        ...cpuFloorRow(
          '1 % churn resync (trigger → applied)',
          churnCpu,
          {
            'fetch + parse': floorCpu.fetchParse,
            produce: floorCpu.produce,
            writes: floorCpu.writeChanged,
            republish: floorCpu.republishChurn,
          },
          { ratio: SYNC_GOALS.churn, seconds: SYNC_GOALS.churn * moveChurn },
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
          'VmHWM after the runs; baseline: peak RSS of the bare Node process that moved the same bytes; lower is better',
        ),
      );
    }
  } catch (err) {
    process.stderr.write(`${system.logs()}\n`);
    throw err;
  } finally {
    // After a cut-off the write the killed roster was waiting on may still run inside FerretDB, and
    // dropping a database FerretDB/SQLite is reading crashes it (SIGBUS; docs/local-infra.md), which
    // took the next script's database down with it: the databases are left to the instance's wipe.
    const cutOff = rows.some(isCutOff);
    if (cutOff) log(`  cut off: databases left in place (${Object.values(system.databases).join(', ')})`);
    await system.stop({ keepDatabases: cutOff }).catch(() => undefined);
  }
  emitResult(RESULT_NAME, rows, args.includes('--json'));
}

await main();
