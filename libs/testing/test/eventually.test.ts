import { describe, expect, it } from 'vitest';
import { eventually, EventuallyTimedOut, readUntil } from '../src/eventually';

describe('eventually', () => {
  it('returns the first value that is not undefined, null or false — 0 and "" count as values', async () => {
    const answers: unknown[] = [undefined, null, false, 0];
    expect(await eventually(() => answers.shift(), 'a number', { intervalMs: 1 })).toBe(0);
    const strings: Array<string | undefined> = [undefined, ''];
    expect(await eventually(async () => strings.shift(), 'a string', { intervalMs: 1 })).toBe('');
  });

  it('fails naming what it waited for and the last value seen once the deadline passes', async () => {
    const wait = eventually(() => false, 'the run to finish', { timeoutMs: 30, intervalMs: 5 });
    await expect(wait).rejects.toThrow(
      'timed out after 30 ms waiting for the run to finish (last seen: false)',
    );
    // A caller tells a wait that ran out from other failures by its class, not by its message.
    await expect(wait).rejects.toMatchObject({
      name: 'EventuallyTimedOut',
      what: 'the run to finish',
      timeoutMs: 30,
    });
    await expect(wait).rejects.toBeInstanceOf(EventuallyTimedOut);
  });

  it("adds the caller's detail to the failure", async () => {
    const wait = eventually(() => undefined, 'the e-mail', {
      timeoutMs: 10,
      intervalMs: 5,
      detail: () => '0 messages received',
    });
    await expect(wait).rejects.toThrow('timed out after 10 ms waiting for the e-mail: 0 messages received');
  });

  it('ends with the error a check throws, without further checks', async () => {
    let checks = 0;
    const wait = eventually(() => {
      checks += 1;
      throw new Error('store unreachable');
    }, 'anything');
    await expect(wait).rejects.toThrow('store unreachable');
    expect(checks).toBe(1);
  });

  it('stops polling when its signal is aborted', async () => {
    const controller = new AbortController();
    let checks = 0;
    const wait = eventually(
      () => {
        checks += 1;
        if (checks === 2) controller.abort(new Error('test over'));
        return undefined;
      },
      'never',
      { intervalMs: 1, signal: controller.signal },
    );
    await expect(wait).rejects.toThrow('test over');
    expect(checks).toBe(2);
  });

  describe('readUntil', () => {
    it('returns the first value read for which the condition holds', async () => {
      const reads = [1, 2, 3, 4];
      expect(
        await readUntil(
          'three',
          async () => reads.shift()!,
          (n) => n >= 3,
          { intervalMs: 1 },
        ),
      ).toBe(3);
      expect(reads).toEqual([4]);
    });

    it("fails showing the last value read, inspected or through the caller's detail", async () => {
      const read = async () => ({ status: 'running', chunks: 2 });
      await expect(
        readUntil('the run', read, (r) => r.status === 'done', { timeoutMs: 10, intervalMs: 5 }),
      ).rejects.toThrow("timed out after 10 ms waiting for the run: { status: 'running', chunks: 2 }");
      await expect(
        readUntil('the run', read, (r) => r.status === 'done', {
          timeoutMs: 10,
          intervalMs: 5,
          detail: (last) => `last ${JSON.stringify(last)}`,
        }),
      ).rejects.toThrow('timed out after 10 ms waiting for the run: last {"status":"running","chunks":2}');
    });
  });
});
