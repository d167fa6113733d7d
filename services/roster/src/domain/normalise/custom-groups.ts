import { ROSTER_FINDING_CODES as F } from '../roster-model';
import { addFinding, entity, keepUnreadable, readDataset, skip, unsure } from './context';
import type { FieldSources, NormaliseContext, ReadRow } from './context';
import { addMembership, idSet, staffByCode } from './references';
import type { References } from './references';

export const GROUP_SOURCES = {
  name: ['name'],
  categoryId: ['categoryId'],
  shared: ['shared'],
  expiryDate: ['expiryDate'],
  ownerStaffId: ['authorUserCode'],
} as const satisfies FieldSources<'customGroups'>;

/** Parses an iSAMS date-time (no zone = UTC) or returns undefined. */
export function parseIsamsDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const withZone = /(?:Z|[+-]\d\d:?\d\d)$/.test(value)
    ? value
    : `${value.length === 10 ? `${value}T00:00:00` : value}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : ms;
}

type GroupStatus = 'active' | 'deleted' | 'expired' | 'unknown';

/**
 * Deleted and expired groups are excluded — but only on readable evidence: a group whose
 * `Deleted`, `ExpiryDate` or (once expired) `ExpiryDisable` cannot be read, or is not the same in
 * the copies of a repeated record, has an unknown status.
 */
function statusOf(row: ReadRow<'customGroups'>, asOf: number): GroupStatus {
  const g = row.value;
  if (unsure(row, 'deleted')) return 'unknown';
  if (g.deleted === true) return 'deleted';
  if (unsure(row, 'expiryDate')) return 'unknown';
  const expiry = parseIsamsDate(g.expiryDate);
  if (expiry === undefined || expiry >= asOf || g.expiryDisable === true) return 'active';
  return unsure(row, 'expiryDisable') ? 'unknown' : 'expired';
}

/**
 * Custom groups (deleted and expired excluded) and their memberships `<groupId>:<pupilId>`. A group
 * whose status cannot be read is kept as stored when it is stored, and not imported when it is new:
 * an unreadable value neither removes nor adds it.
 */
export function normaliseCustomGroups(ctx: NormaliseContext, refs: References): void {
  const excluded = new Map<string, 'deleted' | 'expired' | 'unknown'>();
  const asOf = ctx.snapshot.asOf.getTime();
  const rows = readDataset(ctx, 'customGroups');
  for (const row of rows) {
    const g = row.value;
    const status = statusOf(row, asOf);
    if (status === 'unknown') {
      const stored = ctx.snapshot.fallback?.customGroup?.has(g.id) === true;
      addFinding(ctx, {
        code: F.GROUP_STATUS_UNREADABLE,
        datasetId: 'customGroups',
        recordId: g.id,
        message: `Custom group ${g.id}: whether it is deleted or expired cannot be read (or its copies disagree); ${stored ? 'it is kept as it is' : 'it is not imported until it can be read'}.`,
      });
      if (!stored) {
        excluded.set(g.id, 'unknown');
        skip(ctx, 'customGroup');
        continue;
      }
    } else if (status !== 'active') {
      excluded.set(g.id, status);
      addFinding(ctx, {
        code: status === 'deleted' ? F.GROUP_DELETED : F.GROUP_EXPIRED,
        severity: 'info',
        datasetId: 'customGroups',
        recordId: g.id,
        message: `Custom group ${g.id} is ${status}; it and its memberships are not imported.`,
      });
      skip(ctx, 'customGroup');
      continue;
    }
    ctx.entities.customGroup.set(
      g.id,
      entity({
        id: g.id,
        name: g.name,
        categoryId: g.categoryId,
        shared: g.shared ?? false,
        expiryDate: g.expiryDate,
        ownerStaffId: staffByCode(ctx, refs, g.authorUserCode, {
          datasetId: 'customGroups',
          recordId: g.id,
          field: 'Author',
        }),
      }),
    );
    keepUnreadable(ctx, 'customGroup', g.id, row, GROUP_SOURCES);
  }
  normaliseMemberships(ctx, refs, excluded);
}

/**
 * Custom group memberships `<groupId>:<pupilId>`, de-duplicated; those of excluded groups not
 * imported. A row is read by its id and membership: one row id repeated for other pupils is as
 * many memberships.
 */
function normaliseMemberships(
  ctx: NormaliseContext,
  refs: References,
  excluded: ReadonlyMap<string, 'deleted' | 'expired' | 'unknown'>,
): void {
  const groupIds = idSet(ctx, 'customGroups', ctx.entities.customGroup.keys(), 'customGroup');
  const rows = readDataset(
    ctx,
    'customGroupMembership',
    (r) => `${r.value.id}/${r.value.customGroupId}:${r.value.pupilId}`,
  );
  for (const { value: m } of rows) {
    const reason = excluded.get(m.customGroupId);
    if (reason !== undefined) {
      addFinding(ctx, {
        code: F.MEMBERSHIP_OF_EXCLUDED_GROUP,
        severity: 'info',
        datasetId: 'customGroupMembership',
        recordId: m.id,
        ref: m.customGroupId,
        message:
          reason === 'unknown'
            ? `Membership ${m.id} belongs to custom group ${m.customGroupId}, which is not imported (its status cannot be read).`
            : `Membership ${m.id} belongs to excluded custom group ${m.customGroupId}; not imported.`,
      });
      skip(ctx, 'customGroupMembership');
      continue;
    }
    addMembership(
      ctx,
      'customGroupMembership',
      m.id,
      [
        ['customGroupId', groupIds, m.customGroupId, 'custom group', 'CustomGroupId'],
        ['pupilId', refs.pupilIds, m.pupilId, 'current pupil', '@PupilID'],
      ],
      {
        code: F.DUPLICATE_GROUP_MEMBERSHIP,
        message: `Membership ${m.id} repeats group ${m.customGroupId} for a pupil already in it; de-duplicated.`,
      },
    );
  }
}
