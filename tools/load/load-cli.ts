/**
 * `npx tsx tools/load/load-cli.ts [--schools 200] [--mix 0.85,0.125,0.025] [--concurrency 4]
 * [--spread-seconds 60] [--max-minutes 20] [--json]` — runs the load test (see load.ts) and prints
 * the throughput, the lag distribution and any school that did not get applied.
 */
import { argValue, progress } from '../system-client/bench-output';
import { resolveInfra } from '../system-client/infra-endpoints';
import { lagSummary, runLoad } from './load';

export function loadArgs(args: readonly string[]) {
  const mix = (argValue(args, '--mix') ?? '0.85,0.125,0.025').split(',').map(Number) as [
    number,
    number,
    number,
  ];
  return {
    schools: Number(argValue(args, '--schools') ?? 200),
    mix,
    concurrency: Number(argValue(args, '--concurrency') ?? 4),
    spreadSeconds: Number(argValue(args, '--spread-seconds') ?? 60),
    maxMinutes: Number(argValue(args, '--max-minutes') ?? 20),
  };
}

if (import.meta.filename === process.argv[1]) {
  const args = process.argv.slice(2);
  const log = progress('load');
  const report = await runLoad({ ...loadArgs(args), infra: resolveInfra(log), log });
  if (args.includes('--json')) console.log(JSON.stringify(report));
  else {
    console.log(
      `${report.applied}/${report.options.schools} schools applied in ${report.windowSeconds.toFixed(0)} s → ${report.schoolsPerHour.toFixed(0)} schools/hour (baseline fetch+parse alone: ${report.baseline.schoolsPerHour.toFixed(0)} schools/hour)`,
    );
    for (const g of lagSummary(report))
      console.log(
        `  lag ${g.group}: n=${g.n} p50 ${g.p50.toFixed(1)} s, p90 ${g.p90.toFixed(1)} s, p99 ${g.p99.toFixed(1)} s, max ${g.max.toFixed(1)} s`,
      );
    for (const c of report.crashes)
      console.log(`  crash: ${c.service} at ${c.atSeconds.toFixed(0)} s (restarted)`);
    for (const o of report.outcomes.filter((x) => x.lagSeconds === undefined))
      console.log(`  not applied: ${o.schoolId} (${o.status})`);
  }
  process.exit(0);
}
