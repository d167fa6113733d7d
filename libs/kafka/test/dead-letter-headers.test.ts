import { describe, expect, it } from 'vitest';
import { AppError } from '@isams-sync/errors';
import { DLQ_HEADERS } from '../src/index';
import { deadLetterHeaders } from '../src/consumer/dead-letterer';
import type { Delivery } from '../src/consumer/attempt-outcome';
import { stackOverflow } from './support/stack-overflow';

const delivery: Delivery = {
  topic: 'isams.raw-datasets.v1',
  partition: 0,
  message: {
    key: Buffer.from('school-1'),
    value: Buffer.from('{}'),
    headers: { ce_id: 'e-1' },
    offset: '42',
    timestamp: '0',
    attributes: 0,
  },
  heartbeat: async () => undefined,
};

describe('deadLetterHeaders', () => {
  it('names the error code of an AppError, and where the record came from', () => {
    const err = new AppError({ code: 'EVENT_DATA_INVALID', kind: 'invalid_argument', message: 'bad data' });
    const headers = deadLetterHeaders(delivery, err, 1, 'roster');
    expect(headers).toMatchObject({
      ce_id: 'e-1',
      [DLQ_HEADERS.reason]: 'AppError: bad data',
      [DLQ_HEADERS.errorCode]: 'EVENT_DATA_INVALID',
      [DLQ_HEADERS.originalTopic]: 'isams.raw-datasets.v1',
      [DLQ_HEADERS.originalOffset]: '42',
      [DLQ_HEADERS.consumerGroup]: 'roster',
    });
  });

  it('says a stack overflow is one (deterministic, so dead-lettered at once), wrapped or not', () => {
    const overflow = stackOverflow();
    for (const err of [overflow, new Error('staging failed', { cause: overflow })]) {
      const headers = deadLetterHeaders(delivery, err, 1, 'roster');
      expect(headers[DLQ_HEADERS.errorCode]).toBe('STACK_OVERFLOW');
      expect(headers[DLQ_HEADERS.reason]).toMatch(
        /\(a stack overflow handling this event: deterministic, so not retried\)$/,
      );
    }
    expect(deadLetterHeaders(delivery, new TypeError('x'), 3, 'roster')[DLQ_HEADERS.errorCode]).toBe(
      'UNHANDLED',
    );
  });
});
