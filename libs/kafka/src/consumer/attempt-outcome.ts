import type { Logger } from '@isams-sync/logger';
import type { KafkaMessage } from 'kafkajs';
import { backoffDelay } from '../backoff';
import type { BackoffOptions } from '../backoff';
import type { HandlerFailure } from '../kafka-failures';
import type { ConsumerSettings } from './consumer-settings';
import type { RunState } from './run-state';

/** One message of a fetched batch, with what its handler needs. */
export interface Delivery {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat: () => Promise<void>;
}

/** What became of one attempt at a message or a batch. */
export type Outcome = { kind: 'done' } | { kind: 'stop' } | { kind: 'later'; delayMs: number };

export const DONE: Outcome = { kind: 'done' };
export const STOP: Outcome = { kind: 'stop' };

/** What to do after a failed attempt. */
export type FailureDecision =
  /** Permanent, or out of attempts: dead-letter the event (a batch: split it to isolate the culprit). */
  | { action: 'give-up' }
  /** The consumer is stopping: leave it uncommitted for the partition's next owner. */
  | { action: 'leave-for-redelivery' }
  /** Pause the partition for `delayMs`, then try again from this offset. */
  | { action: 'retry-later'; delayMs: number };

/** Decides what follows a failed attempt (the same rule for one event and for a batch). */
export function decideAfterFailure(
  failure: HandlerFailure,
  attempt: number,
  rules: { maxAttempts: number; stopping: boolean; backoff: BackoffOptions },
): FailureDecision {
  if (failure === 'permanent' || attempt >= rules.maxAttempts) return { action: 'give-up' };
  if (rules.stopping) return { action: 'leave-for-redelivery' };
  return { action: 'retry-later', delayMs: backoffDelay(attempt, rules.backoff) };
}

/** Classifies the error of a failed attempt and decides what follows it. */
export function judgeFailure(
  err: unknown,
  attempt: number,
  settings: Pick<ConsumerSettings, 'classify' | 'maxAttempts' | 'backoff'>,
  state: Pick<RunState, 'stopping'>,
): { failure: HandlerFailure; decision: FailureDecision } {
  const failure = settings.classify(err);
  const { maxAttempts, backoff } = settings;
  return {
    failure,
    decision: decideAfterFailure(failure, attempt, { maxAttempts, backoff, stopping: state.stopping }),
  };
}

/** Logs a failed attempt that will be retried: a warning when transient, an error otherwise. */
export function logRetry(
  log: Logger,
  what: 'kafka handler' | 'kafka batch handler',
  fields: { attempt: number; delayMs: number; failure: HandlerFailure; err: unknown },
): void {
  if (fields.failure === 'transient') log.warn(fields, `${what} failed; partition paused, retrying`);
  else log.error(fields, `${what} failed unexpectedly; partition paused, retrying`);
}
