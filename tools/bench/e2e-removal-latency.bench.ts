/**
 * End-to-end removal latency: pupils removed in iSAMS (the simulator) → the next sync (triggered
 * through the gateway) → their bookings cancelled by the bookings service. One whole system as
 * processes on the real Kafka + FerretDB.
 *
 * Per removed pupil: latency = its booking's `cancellation.at` − the moment the sync was triggered.
 * Baseline (same run): that sync alone, trigger → the gateway reporting `applied` (the run's
 * `finishedAt`). ratio = how much later than the applied sync the cancellation lands.
 * The services' own removal→cancellation cost under a burst is measured per service by
 * services/bookings/bench/removal-latency.bench.ts.
 *
 *   npx tsx tools/bench/e2e-removal-latency.bench.ts [--json] [--quick] [--removals 10] [--size small]
 *
 * Default (and `--quick`): a small school (300 pupils), 10 booked pupils removed. `--removals 50
 * --size medium` is the full size (FerretDB scans bookings per removal; keep N modest).
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { startSystem } from '@isams-sync/testing';
import { argValue, emitResult, percentile, progress, row } from '../system-client/bench-output';
import { createSchoolBookings } from '../system-client/bookings-client';
import { repoRoot, resolveInfra } from '../system-client/infra-endpoints';
import { schoolApiClient } from '../system-client/school-client';

const args = process.argv.slice(2);
const log = progress('e2e-removal');
const removals = Number(argValue(args, '--removals') ?? 10);
const size = (argValue(args, '--size') ?? 'small') as 'small' | 'medium' | 'large';

const infra = resolveInfra(log);
log(`starting the system (${infra.source})…`);
// The removal hold must not stop this run: hold only above 50 % and more than `removals` people.
const system = await startSystem({
  infra,
  holdPercent: 50,
  holdMin: removals + 1,
  logLevel: 'warn',
  logDir: resolve(repoRoot, '.cache/bench-logs'),
});
const schoolId = `bench-removal-${size}`;
const bookings = createSchoolBookings(system, schoolId, 'bench');
try {
  const apiKey = `{${randomUUID().toUpperCase()}}`;
  await system.simulator.createSchool(schoolId, { seed: 7, size, apiKey, cacheMode: 'bypass' });
  const school = schoolApiClient(system.gatewayUrl, schoolId, await system.issueToken(schoolId, 'bench'));
  await school.saveSettings({ isamsUrl: system.simulator.url, apiKey });
  log(`first sync of a ${size} school…`);
  const first = await school.syncAndWait();
  if (first.run.status !== 'applied') throw new Error(`first sync ended ${first.run.status}`);

  // A pupil with a contact (parents book): walk the contacts and take one pupil of each.
  const contacts = (
    await school.call<{
      entities: Array<{ entityId: string; data: { pupils?: Array<{ pupilId: unknown }> } }>;
    }>('GET', '/roster/contact?pageSize=100')
  ).entities;
  const seen = new Set<string>();
  const pupils: Array<{ pupilId: string; contactId: string }> = [];
  for (const c of contacts) {
    const pupilId = c.data.pupils?.map((l) => String(l.pupilId)).find((id) => !seen.has(id));
    if (pupilId === undefined || pupils.length >= removals) continue;
    seen.add(pupilId);
    pupils.push({ pupilId, contactId: c.entityId });
  }
  const teacher = (
    await school.call<{ entities: Array<{ entityId: string }> }>('GET', '/roster/staff?pageSize=1')
  ).entities[0]!;
  const { eventId } = await bookings.bookEvening(pupils, teacher.entityId);
  log(`${pupils.length} bookings made; removing those pupils in iSAMS and syncing…`);
  for (const p of pupils)
    await system.simulator.admin('DELETE', `/admin/schools/${schoolId}/pupils/${p.pupilId}`);

  const triggeredAt = Date.now();
  const sync = await school.syncAndWait();
  if (sync.run.status !== 'applied') throw new Error(`removal sync ended ${sync.run.status}`);
  const appliedSeconds = (Date.parse(sync.run.finishedAt ?? new Date().toISOString()) - triggeredAt) / 1000;
  log(`  sync applied after ${appliedSeconds.toFixed(1)} s; waiting for the cancellations…`);

  const until = Date.now() + 20 * 60_000;
  let cancelled = await bookings.listBookings(eventId);
  while (cancelled.filter((b) => b.status === 'cancelled').length < pupils.length) {
    if (Date.now() > until) throw new Error('cancellations did not all arrive within 20 minutes');
    await new Promise((r) => setTimeout(r, 500));
    cancelled = await bookings.listBookings(eventId);
  }
  const latencies = cancelled
    .map((b) => (Date.parse(b.cancellation!.at) - triggeredAt) / 1000)
    .sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  log(`  p50 ${p50.toFixed(1)} s, p99 ${p99.toFixed(1)} s`);
  const what = `${pupils.length} booked pupils removed from a ${size} school`;
  emitResult(
    'end-to-end removal → cancellation',
    [
      row(
        'removal → booking cancelled p50',
        p50,
        's',
        appliedSeconds,
        `${what}; from the sync trigger; baseline: the same sync trigger → applied; lower is better`,
      ),
      row('removal → booking cancelled p99', p99, 's', appliedSeconds, `${what}; baseline as above`),
    ],
    args.includes('--json'),
  );
} catch (err) {
  process.stderr.write(`${system.logs()}\n`);
  throw err;
} finally {
  bookings.close();
  await system.stop().catch(() => undefined);
}
process.exit(0);
