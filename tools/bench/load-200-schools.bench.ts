/**
 * Load benchmark (wrapper of tools/load/load.ts): simulated schools of mixed sizes synced by one
 * replica of each service, driven by the connector's scheduler. Reports schools per hour against
 * the baseline "the same documents fetched and stream-parsed alone" (same run), end-to-end lag
 * (scheduler claim → roster applied) percentiles, the longest wait for a sync slot, and how many
 * schools were not applied (starvation).
 *
 *   npx tsx tools/bench/load-200-schools.bench.ts [--json] [--quick] [--schools 200] [--max-minutes 20]
 *
 * Mix: 85 % small / 12.5 % medium / 2.5 % large (200 → 170/25/5). `--quick` (run-all's default)
 * runs 10 schools, every size present (mix 0.7/0.2/0.1 → 7 small, 2 medium, 1 large), first runs
 * spread over 30 s, with a 4-minute cap; without it (`npm run bench -- --full`), 200 schools, 20 min cap.
 */
import { argValue, emitResult, progress, row, type BenchRow } from '../system-client/bench-output';
import { resolveInfra } from '../system-client/infra-endpoints';
import { lagSummary, runLoad } from '../load/load';
import { loadArgs } from '../load/load-cli';

const args = process.argv.slice(2);
const log = progress('load');
const quick = args.includes('--quick');
const options = loadArgs(args);
if (quick) {
  // Sized so `npm run bench` stays bounded on the shared 2-core machine (see docs/load.md).
  if (argValue(args, '--schools') === undefined) options.schools = 10;
  if (argValue(args, '--mix') === undefined) options.mix = [0.7, 0.2, 0.1];
  if (argValue(args, '--max-minutes') === undefined) options.maxMinutes = 4;
  if (argValue(args, '--spread-seconds') === undefined) options.spreadSeconds = 30;
}
const report = await runLoad({ ...options, infra: resolveInfra(log), log });
const sizes = `${report.options.schools} schools (${report.counts.small} small, ${report.counts.medium} medium, ${report.counts.large} large), SYNC_CONCURRENCY ${report.options.concurrency}, first runs spread over ${report.options.spreadSeconds} s${quick ? ', quick mode' : ''}`;
const lags = lagSummary(report);
const all = lags.find((g) => g.group === 'all');
const queueMax = Math.max(...report.outcomes.map((o) => o.queueSeconds ?? 0));
const starved = report.outcomes.filter((o) => o.lagSeconds === undefined);
const rows: BenchRow[] = [
  row(
    'schools applied per hour',
    report.schoolsPerHour,
    'schools/h',
    report.baseline.schoolsPerHour,
    `${sizes}; ${report.applied} applied in ${report.windowSeconds.toFixed(0)} s${report.timedOut ? ` (time cap ${report.options.maxMinutes} min reached)` : ''}; baseline: the same documents fetched + stream-parsed alone; higher is better`,
  ),
  row(
    'records applied per second',
    report.records / Math.max(1, report.windowSeconds),
    'records/s',
    report.baseline.records / report.baseline.seconds,
    'baseline: records stream-parsed per second alone; higher is better',
  ),
];
for (const g of lags)
  rows.push(
    row(`lag p50 (${g.group}, n=${g.n})`, g.p50, 's', undefined, 'scheduler claim → roster applied'),
    row(`lag p99 (${g.group}, n=${g.n})`, g.p99, 's', undefined, `max ${g.max.toFixed(0)} s`),
  );
rows.push(
  row(
    'longest wait for a sync slot',
    queueMax,
    's',
    undefined,
    'run requested → fetch started (SYNC_CONCURRENCY queue)',
  ),
  row(
    'schools not applied (starved or failed)',
    starved.length,
    'schools',
    undefined,
    starved.length
      ? starved
          .slice(0, 8)
          .map((o) => `${o.schoolId}:${o.status}`)
          .join(' ')
      : `every school applied; max lag ${all ? all.max.toFixed(0) : '?'} s`,
  ),
);
rows.push(
  row(
    'service crashes during the load',
    report.crashes.length,
    'crashes',
    undefined,
    report.crashes.length
      ? `restarted at once: ${report.crashes.map((c) => `${c.service} at ${c.atSeconds.toFixed(0)} s`).join(', ')}`
      : 'none',
  ),
);
for (const [name, mb] of Object.entries(report.peakRssMb))
  if (mb !== undefined) rows.push(row(`peak RSS ${name} under load`, mb, 'MB', undefined, 'VmHWM'));
emitResult('load: mixed schools, one replica each', rows, args.includes('--json'));
process.exit(0);
