import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { logTail } from './log-tail';

const dir = mkdtempSync(join(tmpdir(), 'log-tail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('logTail', () => {
  it('reads the end of a log larger than a string can hold (a dev box’s kafka.log grew to 549 MB)', () => {
    const file = join(dir, 'kafka.log');
    const fd = openSync(file, 'w');
    // Sparse: 600 MB of holes, then the last lines.
    writeSync(fd, 'Exception in thread "main": the real cause\n', 600 * 1024 * 1024);
    closeSync(fd);
    expect(logTail(file, 3000)).toMatch(/the real cause\n$/);
    expect(logTail(file, 3000).length).toBeLessThanOrEqual(3000);
  });

  it('reads a small log whole and a missing one as empty', () => {
    const file = join(dir, 'small.log');
    const fd = openSync(file, 'w');
    writeSync(fd, 'started\nready\n');
    closeSync(fd);
    expect(logTail(file, 3000)).toBe('started\nready\n');
    expect(logTail(join(dir, 'none.log'), 3000)).toBe('');
  });
});
