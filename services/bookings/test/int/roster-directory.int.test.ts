import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, GrpcStatus } from '@isams-sync/errors';
import { unary } from '@isams-sync/grpc';
import type { GrpcServerHandle, rosterV1 } from '@isams-sync/grpc';
import { startRosterStandIn, testClientIdentity, uniqueName } from '@isams-sync/testing';
import { createGrpcRosterDirectory } from '../../src/adapters/grpc-clients/roster-directory.factory';
import { book, makeEvent } from '../support/fixtures';
import { errorOf, logger, startHarness } from '../support/harness';
import type { Harness } from '../support/harness';

/** A real in-process RosterService (same proto) that knows a fixed set of people per school. */
async function startRoster(
  people: Record<string, Record<string, 'active' | 'removed'>>,
): Promise<GrpcServerHandle> {
  const implementation: Partial<rosterV1.RosterServiceHandlers> = {
    GetEntity: unary<rosterV1.GetEntityRequest__Output, rosterV1.Entity>((req, ctx) => {
      const status = people[ctx.tenantId]?.[`${req.entityType}:${req.entityId}`];
      if (!status)
        throw new AppError({ code: 'ROSTER_ENTITY_NOT_FOUND', kind: 'not_found', message: 'not found' });
      return { entityType: req.entityType, entityId: req.entityId, status, dataJson: '{}' };
    }),
  };
  return startRosterStandIn({ implementation, callers: ['bookings'], logger });
}

describe('RosterService-backed person checks', () => {
  const tenant = uniqueName('school');
  let roster: GrpcServerHandle;
  let h: Harness;
  beforeAll(async () => {
    roster = await startRoster({
      [tenant]: {
        'staff:t1': 'active',
        'pupil:p1': 'active',
        'contact:c1': 'active',
        'pupil:gone': 'removed',
      },
    });
    h = await startHarness({ rosterAddress: `127.0.0.1:${roster.port}` });
  });
  afterAll(async () => {
    await h?.close();
    await roster?.shutdown(1_000);
  });

  it('books people the roster knows as active, refuses unknown and removed ones', async () => {
    const { slots } = await makeEvent(h, tenant, { id: 'ev', slotCount: 3 });
    expect((await book(h, tenant, slots[0]!.id, 't1', 'p1', 'c1')).status).toBe('booked');
    expect(await errorOf(book(h, tenant, slots[1]!.id, 't1', 'gone', 'c1'))).toMatchObject({
      code: GrpcStatus.FAILED_PRECONDITION,
      errorCode: 'BOOKINGS_PERSON_UNKNOWN',
      details: { kind: 'pupil', personId: 'gone' },
    });
    expect((await errorOf(book(h, tenant, slots[2]!.id, 't1', 'p1', 'nobody'))).details).toMatchObject({
      kind: 'contact',
      personId: 'nobody',
    });
  });

  it('reports an unreachable roster as UNAVAILABLE, not as an unknown person', async () => {
    const dead = createGrpcRosterDirectory('127.0.0.1:1', {
      deadlineMs: 500,
      identity: testClientIdentity('roster', 'bookings').keyring,
    });
    try {
      await expect(dead.directory.personExists(tenant, 'pupil', 'p1')).rejects.toMatchObject({
        code: 'BOOKINGS_ROSTER_UNAVAILABLE',
        kind: 'unavailable',
      });
    } finally {
      dead.close();
    }
  });
});
