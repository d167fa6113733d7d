import type { BookableEvent } from './booking-model';

/** The time zone of a school that has not set one (the product's schools are in the UK). */
export const DEFAULT_SCHOOL_TIME_ZONE = 'Europe/London';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA formats as YYYY-MM-DD, which also sorts as a date.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True for an IANA time zone name the runtime knows (`Europe/London`, `Australia/Sydney`, `UTC`). */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(name)) return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The school's calendar date (`YYYY-MM-DD`) of an instant: 23:30 UTC on 14 June is 15 June in
 * London (BST) and 14 June in UTC. Daylight-saving changes are the runtime's tz database's.
 */
export function localDate(instant: Date, timeZone: string): string {
  return formatter(timeZone).format(instant);
}

/** Where an event stands on the school's calendar at `now`. */
export type EveningState = 'upcoming' | 'live' | 'ended';

/**
 * - `ended`: finished, or the school's date is past the event's last day (its day has passed, even
 *   if nobody set it to finished);
 * - `live`: marked `live`, or open/draft and taking place (in part) on the school's date today;
 * - `upcoming`: otherwise.
 *
 * The event's last day is the date of the instant just before `endsAt` (an evening ending at
 * midnight belongs to the day it started).
 */
export function eveningState(
  event: Pick<BookableEvent, 'status' | 'startsAt' | 'endsAt'>,
  now: Date,
  timeZone: string,
): EveningState {
  if (event.status === 'finished') return 'ended';
  const today = localDate(now, timeZone);
  const lastDay = localDate(
    new Date(Math.max(event.startsAt.getTime(), event.endsAt.getTime() - 1)),
    timeZone,
  );
  if (today > lastDay) return 'ended';
  if (event.status === 'live') return 'live';
  return today >= localDate(event.startsAt, timeZone) ? 'live' : 'upcoming';
}
