import { describe, expect, it } from 'vitest';
import { decideRemoval } from '../../src/domain/removal-decision';
import { eveningState, isTimeZone, localDate } from '../../src/domain/school-calendar';
import { booking, event } from './fixtures';

const at = (iso: string) => new Date(iso);
// 15 June 2027, 16:00–20:00 British Summer Time (UTC+1) = 15:00–19:00 UTC.
const juneEvening = event('june', {
  startsAt: at('2027-06-15T15:00:00Z'),
  endsAt: at('2027-06-15T19:00:00Z'),
});

describe('the school’s calendar', () => {
  it('dates an instant in the school’s time zone, across midnight and daylight saving', () => {
    expect(localDate(at('2027-06-14T23:30:00Z'), 'Europe/London')).toBe('2027-06-15');
    expect(localDate(at('2027-06-14T23:30:00Z'), 'UTC')).toBe('2027-06-14');
    expect(localDate(at('2027-01-14T23:30:00Z'), 'Europe/London')).toBe('2027-01-14'); // GMT in winter
    expect(localDate(at('2027-03-09T21:00:00Z'), 'Australia/Sydney')).toBe('2027-03-10');
    // The night the clocks go forward (28 March 2027, 01:00 GMT → 02:00 BST).
    expect(localDate(at('2027-03-27T23:59:00Z'), 'Europe/London')).toBe('2027-03-27');
    expect(localDate(at('2027-03-28T00:00:00Z'), 'Europe/London')).toBe('2027-03-28');
    expect(localDate(at('2027-03-28T23:30:00Z'), 'Europe/London')).toBe('2027-03-29');
  });

  it('knows IANA names and refuses anything else', () => {
    for (const tz of ['Europe/London', 'Australia/Sydney', 'America/Argentina/Buenos_Aires', 'UTC'])
      expect(isTimeZone(tz)).toBe(true);
    for (const tz of ['', 'Mars/Olympus', 'Europe/London; drop', '../etc', 'Europe//London'])
      expect(isTimeZone(tz)).toBe(false);
  });

  it('an evening open today in the school’s time zone is live, though UTC still says yesterday', () => {
    const halfPastMidnightBst = at('2027-06-14T23:30:00Z');
    expect(eveningState(juneEvening, halfPastMidnightBst, 'Europe/London')).toBe('live');
    expect(eveningState(juneEvening, halfPastMidnightBst, 'UTC')).toBe('upcoming');
  });

  it('an evening’s day passes at the school’s midnight, not at UTC’s; finished or past is ended', () => {
    expect(eveningState(juneEvening, at('2027-06-15T22:59:00Z'), 'Europe/London')).toBe('live');
    expect(eveningState(juneEvening, at('2027-06-15T23:00:00Z'), 'Europe/London')).toBe('ended');
    expect(
      eveningState({ ...juneEvening, status: 'live' }, at('2027-06-15T23:00:00Z'), 'Europe/London'),
    ).toBe('ended');
    expect(
      eveningState({ ...juneEvening, status: 'finished' }, at('2027-06-15T16:00:00Z'), 'Europe/London'),
    ).toBe('ended');
    // Marked live days ahead: live until its own day has passed.
    expect(
      eveningState({ ...juneEvening, status: 'live' }, at('2027-06-01T10:00:00Z'), 'Europe/London'),
    ).toBe('live');
  });

  it('an evening ending at midnight belongs to the day it started', () => {
    const late = event('late', { startsAt: at('2027-01-10T20:00:00Z'), endsAt: at('2027-01-11T00:00:00Z') });
    expect(eveningState(late, at('2027-01-11T00:00:00Z'), 'Europe/London')).toBe('ended');
  });

  it('a removal at 08:00 in Sydney on the evening’s day holds its bookings (21:00 UTC the day before)', () => {
    // 10 March 2027, 17:00–20:00 AEDT (UTC+11).
    const sydney = event('e1', { startsAt: at('2027-03-10T06:00:00Z'), endsAt: at('2027-03-10T09:00:00Z') });
    const b = booking('b1', { startsAt: sydney.startsAt, endsAt: at('2027-03-10T06:10:00Z') });
    const removal = {
      kind: 'pupil',
      personId: 'p1',
      reason: 'absent_from_feed',
      rosterEventId: 'r1',
    } as const;
    const events = new Map([['e1', sydney]]);
    const morning = at('2027-03-09T21:00:00Z');
    expect(decideRemoval(removal, [b], events, morning, 'Australia/Sydney').hold.map((x) => x.id)).toEqual([
      'b1',
    ]);
    expect(decideRemoval(removal, [b], events, morning, 'UTC').cancel.map((x) => x.id)).toEqual(['b1']);
  });
});
