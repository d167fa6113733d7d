import type { RawElement } from '@isams-sync/isams';
import { el, house, pupil, staff, year } from './raw';
import { withText } from './school-feed';
import type { Datasets } from './school-feed';

/** A quick school: `n` pupils (ids 1…n) in year 9, three staff, a house and a year group. */
export function miniSchool(
  n: number,
  opts: { without?: number[]; extra?: RawElement[]; renamed?: Record<number, string> } = {},
): Datasets {
  const pupils = Array.from({ length: n }, (_, i) => i + 1)
    .filter((i) => !(opts.without ?? []).includes(i))
    .map((i) => {
      const p = pupil(String(i), [el('NCYear', {}, '9'), el('Tutor', {}, 'UC1')]);
      return opts.renamed?.[i] === undefined ? p : withText(p, 'Surname', opts.renamed[i]);
    });
  return {
    currentStaff: [staff('1', 'UC1'), staff('2', 'UC2'), staff('3', 'UC3')],
    currentPupils: [...pupils, ...(opts.extra ?? [])],
    yearGroups: [year('9', 'Year 9')],
    academicHouses: [house('1', 'Kestrel')],
  };
}
