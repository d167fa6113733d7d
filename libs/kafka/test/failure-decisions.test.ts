import { describe, expect, it } from 'vitest';
import { decideAfterFailure } from '../src/consumer/attempt-outcome';
import { decideAfterCrash } from '../src/consumer/consumer-lifecycle';
import { decideAfterPublishFailure } from '../src/producer/retrying-publisher';

const backoff = { initialMs: 100, maxMs: 1000, jitter: 0 };
const kafkaError = (name: string, props: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, ...props });

describe('decideAfterFailure (one event or one batch)', () => {
  const running = { maxAttempts: Number.POSITIVE_INFINITY, stopping: false, backoff };

  it('gives up on a permanent failure at the first attempt, even while stopping', () => {
    expect(decideAfterFailure('permanent', 1, running)).toEqual({ action: 'give-up' });
    expect(decideAfterFailure('permanent', 1, { ...running, stopping: true })).toEqual({ action: 'give-up' });
  });

  it('gives up on any failure once the attempts run out', () => {
    expect(decideAfterFailure('transient', 3, { ...running, maxAttempts: 3 })).toEqual({ action: 'give-up' });
    expect(decideAfterFailure('unexpected', 2, { ...running, maxAttempts: 3 })).toEqual({
      action: 'retry-later',
      delayMs: 200,
    });
  });

  it('retries anything else after a growing back-off, without a limit by default', () => {
    expect(decideAfterFailure('transient', 1, running)).toEqual({ action: 'retry-later', delayMs: 100 });
    expect(decideAfterFailure('unexpected', 50, running)).toEqual({ action: 'retry-later', delayMs: 1000 });
  });

  it('leaves a failure that could be retried for redelivery when the consumer is stopping', () => {
    expect(decideAfterFailure('transient', 1, { ...running, stopping: true })).toEqual({
      action: 'leave-for-redelivery',
    });
  });
});

describe('decideAfterCrash', () => {
  const joined = { stopping: false, joined: true, startRecoveries: 0, startAttempts: 10 };
  const notReady = kafkaError('KafkaJSProtocolError', { type: 'COORDINATOR_NOT_AVAILABLE' });
  const other = new Error('boom');

  it('leaves a crash kafkajs restarts from to kafkajs, whatever else holds', () => {
    expect(decideAfterCrash({ error: other, restart: true }, { ...joined, stopping: true })).toBe(
      'client-restarts',
    );
  });

  it('ignores a crash while stopping', () => {
    expect(decideAfterCrash({ error: other, restart: false }, { ...joined, stopping: true })).toBe('ignore');
  });

  it('rebuilds a member that had joined its group', () => {
    expect(decideAfterCrash({ error: other, restart: false }, joined)).toBe('rebuild');
  });

  it('joins again, a few times, when the group coordinator was not ready before the first join', () => {
    const before = { ...joined, joined: false };
    expect(decideAfterCrash({ error: notReady, restart: false }, before)).toBe('rejoin');
    expect(decideAfterCrash({ error: notReady, restart: false }, { ...before, startRecoveries: 10 })).toBe(
      'fail-start',
    );
    expect(decideAfterCrash({ error: other, restart: false }, before)).toBe('fail-start');
  });
});

describe('decideAfterPublishFailure', () => {
  const at = { attempt: 1, leftMs: 10_000, closed: false, backoff };

  it('fails at once on what no retry can fix', () => {
    const tooLarge = kafkaError('KafkaJSProtocolError', { type: 'MESSAGE_TOO_LARGE' });
    expect(decideAfterPublishFailure(tooLarge, at)).toEqual({ action: 'fail' });
  });

  it('retries the way to the broker after a back-off cut to the time left', () => {
    const away = kafkaError('KafkaJSConnectionError');
    expect(decideAfterPublishFailure(away, at)).toEqual({ action: 'retry', delayMs: 100 });
    expect(decideAfterPublishFailure(away, { ...at, attempt: 5, leftMs: 300 })).toEqual({
      action: 'retry',
      delayMs: 300,
    });
  });

  it('gives up at the deadline, or at once when the producer was disconnected', () => {
    const away = kafkaError('KafkaJSConnectionError');
    expect(decideAfterPublishFailure(away, { ...at, leftMs: 0 })).toEqual({
      action: 'give-up',
      why: 'deadline',
    });
    expect(decideAfterPublishFailure(away, { ...at, closed: true })).toEqual({
      action: 'give-up',
      why: 'disconnected',
    });
  });
});
