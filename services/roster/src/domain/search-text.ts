import type { RosterEntityType } from '@isams-sync/events';
import type { RosterEntity } from './roster-model';

const SEARCH_FIELDS = [
  'forename',
  'surname',
  'preferredName',
  'fullName',
  'name',
  'code',
  'setCode',
  'userCode',
  'initials',
  'schoolId',
  'schoolCode',
  'email',
];

/** Lower-cased text the Search RPCs match against (names and codes only). */
export function searchText(_entityType: RosterEntityType, data: RosterEntity): string {
  const parts = [data.id, ...SEARCH_FIELDS.map((f) => data[f])].filter(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  if (Array.isArray(data.emails))
    parts.push(...data.emails.filter((e): e is string => typeof e === 'string'));
  return parts.join(' ').toLowerCase();
}
