import { describe, expect, it } from 'vitest';
import { assertStatusTransition, claimKeys, decideNewBooking } from '../../src/domain/booking-rules';
import { BookingsErrors } from '../../src/domain/bookings-errors';
import { booking, event, slot } from './fixtures';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'NO_ERROR';
};

describe('decideNewBooking', () => {
  const input = { slotId: 's1', pupilId: 'p1', contactId: 'c1', staffId: 't1' };

  it('takes the first free place of an open event', () => {
    expect(
      decideNewBooking(input, { event: event('e1'), slot: slot('s1'), activeInSlot: [], teacherActive: [] }),
    ).toEqual({ staffId: 't1', seat: 0 });
    const group = slot('s1', { capacity: 3 });
    expect(
      decideNewBooking(
        { ...input, pupilId: 'p9' },
        {
          event: event('e1'),
          slot: group,
          activeInSlot: [booking('b1', { seat: 0 }), booking('b2', { seat: 2, pupilId: 'p2' })],
          teacherActive: [],
        },
      ),
    ).toEqual({ staffId: 't1', seat: 1 });
  });

  it('uses the slot teacher when the request names none, and refuses another teacher', () => {
    const s = slot('s1', { staffId: 't7' });
    expect(
      decideNewBooking(
        { ...input, staffId: undefined },
        { event: event('e1'), slot: s, activeInSlot: [], teacherActive: [] },
      ).staffId,
    ).toBe('t7');
    expect(
      code(() =>
        decideNewBooking(input, { event: event('e1'), slot: s, activeInSlot: [], teacherActive: [] }),
      ),
    ).toBe('BOOKINGS_TEACHER_MISMATCH');
    expect(
      code(() =>
        decideNewBooking(
          { ...input, staffId: undefined },
          { event: event('e1'), slot: slot('s1'), activeInSlot: [], teacherActive: [] },
        ),
      ),
    ).toBe('BOOKINGS_INVALID_REQUEST');
  });

  it('refuses draft and finished events', () => {
    for (const status of ['draft', 'finished'] as const) {
      expect(
        code(() =>
          decideNewBooking(input, {
            event: event('e1', { status }),
            slot: slot('s1'),
            activeInSlot: [],
            teacherActive: [],
          }),
        ),
      ).toBe(BookingsErrors.BOOKINGS_EVENT_NOT_BOOKABLE.code);
    }
  });

  it('refuses a full slot and the same pupil twice in a slot', () => {
    expect(
      code(() =>
        decideNewBooking(
          { ...input, pupilId: 'p2' },
          { event: event('e1'), slot: slot('s1'), activeInSlot: [booking('b1')], teacherActive: [] },
        ),
      ),
    ).toBe('BOOKINGS_SLOT_FULL');
    expect(
      code(() =>
        decideNewBooking(input, {
          event: event('e1'),
          slot: slot('s1', { capacity: 5 }),
          activeInSlot: [booking('b1')],
          teacherActive: [],
        }),
      ),
    ).toBe('BOOKINGS_PUPIL_ALREADY_BOOKED');
  });

  it('refuses a teacher booked in another slot at an overlapping time, allows back-to-back', () => {
    const other = booking('b9', {
      slotId: 's2',
      eventId: 'e2',
      startsAt: new Date('2026-03-20T16:03:00Z'),
      endsAt: new Date('2026-03-20T16:08:00Z'),
    });
    expect(
      code(() =>
        decideNewBooking(input, {
          event: event('e1'),
          slot: slot('s1'),
          activeInSlot: [],
          teacherActive: [other],
        }),
      ),
    ).toBe('BOOKINGS_TEACHER_DOUBLE_BOOKED');
    const next = booking('b9', {
      slotId: 's2',
      startsAt: new Date('2026-03-20T16:05:00Z'),
      endsAt: new Date('2026-03-20T16:10:00Z'),
    });
    expect(
      decideNewBooking(input, {
        event: event('e1'),
        slot: slot('s1'),
        activeInSlot: [],
        teacherActive: [next],
      }).seat,
    ).toBe(0);
  });
});

describe('event status transitions', () => {
  it('allows draft→open→live→finished and refuses going back from finished or live', () => {
    expect(() => assertStatusTransition('draft', 'open')).not.toThrow();
    expect(() => assertStatusTransition('open', 'live')).not.toThrow();
    expect(() => assertStatusTransition('live', 'finished')).not.toThrow();
    expect(code(() => assertStatusTransition('finished', 'open'))).toBe('BOOKINGS_STATUS_TRANSITION');
    expect(code(() => assertStatusTransition('live', 'open'))).toBe('BOOKINGS_STATUS_TRANSITION');
    expect(code(() => assertStatusTransition('draft', 'live'))).toBe('BOOKINGS_STATUS_TRANSITION');
  });
});

describe('claimKeys', () => {
  it('claims a slot place and the teacher time while booked, and frees both when cancelled', () => {
    const b = booking('b1');
    expect(claimKeys(b, 1)).toEqual({ seatKey: 's1#0', teacherKey: 't1@2026-03-20T16:00:00.000Z' });
    expect(claimKeys(b, 4).teacherKey).toBe('t1@2026-03-20T16:00:00.000Z#s1#0');
    expect(claimKeys({ ...b, status: 'cancelled' }, 1)).toEqual({
      seatKey: 'free#b1',
      teacherKey: 'free#b1',
    });
  });
});
