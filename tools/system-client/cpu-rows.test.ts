import { describe, expect, it } from 'vitest';
import { cpuFloorRow, cpuRow } from './cpu-rows';
import type { CpuUse } from './process-memory';

const use: CpuUse = {
  wallSeconds: 1.5,
  machineSeconds: 2.4,
  cores: 2,
  processes: { connector: 0.5, roster: 0.8 },
};

describe('the CPU rows of a sync', () => {
  it("gives the machine's busy share and each service's CPU, the rest to the others", () => {
    const [r] = cpuRow('churn', use);
    expect(r).toMatchObject({ metric: 'churn: CPU of the machine', value: 2.4, baseline: 3, ratio: 0.8 });
    expect(r!.note).toContain('connector 0.50 s, roster 0.80 s');
    expect(r!.note).toContain('the rest (the database, Kafka, this script, anything else running) 1.10 s');
    expect(cpuRow('churn', undefined)).toEqual([]);
  });

  it("sets the sync's CPU against its floor's and says what the goal leaves the services", () => {
    const [r] = cpuFloorRow(
      'churn',
      use,
      { 'fetch + parse': 0.3, produce: 0.1, writes: 0.25, republish: 0.05 },
      { ratio: 3, seconds: 0.6 },
    );
    expect(r).toMatchObject({
      metric: "churn: CPU of the machine against its floor's",
      value: 2.4,
      baseline: 0.7,
    });
    expect(r!.ratio).toBeCloseTo(2.4 / 0.7, 2);
    // 2 cores × 0.6 s = 1.2 core-s at the goal; the floor takes 0.7, leaving 0.5; the services added 1.7.
    expect(r!.note).toContain('fetch + parse 0.30, produce 0.10, writes 0.25, republish 0.05 core-s');
    expect(r!.note).toContain('the 2 cores give 1.20 core-s');
    expect(r!.note).toContain("of which the floor's work takes 0.70, leaving 0.50 core-s");
    expect(r!.note).toContain('this run they added 1.70');
  });

  it('says when the floor alone needs more CPU than the goal leaves', () => {
    const [r] = cpuFloorRow('first', use, { writes: 1.5 }, { ratio: 2.5, seconds: 0.5 });
    expect(r!.note).toContain("the 2 cores give 1.00 core-s, fewer than the floor's work alone takes");
  });

  it('gives no row when a step or the sync could not be measured', () => {
    expect(cpuFloorRow('churn', use, { writes: 0.2, produce: undefined }, { ratio: 3, seconds: 1 })).toEqual(
      [],
    );
    expect(cpuFloorRow('churn', undefined, { writes: 0.2 }, { ratio: 3, seconds: 1 })).toEqual([]);
  });
});
