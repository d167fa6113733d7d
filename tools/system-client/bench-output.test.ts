import { describe, expect, it } from 'vitest';
import { argValue, median, percentile, round, row } from './bench-output';
import type { AdminSyncRun } from '@isams-sync/testing';
import { changedCount, runTotals, writtenChanges } from './school-client';

describe('bench output helpers', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('takes the median of an unsorted list, a measured value for an even count', () => {
    expect(median([0.3, 0.1, 0.2])).toBe(0.2);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it('rounds to three significant figures and fills the ratio', () => {
    expect(round(0.040234)).toBe(0.0402);
    expect(round(1234.5)).toBe(1235);
    expect(row('t', 10, 's', 4, 'n')).toEqual({
      metric: 't',
      value: 10,
      unit: 's',
      baseline: 4,
      ratio: 2.5,
      note: 'n',
    });
    expect(row('t', 10, 's', undefined, 'n')).not.toHaveProperty('ratio');
  });

  it('reads --name value arguments', () => {
    expect(argValue(['--json', '--size', 'large'], '--size')).toBe('large');
    expect(argValue(['--json'], '--size')).toBeUndefined();
  });
});

describe('run summaries', () => {
  const run = {
    datasets: [
      { datasetId: 'currentPupils', recordCount: 300, bytes: 1000, chunkCount: 2 },
      { datasetId: 'contacts', recordCount: 600, bytes: 3000, chunkCount: 3 },
    ],
    rosterCounts: {
      pupil: { added: 3, removed: 3, unchanged: 294, skipped: 4 },
      contact: { updated: 2, unchanged: 598, held: 1 },
    },
  } as unknown as AdminSyncRun;

  it('totals records, bytes and chunks over the datasets', () => {
    expect(runTotals(run)).toEqual({ records: 900, bytes: 4000, chunks: 5 });
  });

  it('counts every change, not the unchanged nor the skipped source records', () => {
    expect(changedCount(run)).toBe(9);
  });

  it('splits the written changes into inserts (added) and replaces (updated, removed)', () => {
    expect(writtenChanges(run)).toEqual({ inserted: 3, replaced: 5 });
  });
});
