/**
 * Load test: many simulated schools of mixed sizes in ONE simulator, synced by one replica of each
 * service (connector, roster, bookings, gateway) on the real Kafka + FerretDB, driven by the
 * connector's own scheduler.
 *
 * How: every school is configured through the gateway (PUT settings, schedule 60 min — the minimum
 * the API accepts), so the connector gives each school a first due time of "now + its deterministic
 * jitter" (SCHEDULE_JITTER_MS = `spreadSeconds`). The scheduler (tick 5 s; production default 15 s) claims due schools and
 * the connector's work queue runs at most SYNC_CONCURRENCY (`concurrency`) at once; the rest queue.
 * A bare consumer of the system's sync-runs topic records, per school, when its run was requested
 * (scheduler claim), started fetching, and was applied by the roster. The run stops by itself when
 * every school is terminal or at `maxMinutes`; the final state of every school is then read through
 * the gateway (GET /sync-runs).
 *
 * Baseline (same run, after the load): the same documents fetched from the same simulator and
 * stream-parsed alone (no Kafka, no database), with the same concurrency.
 *
 *   npx tsx tools/load/load.ts [--schools 200] [--mix 0.85,0.125,0.025] [--concurrency 4]
 *                              [--spread-seconds 60] [--max-minutes 20] [--json]
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createKafkaClient, tailTopic } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { startSystem, type AdminApiClient, type AdminSyncRun, type RunningSystem } from '@isams-sync/testing';
import { percentile } from '../system-client/bench-output';
import { repoRoot, type InfraEndpoints } from '../system-client/infra-endpoints';
import { peakRssMb } from '../system-client/process-memory';
import { batchUrl, fetchParse } from '../system-client/raw-cost';
import { schoolApiClient } from '../system-client/school-client';

export type SchoolSize = 'small' | 'medium' | 'large';

export interface LoadOptions {
  readonly infra: InfraEndpoints;
  readonly schools: number;
  /** Fractions of small, medium, large schools (the rest of the rounding goes to small). */
  readonly mix: readonly [number, number, number];
  readonly concurrency: number;
  readonly spreadSeconds: number;
  readonly maxMinutes: number;
  readonly log: (line: string) => void;
}

export interface SchoolOutcome {
  schoolId: string;
  size: SchoolSize;
  /** Final status as the gateway reports it (`none` when no run was seen). */
  status: string;
  records: number;
  /** Scheduler claim (run requested) → roster applied, seconds. */
  lagSeconds?: number;
  /** Run requested → fetch started (waiting for a SYNC_CONCURRENCY slot), seconds. */
  queueSeconds?: number;
  /** Settings saved → roster applied (includes the schedule spread), seconds. */
  savedToAppliedSeconds?: number;
}

export interface LoadReport {
  options: Omit<LoadOptions, 'infra' | 'log'>;
  counts: Record<SchoolSize, number>;
  outcomes: SchoolOutcome[];
  applied: number;
  /** First run requested → last run applied, seconds. */
  windowSeconds: number;
  schoolsPerHour: number;
  records: number;
  timedOut: boolean;
  /** Service processes that exited during the load (restarted at once, as an orchestrator would). */
  crashes: Array<{ service: string; atSeconds: number }>;
  peakRssMb: Record<string, number | undefined>;
  baseline: { seconds: number; schoolsPerHour: number; records: number; bytes: number };
}

interface Observed {
  requested?: number;
  fetching?: number;
  terminal?: number;
  terminalStatus?: string;
}

/** The sizes of `n` schools for a mix, deterministic: larger ones spread evenly through the list. */
export function schoolSizes(n: number, mix: readonly [number, number, number]): SchoolSize[] {
  const large = Math.round(n * mix[2]);
  const medium = Math.round(n * mix[1]);
  const sizes: SchoolSize[] = Array.from({ length: n }, () => 'small');
  const place = (count: number, size: SchoolSize, offset: number) => {
    for (let k = 0; k < count; k++) {
      let i = Math.floor(((k + offset) * n) / Math.max(1, count)) % n;
      while (sizes[i] !== 'small') i = (i + 1) % n;
      sizes[i] = size;
    }
  };
  place(large, 'large', 0.5);
  place(medium, 'medium', 0.25);
  return sizes;
}

