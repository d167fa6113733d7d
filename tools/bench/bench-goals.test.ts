import { describe, expect, it } from 'vitest';
import type { BenchRow } from '../system-client/bench-output';
import { goalsSection } from './bench-goals';
import type { BenchResult, RunRecord } from './bench-report';

const bench = (name: string, backend: BenchResult['backend'], rows: BenchRow[]): BenchResult => ({
  name,
  script: 'x.bench.ts',
  backend,
  run: 1,
  rows,
});
const timed = (metric: string, value: number, baseline: number, note = 'lower is better'): BenchRow => ({
  metric,
  value,
  unit: 's',
  baseline,
  ratio: value / baseline,
  note,
});

const record = (results: BenchResult[], mode = 'quick (default)'): RunRecord => ({
  date: '2026-12-04T00:00:00.000Z',
  machine: '2 × CPU',
  versions: 'Node v24',
  mode,
  database: 'test',
  backends: ['sqlite', 'postgresql'],
  repeat: 1,
  wallMinutes: 1,
  timings: [],
  loads: [1],
  results,
  failures: [],
});

const lineOf = (md: string[], path: string) => md.find((l) => l.startsWith(`| ${path} |`)) ?? '';

describe('goalsSection', () => {
  it('judges the bookings burst by its p99 against the bare consumer only, not by the rows against its floor or of the warm-up', () => {
    const ms = (metric: string, value: number, baseline: number): BenchRow => ({
      ...timed(metric, value, baseline),
      unit: 'ms',
    });
    const md = goalsSection(
      record([
        bench('bookings: removal → booking.cancelled latency', 'postgresql', [
          ms('removal→booking.cancelled p99 (burst of 200)', 400, 100),
          ms('removal→booking.cancelled p99 (burst of 200) against its floor', 400, 60),
          ms(
            'removal→booking.cancelled p99, first burst on the fresh database (burst of 200, warm-up)',
            1400,
            100,
          ),
        ]),
      ]),
      false,
    );
    const line = lineOf(md, 'removal → booking cancelled, burst of removals in one school, p99');
    expect(line).toContain('| 400 ms (×4.00) | ×0.600 | met |');
    expect(line).not.toContain('against its floor:');
    expect(line).not.toContain('warm-up');
  });

  it('checks each backend against the goal and says where the time goes when one misses', () => {
    const md = goalsSection(
      record([
        bench('end-to-end sync via the gateway', 'postgresql', [
          timed('first sync (trigger → applied)', 11.7, 1),
          // The rows against their floors explain a gap; they are not the goal's figures.
          timed('first sync (trigger → applied) against its floor', 11.7, 5),
          timed('unchanged resync (trigger → unchanged)', 1.5, 1),
          timed('1 % churn resync (trigger → applied)', 4, 1),
          timed('1 % churn resync (trigger → applied) against its floor', 4, 2),
        ]),
        bench('end-to-end sync via the gateway', 'sqlite', [
          timed('first sync (trigger → applied)', 2, 1),
          {
            metric: 'unchanged resync (trigger → unchanged)',
            value: 300,
            unit: 's',
            note: 'CUT OFF: had not ended',
          },
        ]),
      ]),
      false,
    );
    const first = lineOf(md, 'end-to-end first sync (trigger → applied)');
    expect(first).toContain(
      '| PostgreSQL: ×11.70; SQLite: ×2.00 | PostgreSQL: ×5.00 | met on SQLite only | work of the contract',
    );
    expect(first).not.toContain('against its floor:');
    expect(lineOf(md, '1 % churn resync (trigger → applied)')).toContain('| ×4.00 | ×2.00 | not met | ');
    // A cut-off phase never meets its goal, whatever the other backend did.
    const unchanged = lineOf(md, 'unchanged resync (trigger → unchanged)');
    expect(unchanged).toContain(
      '| PostgreSQL: ×1.50; SQLite: cut off at 300 s | – | met on PostgreSQL only |',
    );
  });

  it('says met with no gap, not run for goals without rows, and not measured for full-only goals in quick mode', () => {
    const parse = bench('isams parse', 'none', [
      timed('json large school (13.3 MB) parse throughput, warmed up', 24, 48, 'higher is better'),
      timed('json ~10 MB (9.9 MB) parse throughput, warmed up', 21, 40, 'higher is better'),
      // A fresh process's first document is shown among every row; the goal is a running parser's.
      timed('json ~10 MB (9.9 MB) parse throughput', 10, 40, 'higher is better'),
      timed('xml large school (14.6 MB) parse throughput', 1, 40, 'higher is better'),
    ]);
    const load = bench('load: mixed schools, one replica each', 'postgresql', [
      { metric: 'schools applied per hour', value: 1200, unit: 'schools/h', note: 'higher is better' },
    ]);
    const quick = goalsSection(record([parse, load]), false);
    expect(lineOf(quick, 'JSON Batch API document parse')).toMatch(
      /\| json large school \(13\.3 MB\) parse throughput, warmed up: ×0\.500 \(fresh process: not run\); json ~10 MB \(9\.9 MB\) parse throughput, warmed up: ×0\.525 \(fresh process: ×0\.250\) \| – \| met \| +\|$/,
    );
    expect(lineOf(quick, 'connector fetch + parse + publish, large school')).toContain('| not run | – | – |');
    expect(lineOf(quick, 'mixed schools, one replica each')).toContain('not measured (the quick mode');
    const full = goalsSection(record([parse, load], 'full sizes'), true);
    expect(lineOf(full, 'mixed schools, one replica each')).toContain('1200 schools/h | – | met |');
  });

  it('gives each row’s floor as a ratio of the goal’s own baseline, per backend, where the benchmark measures one', () => {
    const md = goalsSection(
      record([
        bench('connector fetch + parse + publish (large school)', 'none', [
          timed('fetch+parse+spool+publish', 1.16, 0.383),
          timed('fetch+parse+spool+publish vs its floor (fetch+parse alone, then bare publish)', 1.16, 1.18),
        ]),
        bench('end-to-end sync via the gateway', 'postgresql', [
          timed('first sync (trigger → applied)', 4.93, 0.813),
          timed('first sync (trigger → applied) against its floor', 4.93, 1.83),
        ]),
        // No floor row on this backend: nothing to show for it.
        bench('end-to-end sync via the gateway', 'sqlite', [
          timed('first sync (trigger → applied)', 6.36, 2.89),
        ]),
      ]),
      false,
    );
    // The bare floor alone over the goal: ×3.08 against ≤ ×3.
    expect(lineOf(md, 'connector fetch + parse + publish, large school')).toContain(
      '| ×3.03 | ×3.08 | not met: its floor alone is over the goal |',
    );
    expect(lineOf(md, 'end-to-end first sync (trigger → applied)')).toContain(
      '| PostgreSQL: ×6.06; SQLite: ×2.20 | PostgreSQL: ×2.25 | met on SQLite only |',
    );
  });

  it('says a missed goal’s floor is over it only when every missing row’s floor is', () => {
    const churn = (pgFloor: number, sqliteFloor: number | undefined) =>
      lineOf(
        goalsSection(
          record([
            bench('end-to-end sync via the gateway', 'postgresql', [
              timed('1 % churn resync (trigger → applied)', 8, 1),
              timed('1 % churn resync (trigger → applied) against its floor', 8, pgFloor),
            ]),
            bench('end-to-end sync via the gateway', 'sqlite', [
              timed('1 % churn resync (trigger → applied)', 9, 1),
              ...(sqliteFloor === undefined
                ? []
                : [timed('1 % churn resync (trigger → applied) against its floor', 9, sqliteFloor)]),
            ]),
          ]),
          false,
        ),
        '1 % churn resync (trigger → applied)',
      );
    expect(churn(3.5, 4)).toContain('| not met: its floor alone is over the goal |');
    expect(churn(3.5, 2)).toContain('| not met |');
    // A backend without a floor row is not shown to be over the goal.
    expect(churn(3.5, undefined)).toContain('| not met |');
    // The floor at the goal is not over it.
    expect(churn(3, 3)).toContain('| not met |');
  });

  it('meets the load goal only with the rate, every school applied and the lag p99 all within it', () => {
    const load = (perHour: number, notApplied: number, lagP99S: number) =>
      bench('load: mixed schools, one replica each', 'postgresql', [
        { metric: 'schools applied per hour', value: perHour, unit: 'schools/h', note: 'higher is better' },
        { metric: 'lag p50 (all, n=200)', value: 246, unit: 's', note: '' },
        { metric: 'lag p99 (all, n=200)', value: lagP99S, unit: 's', note: '' },
        { metric: 'lag p99 (small, n=170)', value: 900, unit: 's', note: '' },
        { metric: 'schools not applied (starved or failed)', value: notApplied, unit: 'schools', note: '' },
      ]);
    const line = (perHour: number, notApplied: number, lagP99S: number) =>
      lineOf(
        goalsSection(record([load(perHour, notApplied, lagP99S)], 'full sizes'), true),
        'mixed schools, one replica each',
      );
    expect(line(1193, 0, 534)).toContain(
      '| schools applied per hour: 1193 schools/h; lag p99 (all, n=200): 534 s; schools not applied (starved or failed): 0.00 schools | – | met |',
    );
    expect(line(1193, 0, 601)).toContain('| not met |');
    expect(line(1193, 3, 534)).toContain('| not met |');
    expect(line(999, 0, 534)).toContain('| not met |');
  });
});
