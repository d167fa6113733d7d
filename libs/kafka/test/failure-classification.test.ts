import { describe, expect, it } from 'vitest';
import { AppError } from '@isams-sync/errors';
import type { ErrorKind } from '@isams-sync/errors';
import { classifyHandlerFailure, isPermanentKafkaError } from '../src/index';
import { stackOverflow } from './support/stack-overflow';

const appError = (kind: ErrorKind, code = 'TEST_ERROR') => new AppError({ code, kind, message: code });

/** A kafkajs-shaped error (name, retriable, type, cause) without importing kafkajs. */
const kafkaError = (name: string, props: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, ...props });

describe('classifyHandlerFailure (through the errors catalogue)', () => {
  it('dead-letters only what can never succeed: permanent AppError kinds', () => {
    for (const kind of [
      'invalid_argument',
      'not_found',
      'already_exists',
      'failed_precondition',
      'permission_denied',
      'unauthenticated',
    ] as const)
      expect(classifyHandlerFailure(appError(kind)), kind).toBe('permanent');
  });

  it('retries transient kinds: MONGO_UNAVAILABLE, MONGO_TIMEOUT, KAFKA_* and the like', () => {
    expect(classifyHandlerFailure(appError('unavailable', 'MONGO_UNAVAILABLE'))).toBe('transient');
    expect(classifyHandlerFailure(appError('deadline_exceeded', 'MONGO_TIMEOUT'))).toBe('transient');
    expect(classifyHandlerFailure(appError('unavailable', 'KAFKA_PUBLISH_FAILED'))).toBe('transient');
    expect(classifyHandlerFailure(appError('resource_exhausted'))).toBe('transient');
    expect(classifyHandlerFailure(appError('aborted'))).toBe('transient');
  });

  it('treats unmapped driver errors of an unreachable database or broker as transient', () => {
    expect(classifyHandlerFailure(kafkaError('MongoServerSelectionError'))).toBe('transient');
    expect(classifyHandlerFailure(kafkaError('MongoNetworkError'))).toBe('transient');
    expect(
      classifyHandlerFailure(
        kafkaError('KafkaJSNonRetriableError', {
          retriable: false,
          cause: kafkaError('KafkaJSConnectionError', { retriable: true }),
        }),
      ),
    ).toBe('transient');
  });

  it('dead-letters a stack overflow: deterministic for the event, so no retry can help', () => {
    const overflow = stackOverflow();
    expect(classifyHandlerFailure(overflow)).toBe('permanent');
    // However the handler wrapped it.
    expect(classifyHandlerFailure(new Error('staging failed', { cause: overflow }))).toBe('permanent');
    expect(
      classifyHandlerFailure(
        new AppError({ code: 'MONGO_ERROR', kind: 'internal', message: 'x', cause: overflow }),
      ),
    ).toBe('permanent');
    // Other range errors are not known to be deterministic, and an outage is still retried.
    expect(classifyHandlerFailure(new RangeError('Invalid time value'))).toBe('unexpected');
    expect(
      classifyHandlerFailure(
        new AppError({ code: 'MONGO_UNAVAILABLE', kind: 'unavailable', message: 'x', cause: overflow }),
      ),
    ).toBe('transient');
    expect(classifyHandlerFailure(kafkaError('MongoNetworkError', { cause: overflow }))).toBe('transient');
  });

  it('calls anything else unexpected (retried too, but not known to be transient)', () => {
    expect(classifyHandlerFailure(new TypeError('x is undefined'))).toBe('unexpected');
    expect(classifyHandlerFailure(appError('internal', 'MONGO_ERROR'))).toBe('unexpected');
    expect(classifyHandlerFailure('a string')).toBe('unexpected');
  });
});

describe('isPermanentKafkaError (what a publish does not retry)', () => {
  it('connection refused wrapped in kafkajs’ non-retriable error is transient (the CI failure)', () => {
    const refused = kafkaError('KafkaJSNonRetriableError', {
      retriable: false,
      cause: kafkaError('KafkaJSConnectionError', { retriable: true }),
    });
    expect(isPermanentKafkaError(refused)).toBe(false);
    expect(isPermanentKafkaError(kafkaError('KafkaJSNumberOfRetriesExceeded', { retriable: false }))).toBe(
      false,
    );
    expect(isPermanentKafkaError(kafkaError('KafkaJSRequestTimeoutError', { retriable: true }))).toBe(false);
  });

  it('a producer id the broker forgot across a restart is transient (a fresh producer fixes it)', () => {
    const e = kafkaError('KafkaJSProtocolError', { retriable: false, type: 'UNKNOWN_PRODUCER_ID' });
    expect(isPermanentKafkaError(e)).toBe(false);
  });

  it('too large, not authorised, invalid records and plain bugs are permanent', () => {
    for (const type of ['MESSAGE_TOO_LARGE', 'TOPIC_AUTHORIZATION_FAILED', 'INVALID_RECORD'])
      expect(
        isPermanentKafkaError(kafkaError('KafkaJSProtocolError', { retriable: false, type })),
        type,
      ).toBe(true);
    expect(
      isPermanentKafkaError(
        kafkaError('KafkaJSNonRetriableError', {
          retriable: false,
          cause: kafkaError('KafkaJSProtocolError', { retriable: false, type: 'MESSAGE_TOO_LARGE' }),
        }),
      ),
    ).toBe(true);
    expect(isPermanentKafkaError(kafkaError('KafkaJSNonRetriableError', { retriable: false }))).toBe(true);
    expect(isPermanentKafkaError(new TypeError('bug'))).toBe(true);
  });
});