async function watchRuns(system: RunningSystem, brokers: string[], observed: Map<string, Observed>) {
  const client = createKafkaClient({
    clientId: 'load-watch',
    brokers,
    logger: createLogger({ service: 'load-watch', level: 'silent' }),
  });
  const tail = tailTopic(client, system.topics.runs, (records) => {
    for (const message of records) {
      const tenant = message.key?.toString();
      if (!tenant || !message.value) continue;
      const data = JSON.parse(message.value.toString()) as { status: string; reportedBy: string; at: string };
      const o = observed.get(tenant);
      if (!o) continue;
      const at = Date.parse(data.at);
      if (data.status === 'requested') o.requested ??= at;
      else if (data.status === 'fetching') o.fetching ??= at;
      else if (['applied', 'unchanged', 'held', 'failed', 'cancelled'].includes(data.status)) {
        // The connector also reports the roster's outcome; the first terminal report wins.
        if (o.terminal === undefined) {
          o.terminal = at;
          o.terminalStatus = data.status;
        }
      }
    }
  });
  await tail.ready;
  return tail;
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const { log } = opts;
  const sizes = schoolSizes(opts.schools, opts.mix);
  const counts = { small: 0, medium: 0, large: 0 } as Record<SchoolSize, number>;
  for (const s of sizes) counts[s]++;
  log(`${opts.schools} schools: ${counts.small} small, ${counts.medium} medium, ${counts.large} large`);
  const system = await startSystem({
    infra: opts.infra,
    logLevel: 'warn',
    logDir: resolve(repoRoot, '.cache/load-logs'),
    env: {
      connector: {
        SCHEDULER_ENABLED: 'true',
        SCHEDULER_TICK_MS: '5s',
        SCHEDULE_JITTER_MS: `${opts.spreadSeconds}s`,
        SYNC_CONCURRENCY: String(opts.concurrency),
      },
    },
  });
  const schools = sizes.map((size, i) => ({
    schoolId: `load-${String(i).padStart(3, '0')}-${size}`,
    size,
    apiKey: `{${randomUUID().toUpperCase()}}`,
  }));
  const observed = new Map(schools.map((s) => [s.schoolId, {} as Observed]));
  const saved = new Map<string, number>();
  const clients = new Map<string, AdminApiClient>();
  let consumer: Awaited<ReturnType<typeof watchRuns>> | undefined;
  try {
    consumer = await watchRuns(system, opts.infra.kafkaBrokers, observed);
    log('creating the simulated schools…');
    for (const [i, s] of schools.entries())
      await system.simulator.createSchool(s.schoolId, {
        seed: 1000 + i,
        size: s.size,
        apiKey: s.apiKey,
        cacheMode: 'bypass',
      });
    log('configuring every school through the gateway (token, settings; the scheduler takes it from there)…');
    await pool(schools, 8, async (s) => {
      const client = schoolApiClient(
        system.gatewayUrl,
        s.schoolId,
        await system.issueToken(s.schoolId, 'load'),
      );
      clients.set(s.schoolId, client);
      await client.saveSettings({ isamsUrl: system.simulator.url, apiKey: s.apiKey, scheduleMinutes: 60 });
      saved.set(s.schoolId, Date.now());
    });

    const deadline = Date.now() + opts.maxMinutes * 60_000;
    const loadStarted = Date.now();
    const crashes: LoadReport['crashes'] = [];
    let lastReport = 0;
    let timedOut = false;
    for (;;) {
      for (const [service, proc] of Object.entries(system.processes)) {
        const pid = proc.pid();
        if (pid !== undefined && existsSync(`/proc/${pid}`)) continue;
        crashes.push({ service, atSeconds: (Date.now() - loadStarted) / 1000 });
        log(`  ${service} exited (see ${proc.logFile}); restarting it`);
        await proc.restart().catch((err: unknown) => log(`  ${service} restart failed: ${String(err)}`));
      }
      const done = [...observed.values()].filter((o) => o.terminal !== undefined).length;
      if (done === schools.length) break;
      if (Date.now() > deadline) {
        timedOut = true;
        log(`time cap of ${opts.maxMinutes} min reached with ${done}/${schools.length} schools finished`);
        break;
      }
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        const requested = [...observed.values()].filter((o) => o.requested !== undefined).length;
        log(`  ${done}/${schools.length} finished, ${requested} requested`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const rss = Object.fromEntries(
      Object.entries({ ...system.processes, simulator: system.simulator.process }).map(([n, p]) => [
        n,
        peakRssMb(p.pid()),
      ]),
    );

    log('reading every school’s last run through the gateway…');
    const outcomes: SchoolOutcome[] = [];
    await pool(schools, 2, async (s) => {
      const runs: AdminSyncRun[] = await clients.get(s.schoolId)!.listRuns(1);
      const run = runs[0];
      const o = observed.get(s.schoolId)!;
      const records = run?.datasets.reduce((n, d) => n + d.recordCount, 0) ?? 0;
      const applied = run?.status === 'applied' && o.terminal !== undefined;
      outcomes.push({
        schoolId: s.schoolId,
        size: s.size,
        status: run?.status ?? 'none',
        records,
        ...(applied && o.requested !== undefined ? { lagSeconds: (o.terminal! - o.requested) / 1000 } : {}),
        ...(o.fetching !== undefined && o.requested !== undefined
          ? { queueSeconds: (o.fetching - o.requested) / 1000 }
          : {}),
        ...(applied ? { savedToAppliedSeconds: (o.terminal! - saved.get(s.schoolId)!) / 1000 } : {}),
      });
    });
    outcomes.sort((a, b) => a.schoolId.localeCompare(b.schoolId));
    const appliedOutcomes = outcomes.filter((o) => o.lagSeconds !== undefined);
    const firstRequested = Math.min(...[...observed.values()].map((o) => o.requested ?? Infinity));
    const lastApplied = Math.max(...[...observed.values()].map((o) => o.terminal ?? -Infinity));
    const windowSeconds = (lastApplied - firstRequested) / 1000;

    await consumer.stop();
    consumer = undefined;
    log(
      `baseline: fetch + stream-parse the same ${schools.length} documents alone (concurrency ${opts.concurrency})…`,
    );
    let baseRecords = 0;
    let baseBytes = 0;
    const started = performance.now();
    await pool(schools, opts.concurrency, async (s) => {
      const r = await fetchParse(batchUrl(system.simulator.url, s.apiKey));
      baseRecords += r.records;
      baseBytes += r.bytes;
    });
    const baseSeconds = (performance.now() - started) / 1000;
    return {
      options: {
        schools: opts.schools,
        mix: opts.mix,
        concurrency: opts.concurrency,
        spreadSeconds: opts.spreadSeconds,
        maxMinutes: opts.maxMinutes,
      },
      counts,
      outcomes,
      applied: appliedOutcomes.length,
      windowSeconds,
      schoolsPerHour: windowSeconds > 0 ? (appliedOutcomes.length / windowSeconds) * 3600 : 0,
      records: appliedOutcomes.reduce((n, o) => n + o.records, 0),
      timedOut,
      crashes,
      peakRssMb: rss,
      baseline: {
        seconds: baseSeconds,
        schoolsPerHour: (schools.length / baseSeconds) * 3600,
        records: baseRecords,
        bytes: baseBytes,
      },
    };
  } catch (err) {
    process.stderr.write(`${system.logs()}\n`);
    throw err;
  } finally {
    await consumer?.stop().catch(() => undefined);
    await system.stop().catch(() => undefined);
  }
}

/** Lag distribution (seconds) of the applied schools, overall and per size. */
export function lagSummary(
  report: LoadReport,
): Array<{ group: string; n: number; p50: number; p90: number; p99: number; max: number }> {
  const groups: Array<[string, SchoolOutcome[]]> = [
    ['all', report.outcomes],
    ...(['small', 'medium', 'large'] as const).map((s): [string, SchoolOutcome[]] => [
      s,
      report.outcomes.filter((o) => o.size === s),
    ]),
  ];
  return groups
    .map(([group, list]) => {
      const lags = list
        .flatMap((o) => (o.lagSeconds === undefined ? [] : [o.lagSeconds]))
        .sort((a, b) => a - b);
      return {
        group,
        n: lags.length,
        p50: percentile(lags, 50),
        p90: percentile(lags, 90),
        p99: percentile(lags, 99),
        max: lags.at(-1) ?? Number.NaN,
      };
    })
    .filter((g) => g.n > 0);
}
