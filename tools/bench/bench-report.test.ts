import { describe, expect, it } from 'vitest';
import { renderReport, type BenchResult, type RunRecord } from './bench-report';

const result = (
  backend: BenchResult['backend'],
  run: number,
  value: number,
  baseline: number,
  name = 'roster apply',
): BenchResult => ({
  name,
  script: 'services/roster/bench/apply.bench.ts',
  backend,
  run,
  rows: [
    { metric: 'first sync', value, unit: 'ms', baseline, ratio: value / baseline, note: 'lower is better' },
  ],
});

const record = (over: Partial<RunRecord>): RunRecord => ({
  date: '2026-12-02T00:00:00.000Z',
  machine: '2 × CPU, 24 GiB RAM',
  versions: 'Node v24',
  mode: 'quick',
  database: 'test',
  backends: ['sqlite', 'postgresql'],
  repeat: 2,
  wallMinutes: 1,
  timings: [['services/roster/bench/apply.bench.ts (sqlite)', 10]],
  loads: [1, 3, 2],
  results: [],
  failures: [],
  ...over,
});

/** The report of a run of `results` (and `over` in its record). */
const report = (results: BenchResult[], over: Partial<RunRecord> = {}): string =>
  renderReport(record({ results, ...over }));

describe('renderReport', () => {
  it('names the backend (and run) on every row', () => {
    const md = report(
      [
        result('sqlite', 1, 900, 300),
        result('postgresql', 1, 300, 300),
        result('none', 1, 5, 5, 'isams parse'),
      ],
      { repeat: 1 },
    );
    expect(md).toContain('| benchmark | backend | metric | value | baseline | ratio | note |');
    expect(md).toContain(
      '| roster apply | SQLite | first sync | 900 ms | 300 ms | ×3.00 | lower is better |',
    );
    expect(md).toContain(
      '| roster apply | PostgreSQL | first sync | 300 ms | 300 ms | ×1.00 | lower is better |',
    );
    expect(md).toContain('| isams parse | — (no database) | first sync | 5.00 ms |');
  });

  it('puts two backends side by side per run: both ratios, ratio quotient and value quotient', () => {
    const md = report([
      result('sqlite', 1, 900, 300),
      result('postgresql', 1, 300, 100),
      result('sqlite', 2, 1000, 250),
      result('postgresql', 2, 400, 200),
    ]);
    expect(md).toContain('## SQLite and PostgreSQL side by side');
    expect(md).toContain(
      '| roster apply | first sync | lower | ×3.00 / ×4.00 | ×3.00 / ×2.00 | 1.00 / 0.500 | 0.333 / 0.400 |',
    );
    expect(md).toContain('min 1.00, median 2.00, max 3.00');
    expect(md).toContain('| roster apply | SQLite | 2 | first sync | 1000 ms | 250 ms | ×4.00 |');
  });

  it('marks a cut-off phase and bounds the value quotient it takes part in', () => {
    const cut: BenchResult = {
      ...result('sqlite', 1, 300, 1),
      rows: [{ metric: 'first sync', value: 300, unit: 's', note: 'CUT OFF: had not ended after 300 s' }],
    };
    const md = report([cut, result('postgresql', 1, 6, 1)], { repeat: 1 });
    expect(md).toContain('| roster apply | first sync | lower | cut off at 300 s | ×6.00 | – | < 0.0200 |');
  });

  it('has no side-by-side table for one backend', () => {
    const md = report([result('postgresql', 1, 1, 1)], { backends: ['postgresql'], repeat: 1 });
    expect(md).not.toContain('side by side');
  });
});
