import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { RunSpool, removeSpoolsExcept } from '../../src/adapters/spool/run-spool';
import { SpoolQuota } from '../../src/adapters/spool/spool-quota';
import { useTempDir } from '../support/temp-dir';

const line = (n: number) => `{"x":"${'a'.repeat(n - 8)}"}`; // n bytes + the newline

describe('spool quota: runs of one process share CONNECTOR_SPOOL_QUOTA_BYTES', () => {
  const tmp = useTempDir('spool-quota-');

  it('refuses the line that would pass the quota with CONNECTOR_SPOOL_FULL, and removing the spool gives its bytes back', async () => {
    const quota = new SpoolQuota(10_000);
    const spool = new RunSpool(tmp.path, 'run-1', quota);
    await spool.reset();
    for (let i = 0; i < 9; i++) await spool.append('currentPupils', line(999));
    expect(quota.used).toBe(9_000);
    const err = await spool.append('currentPupils', line(1_000)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONNECTOR_SPOOL_FULL', kind: 'resource_exhausted' });
    expect((err as Error).message).toContain('10000 bytes');
    expect(quota.used).toBe(9_000);
    await spool.remove();
    expect(quota.used).toBe(0);
    expect(await readdir(tmp.path)).toEqual([]);
  });

  it('concurrent runs share it: a second run is refused while the first holds most of it, and succeeds once the first discarded its datasets', async () => {
    const quota = new SpoolQuota(10_000);
    const a = new RunSpool(tmp.path, 'run-a', quota);
    const b = new RunSpool(tmp.path, 'run-b', quota);
    await Promise.all([a.reset(), b.reset()]);
    for (let i = 0; i < 6; i++) await a.append('contacts', line(999));
    await b.append('currentStaff', line(999));
    for (let i = 0; i < 3; i++) await b.append('currentStaff', line(999));
    await expect(b.append('currentStaff', line(999))).rejects.toMatchObject({ code: 'CONNECTOR_SPOOL_FULL' });
    await a.discard(['contacts']);
    expect(quota.used).toBe(4_000);
    await b.append('currentStaff', line(999));
    expect(b.reservedBytes).toBe(5_000);
    await a.remove();
    await b.remove();
    expect(quota.used).toBe(0);
  });

  it('start-up clean-up removes every run directory except those of runs still in flight', async () => {
    for (const id of ['left-1', 'left-2', 'in-flight']) {
      const s = new RunSpool(tmp.path, id);
      await s.reset();
      await s.append('currentPupils', line(100));
      await s.close();
    }
    expect(await removeSpoolsExcept(tmp.path, ['in-flight'])).toBe(2);
    expect(await readdir(tmp.path)).toEqual(['in-flight']);
  });
});
