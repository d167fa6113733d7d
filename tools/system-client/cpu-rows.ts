/**
 * The CPU rows of the end-to-end benchmarks: where a sync's time went on a machine whose cores it
 * keeps busy, and the CPU budget its goal leaves once the floor's work is done.
 */
import { row, type BenchRow } from './bench-output';
import type { CpuUse } from './process-memory';

/**
 * A sync's CPU profile: the whole machine's CPU time during it against its cores for the sync's wall
 * time (ratio 1 = every core busy throughout: the sync waited for CPU, not for I/O), with each
 * service's share and the rest (the database, Kafka, this benchmark's client, anything else running).
 */
export function cpuRow(phase: string, use: CpuUse | undefined): BenchRow[] {
  if (use === undefined) return [];
  const services = Object.values(use.processes).reduce((n, s) => n + s, 0);
  const each = Object.entries(use.processes)
    .map(([name, s]) => `${name} ${s.toFixed(2)} s`)
    .join(', ');
  const rest = Math.max(0, use.machineSeconds - services);
  return [
    row(
      `${phase}: CPU of the machine`,
      use.machineSeconds,
      'core-s',
      use.cores * use.wallSeconds,
      `CPU time of every process on the machine during the sync (${use.wallSeconds.toFixed(2)} s wall, timed from the trigger by this script); baseline: its ${use.cores} cores for that time, so the ratio is the share of the machine that was busy (1 = every core throughout); ${each}; the rest (the database, Kafka, this script, anything else running) ${rest.toFixed(2)} s`,
    ),
  ];
}

/**
 * A sync's CPU against its floor's: the machine's CPU during the sync (as {@link cpuRow}) against the
 * machine's CPU during the floor's steps done bare. On a machine whose cores the sync keeps busy, this
 * is the budget the goal leaves: at `goalSeconds` the cores give `cores × goalSeconds` core-seconds,
 * the floor's work takes its share, and what is left is all the services may add.
 */
export function cpuFloorRow(
  phase: string,
  use: CpuUse | undefined,
  floorSteps: Record<string, number | undefined>,
  goal: { ratio: number; seconds: number },
): BenchRow[] {
  const steps = Object.entries(floorSteps);
  if (use === undefined || steps.some(([, s]) => s === undefined)) return [];
  const floor = steps.reduce((n, [, s]) => n + s!, 0);
  const budget = use.cores * goal.seconds;
  const left = budget - floor;
  const each = steps.map(([name, s]) => `${name} ${s!.toFixed(2)}`).join(', ');
  return [
    row(
      `${phase}: CPU of the machine against its floor's`,
      use.machineSeconds,
      'core-s',
      floor,
      `the machine's CPU during the sync (the row above) against its CPU during the floor's steps done bare (${each} core-s; every process: the bare client, Kafka, the database); at the goal (×${goal.ratio} of the issue's baseline: ${goal.seconds.toFixed(2)} s) the ${use.cores} cores give ${budget.toFixed(2)} core-s, ${left > 0 ? `of which the floor's work takes ${floor.toFixed(2)}, leaving ${left.toFixed(2)} core-s for all that the services add to it (this run they added ${Math.max(0, use.machineSeconds - floor).toFixed(2)})` : `fewer than the floor's work alone takes`}; lower is better`,
    ),
  ];
}
