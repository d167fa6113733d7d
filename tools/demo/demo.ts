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
 *     Data Dashboard up until Ctrl-C, with a sign-in link for the demo school's admin (a token issued
 *     through the gateway's operator listener, carried in the link's fragment).
 *     `npm run demo -- --once` exits 0 after the summary (CI uses it).
 *
 * Options: see DEMO_USAGE (`npm run demo -- --help`).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { dashboardSignInUrl, startSystem, type AdminSyncRun, type RunningSystem } from '@isams-sync/testing';
import { createSchoolBookings, type BookingView } from '../system-client/bookings-client';
import { repoRoot as root, resolveInfra } from '../system-client/infra-endpoints';
import { runTotals, schoolApiClient } from '../system-client/school-client';
import { DEMO_USAGE, DemoUsageError, parseDemoArgs, type DemoOptions } from './demo-args';

let options: DemoOptions;
try {
  options = parseDemoArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof DemoUsageError)) throw err;
  console.error(`[demo] ${err.message}\n\n${DEMO_USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(DEMO_USAGE);
  process.exit(0);
}
const { once, size } = options;
const LEAVERS = 3;
const t0 = Date.now();
const say = (line: string) => console.log(`[demo +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);

async function main(): Promise<void> {
  const infra = resolveInfra(say);
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
    if (infra.source === 'started')
      spawnSync('npm', ['run', '-s', 'infra:down'], { cwd: root, stdio: 'ignore' });
  };
  let adminToken: string;
  try {
    adminToken = await demo(system);
  } catch (err) {
    await cleanup();
    throw err;
  }
  if (once) {
    await cleanup();
    return;
  }
  say(`Data Dashboard: ${system.gatewayUrl}/`);
  say(`sign in as the demo school's admin: ${dashboardSignInUrl(system.gatewayUrl, adminToken)}`);
  say("(the token is in the link's #fragment: it is never sent to the server; press Ctrl-C to stop)");
  await new Promise<void>((r) => process.once('SIGINT', () => r()));
  say('stopping…');
  await cleanup();
}

/** Runs the demo story; returns the school admin token it issued (for the sign-in link). */
async function demo(system: RunningSystem): Promise<string> {
  const schoolId = `demo-${size}`;
  const apiKey = `{${randomUUID().toUpperCase()}}`;
  await system.simulator.createSchool(schoolId, { seed: 42, size, apiKey, cacheMode: 'bypass' });
  say(`simulated iSAMS school "${schoolId}" (${size}) at ${system.simulator.url}`);
  const adminToken = await system.issueToken(schoolId, 'demo admin');
  const school = schoolApiClient(system.gatewayUrl, schoolId, adminToken);
  say('issued a school admin token through the operator endpoint');

  // Getting Started: address + key → test → save.
  const test = await school.call<{ ok: boolean; missing: string[]; datasets: unknown[]; durationMs: number }>(
    'POST',
    '/settings/test',
    { isamsUrl: system.simulator.url, apiKey },
  );
  say(
    `test connection: ${test.ok ? 'OK' : 'needs attention'}, ${test.datasets.length - test.missing.length} of 14 datasets returned, ${test.durationMs} ms`,
  );
  await school.saveSettings({ isamsUrl: system.simulator.url, apiKey });
  say('settings saved (the key is now write-only)');

  const sync = async (label: string): Promise<AdminSyncRun> => {
    const { run } = await school.syncAndWait({
      intervalMs: 500,
      onStatus: (status) => say(`${label}: ${status}`),
    });
    return run;
  };
  const first = await sync('first sync');
  if (first.status !== 'applied')
    throw new Error(`first sync ended ${first.status}: ${JSON.stringify(first.error)}`);

  // The bookings product sets up a parents' evening and parents book (pupils who have a contact).
  const bookings = createSchoolBookings(system, schoolId, 'demo');
  try {
    const pupils = (
      await school.call<{ entities: Array<{ entityId: string }> }>('GET', '/roster/pupil?pageSize=50')
    ).entities;
    const teacher = (
      await school.call<{ entities: Array<{ entityId: string }> }>('GET', '/roster/staff?pageSize=5')
    ).entities[0]!;
    const contacts = (
      await school.call<{
        entities: Array<{ entityId: string; data: { pupils?: Array<{ pupilId: string }> } }>;
      }>('GET', '/roster/contact?pageSize=200')
    ).entities;
    const booked = pupils
      .map((p) => ({
        pupilId: p.entityId,
        contactId: contacts.find((c) => (c.data.pupils ?? []).some((l) => String(l.pupilId) === p.entityId))
          ?.entityId,
      }))
      .filter((b): b is { pupilId: string; contactId: string } => b.contactId !== undefined)
      .slice(0, 8);
    const { eventId } = await bookings.bookEvening(booked, teacher.entityId);
    say(`parents' evening: ${booked.length} bookings with teacher ${teacher.entityId}`);

    // Term-time changes in iSAMS: leavers who have bookings, and joiners.
    for (const b of booked.slice(0, LEAVERS))
      await system.simulator.admin('DELETE', `/admin/schools/${schoolId}/pupils/${b.pupilId}`);
    await system.simulator.admin('POST', `/admin/schools/${schoolId}/churn`, { leavers: 0, joiners: 2 });
    say(`iSAMS: ${LEAVERS} pupils with bookings left, 2 joined`);

    const second = await sync('second sync');
    // Cancellations follow the roster events asynchronously.
    let cancelled: BookingView[] = [];
    for (let i = 0; i < 60; i++) {
      cancelled = (await bookings.listBookings(eventId)).filter((b) => b.status === 'cancelled');
      if (cancelled.length >= LEAVERS) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const unchanged = await sync('third sync (nothing changed in iSAMS)');

    summary([first, second, unchanged], cancelled, booked.length);
    if (second.status !== 'applied') throw new Error(`second sync ended ${second.status}`);
    if (cancelled.length !== LEAVERS)
      throw new Error(`expected ${LEAVERS} cancelled bookings, saw ${cancelled.length}`);
    if (unchanged.status !== 'unchanged')
      throw new Error(`third sync ended ${unchanged.status}, expected unchanged`);
  } finally {
    bookings.close();
  }
  return adminToken;
}

function summary(runs: AdminSyncRun[], cancelled: BookingView[], booked: number): void {
  console.log('\n================ isams-sync demo summary ================');
  for (const [i, run] of runs.entries()) {
    const { records, chunks } = runTotals(run);
    const published =
      run.status === 'unchanged'
        ? 'nothing published (same fingerprints as the last applied run)'
        : `${chunks} raw-dataset events published`;
    console.log(`run ${i + 1}: ${run.status.padEnd(9)} ${records} records fetched, ${published}`);
    for (const [entity, c] of Object.entries(
      (run.rosterCounts ?? {}) as Record<string, Record<string, number>>,
    )) {
      const parts = Object.entries(c)
        .filter(([k, v]) => k !== 'unchanged' && v > 0)
        .map(([k, v]) => `${k} ${v}`);
      if (parts.length > 0) console.log(`    ${entity.padEnd(22)} ${parts.join(', ')}`);
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
