/**
 * `npm run demo` — the whole system on a simulated school, set up by itself:
 *
 *  1. starts the local Kafka + FerretDB (or uses KAFKA_BROKERS/MONGO_URL), the iSAMS simulator with a
 *     generated school, and the connector, roster, bookings and gateway services as processes;
 *  2. configures the school through the gateway's admin API (address + key, test connection) and
 *     runs a first sync;
 *  3. creates a parents' evening with bookings (as the bookings product would, over gRPC);
 *  4. applies term-time changes in the simulator — leavers who have bookings, a joiner, an update —
 *     and syncs again;
 *  5. prints a summary (runs, counts per entity and change, bookings cancelled and why) and keeps the
 *     Data Dashboard up until Ctrl-C. `npm run demo -- --once` exits 0 after the summary (CI uses it).
 *
 * Options: --size small|medium|large (default medium), --once.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Client } from '@grpc/grpc-js';
import { callMetadata, callUnary, createGrpcClient, loadProtoPackage } from '@isams-sync/grpc';
import type { GrpcClientConstructor, UnaryMethod } from '@isams-sync/grpc';
import { startSystem, type RunningSystem } from '@isams-sync/testing';

const root = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const once = args.includes('--once');
const size = (args[args.indexOf('--size') + 1] ?? 'medium') as 'small' | 'medium' | 'large';
const LEAVERS = 3;
const t0 = Date.now();
const say = (line: string) => console.log(`[demo +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);

interface BookingsClient extends Client {
  createEvent: UnaryMethod<object, { id: string; title: string }>;
  createSlots: UnaryMethod<object, { slots: Array<{ id: string }> }>;
  createBooking: UnaryMethod<object, { id: string }>;
  listBookings: UnaryMethod<
    object,
    {
      bookings: Array<{
        id: string;
        pupilId: string;
        status: string;
        cancellation?: { reason: string; personKind: string; personId: string } | null;
      }>;
    }
  >;
}
interface SyncRun {
  syncRunId: string;
  status: string;
  terminal: boolean;
  datasets: Array<{ datasetId: string; recordCount: number; bytes: number; chunkCount: number }>;
  rosterCounts: Record<string, Record<string, number>> | null;
  error: { code: string; message: string; adminAction?: string } | null;
  fetchDurationMs: number;
  heldBatchId: string | null;
}

function infraEndpoints(): { kafkaBrokers: string[]; mongoUrl: string; startedHere: boolean } {
  if (process.env.KAFKA_BROKERS && process.env.MONGO_URL) {
    return {
      kafkaBrokers: process.env.KAFKA_BROKERS.split(','),
      mongoUrl: process.env.MONGO_URL,
      startedHere: false,
    };
  }
  const status = spawnSync('npm', ['run', '-s', 'infra:status'], { cwd: root, encoding: 'utf8' });
  say(
    status.status === 0
      ? 'local Kafka + FerretDB already running'
      : 'starting the local Kafka + FerretDB (first time: provisioning takes a few minutes)…',
  );
  const up = spawnSync('npm', ['run', '-s', 'infra:up', '--', '--json'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (up.status !== 0) throw new Error('could not start the local infrastructure (see the lines above)');
  const e = JSON.parse(up.stdout.trim().split('\n').at(-1)!) as { kafkaBrokers: string; mongoUrl: string };
  return { kafkaBrokers: e.kafkaBrokers.split(','), mongoUrl: e.mongoUrl, startedHere: status.status !== 0 };
}

async function main(): Promise<void> {
  const infra = infraEndpoints();
  say(`starting the simulator and the four services (Kafka ${infra.kafkaBrokers.join(',')})…`);
  const system: RunningSystem = await startSystem({
    infra,
    holdPercent: 10,
    holdMin: 5,
    logLevel: 'warn',
    logDir: resolve(root, '.cache/demo-logs'),
  });
  const cleanup = async () => {
    await system.stop().catch(() => undefined);
    if (infra.startedHere) spawnSync('npm', ['run', '-s', 'infra:down'], { cwd: root, stdio: 'ignore' });
  };
  try {
    await demo(system);
  } catch (err) {
    await cleanup();
    throw err;
  }
  if (once) {
    await cleanup();
    return;
  }
  say(`Data Dashboard: ${system.gatewayUrl}/  — press Ctrl-C to stop`);
  await new Promise<void>((r) => process.once('SIGINT', () => r()));
  say('stopping…');
  await cleanup();
}

async function demo(system: RunningSystem): Promise<void> {
  const schoolId = `demo-${size}`;
  const apiKey = `{${randomUUID().toUpperCase()}}`;
  await system.simulator.createSchool(schoolId, { seed: 42, size, apiKey, cacheMode: 'bypass' });
  say(`simulated iSAMS school "${schoolId}" (${size}) at ${system.simulator.url}`);
  const token = await system.issueToken(schoolId, 'demo admin');
  say('issued a school admin token through the operator endpoint');

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${system.gatewayUrl}/api/v1/schools/${schoolId}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  // Getting Started: address + key → test → save.
  const test = await api<{
    ok: boolean;
    missing: string[];
    datasets: Array<{ recordCount?: number }>;
    durationMs: number;
  }>('POST', '/settings/test', { isamsUrl: system.simulator.url, apiKey });
  say(
    `test connection: ${test.ok ? 'OK' : 'needs attention'}, ${test.datasets.length - test.missing.length} of 14 datasets returned, ${test.durationMs} ms`,
  );
  await api('PUT', '/settings', {
    isamsUrl: system.simulator.url,
    apiKey,
    format: 'xml',
    scheduleMinutes: 60,
    enabled: true,
  });
  say('settings saved (the key is now write-only)');

  const runSync = async (label: string): Promise<SyncRun> => {
    const { run } = await api<{ run: SyncRun }>('POST', '/sync-runs', {
      dryRun: false,
      confirmLiveEvents: true,
    });
    say(`${label}: run ${run.syncRunId} requested`);
    let last = run.status;
    for (;;) {
      const current = await api<SyncRun>('GET', `/sync-runs/${run.syncRunId}`);
      if (current.status !== last) {
        say(`${label}: ${current.status}`);
        last = current.status;
      }
      if (current.terminal) return current;
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const first = await runSync('first sync');
  if (first.status !== 'applied')
    throw new Error(`first sync ended ${first.status}: ${JSON.stringify(first.error)}`);

  // The bookings product sets up a parents' evening and parents book.
  const pkg = loadProtoPackage<{
    isams_sync: { bookings: { v1: { BookingsService: GrpcClientConstructor<BookingsClient> } } };
  }>('isams_sync/bookings/v1/bookings_service.proto');
  const bookings = createGrpcClient(pkg.isams_sync.bookings.v1.BookingsService, system.bookingsAddress, {
    deadlineMs: 15_000,
  });
  const call = <Res>(method: UnaryMethod<object, Res>, req: object) =>
    callUnary(method.bind(bookings), req, callMetadata({ tenantId: schoolId, actor: 'demo' }));
  try {
    const pupils = (
      await api<{ entities: Array<{ entityId: string }> }>('GET', '/roster/pupil?pageSize=20')
    ).entities.slice(0, 8);
    const teacher = (await api<{ entities: Array<{ entityId: string }> }>('GET', '/roster/staff?pageSize=5'))
      .entities[0]!;
    const contacts = (
      await api<{ entities: Array<{ entityId: string; data: { pupils?: Array<{ pupilId: string }> } }> }>(
        'GET',
        '/roster/contact?pageSize=200',
      )
    ).entities;
    const day = new Date(Date.now() + 7 * 86_400_000);
    day.setUTCHours(16, 0, 0, 0);
    const evening = await call(bookings.createEvent, {
      kind: 'parents_evening',
      title: 'Year 9 Parents Evening',
      startsAt: day.toISOString(),
      endsAt: new Date(day.getTime() + 3 * 3_600_000).toISOString(),
      status: 'open',
    });
    const { slots } = await call(bookings.createSlots, {
      eventId: evening.id,
      slots: pupils.map((_p, i) => ({
        startsAt: new Date(day.getTime() + i * 600_000).toISOString(),
        endsAt: new Date(day.getTime() + (i + 1) * 600_000).toISOString(),
        staffId: teacher.entityId,
        capacity: 1,
      })),
    });
    for (const [i, pupil] of pupils.entries()) {
      const contact = contacts.find((c) =>
        (c.data.pupils ?? []).some((l) => String(l.pupilId) === pupil.entityId),
      );
      await call(bookings.createBooking, {
        slotId: slots[i]!.id,
        pupilId: pupil.entityId,
        ...(contact ? { contactId: contact.entityId } : {}),
      });
    }
    say(`"${evening.title}": ${pupils.length} bookings with teacher ${teacher.entityId}`);

    // Term-time changes in iSAMS: leavers who have bookings, a joiner, a change of form.
    const leavers = pupils.slice(0, LEAVERS);
    for (const p of leavers)
      await system.simulator.admin('DELETE', `/admin/schools/${schoolId}/pupils/${p.entityId}`);
    await system.simulator
      .admin('POST', `/admin/schools/${schoolId}/churn`, { leavers: 0, joiners: 2 })
      .catch(() => undefined);
    say(`iSAMS: ${LEAVERS} pupils with bookings left, 2 joined`);

    const second = await runSync('second sync');
    // Cancellations follow the roster events asynchronously.
    let cancelled: Awaited<ReturnType<typeof listCancelled>> = [];
    const listCancelled = async () =>
      (await call(bookings.listBookings, { eventId: evening.id })).bookings.filter(
        (b) => b.status === 'cancelled',
      );
    for (let i = 0; i < 60; i++) {
      cancelled = await listCancelled();
      if (cancelled.length >= LEAVERS) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const unchanged = await runSync('third sync (nothing changed in iSAMS)');

    summary([first, second, unchanged], cancelled, pupils.length);
    if (second.status !== 'applied') throw new Error(`second sync ended ${second.status}`);
    if (cancelled.length !== LEAVERS)
      throw new Error(`expected ${LEAVERS} cancelled bookings, saw ${cancelled.length}`);
    if (unchanged.status !== 'unchanged')
      throw new Error(`third sync ended ${unchanged.status}, expected unchanged`);
  } finally {
    bookings.close();
  }
}

function summary(
  runs: SyncRun[],
  cancelled: Array<{ pupilId: string; cancellation?: { reason: string } | null }>,
  booked: number,
): void {
  console.log('\n================ isams-sync demo summary ================');
  for (const [i, run] of runs.entries()) {
    const records = run.datasets.reduce((n, d) => n + d.recordCount, 0);
    const chunks = run.datasets.reduce((n, d) => n + d.chunkCount, 0);
    console.log(
      `run ${i + 1}: ${run.status.padEnd(9)} ${records} records fetched in ${run.fetchDurationMs} ms, ${chunks} raw-dataset events published`,
    );
    const counts = Object.entries(run.rosterCounts ?? {}).filter(([, c]) =>
      Object.entries(c).some(([k, v]) => k !== 'unchanged' && v > 0),
    );
    for (const [entity, c] of counts) {
      const parts = Object.entries(c)
        .filter(([k, v]) => k !== 'unchanged' && v > 0)
        .map(([k, v]) => `${k} ${v}`);
      console.log(`    ${entity.padEnd(22)} ${parts.join(', ')}`);
    }
  }
  console.log(`bookings: ${booked} made, ${cancelled.length} cancelled`);
  for (const b of cancelled)
    console.log(
      `    pupil ${b.pupilId}: cancelled (${b.cancellation?.reason ?? '?'}: the pupil left the school in iSAMS)`,
    );
  console.log('=========================================================\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[demo] failed: ${err instanceof Error ? err.message : String(err)}`);
    console.error('[demo] service logs: .cache/demo-logs/');
    process.exit(1);
  },
);
