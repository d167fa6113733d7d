import { describe, expect, it } from 'vitest';
import { rosterChangeEventTypes } from '@isams-sync/events';
import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import type { BatchConsumerContext, ConsumerContext } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { isAppError } from '@isams-sync/errors';
import {
  rosterChangesBatchHandler,
  rosterChangesHandler,
} from '../../src/handlers/kafka/roster-changes.handler';
import { unchanged } from '../../src/domain/roster-change-plan';

const logger = createLogger({ service: 'bookings-test', level: 'silent' });
const ctx = {
  topic: 't',
  partition: 0,
  offset: '0',
  attempt: 1,
  bytes: 1,
  logger,
} as unknown as ConsumerContext;
const batchCtx = {
  ...ctx,
  firstOffset: '0',
  lastOffset: '1',
  sizes: [1, 1],
} as unknown as BatchConsumerContext;

const GRACE = '2026-12-31T00:00:00.000Z';

/** A pupil change event of `type`'s change whose data says `data` (as it came off the wire). */
function wire(
  typeChange: 'removed' | 'restored',
  data: Partial<RosterChangeData> & Record<string, unknown>,
  id = 'e1',
): CloudEvent<unknown> {
  return {
    specversion: '1.0',
    id,
    source: '/isams-sync/roster',
    type: rosterChangeEventTypes.pupil[typeChange].type,
    time: '2026-12-01T10:00:00.000Z',
    datacontenttype: 'application/json',
    tenantid: 'school-a',
    data: { syncRunId: 'run-1', entityType: 'pupil', entityId: 'p1', ...data },
  };
}

const removedData = {
  change: 'removed',
  before: { id: 'p1' },
  removal: { reason: 'absent_from_feed', graceUntil: GRACE },
} as const;

/** Runs the single-event and the batch handler on `event` (batch: after a good removal). */
async function refusals(event: CloudEvent<unknown>) {
  const applied: string[] = [];
  const apply = (e: CloudEvent<RosterChangeData>) => {
    applied.push(e.id);
    return Promise.resolve(unchanged('ignored'));
  };
  const one = await rosterChangesHandler(apply)(event, ctx).then(
    () => undefined,
    (err: unknown) => err,
  );
  const good = wire('removed', removedData, 'good');
  const batch = await rosterChangesBatchHandler((events) => Promise.all(events.map(apply)))(
    [good, event],
    batchCtx,
  ).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { one, batch, applied };
}

describe('roster change events whose type and data disagree, or that lack what bookings acts on', () => {
  it.each([
    ['a pupil.restored.v1 whose data says removed', wire('restored', removedData), 'data.change'],
    [
      'a pupil.removed.v1 whose data says restored',
      wire('removed', { change: 'restored', before: { id: 'p1' }, after: { id: 'p1' } }),
      'data.change',
    ],
    [
      'a pupil.removed.v1 without its removal (reason, grace deadline)',
      wire('removed', { change: 'removed', before: { id: 'p1' } }),
      'data.removal',
    ],
  ])(
    '%s is refused as invalid (dead-lettered), nothing applied, one event or in a batch',
    async (_name, event, field) => {
      const { one, batch, applied } = await refusals(event);
      for (const err of [one, batch]) {
        expect(isAppError(err) && err.kind).toBe('invalid_argument');
        expect(isAppError(err) && err.code).toBe('BOOKINGS_ROSTER_CHANGE_INVALID');
        expect((err as Error).message).toContain(field);
        // No personal data in the error (it is logged and put in the dead letter's headers).
        expect((err as Error).message).not.toContain('p1');
      }
      expect(applied).toEqual([]);
    },
  );

  it('a well-formed removal and restore are applied', async () => {
    const applied: string[] = [];
    const apply = (e: CloudEvent<RosterChangeData>) => {
      applied.push(`${e.data.change}:${e.id}`);
      return Promise.resolve(unchanged('ignored'));
    };
    await rosterChangesHandler(apply)(wire('removed', removedData, 'r'), ctx);
    await rosterChangesBatchHandler((events) => Promise.all(events.map(apply)))(
      [
        wire('removed', removedData, 'r2'),
        wire('restored', { change: 'restored', before: { id: 'p1' }, after: { id: 'p1' } }, 's'),
      ],
      batchCtx,
    );
    expect(applied).toEqual(['removed:r', 'removed:r2', 'restored:s']);
  });
});
