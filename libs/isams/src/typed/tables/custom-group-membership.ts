import { defineTable } from '../table';
import type { TypedOf } from '../table';

/**
 * Pupil Manager – Custom Group Membership,
 * `PupilManager/CustomPupilGroupMembershipItems/CustomPupilGroupMembershipItem` (reference §2.2.5).
 */
export const customGroupMembershipTable = defineTable({
  where: 'Pupil Manager › Custom Groups (the group’s members)',
  fields: {
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    /** `@PupilID` (capital ID) = CurrentPupils/Pupil/@Id. */
    pupilId: { kind: 'id', from: ['@PupilID', 'PupilID'], label: 'Pupil', identity: 'required' },
    customGroupId: {
      kind: 'id',
      from: ['@CustomGroupId', 'CustomGroupId'],
      label: 'Custom group',
      identity: 'required',
    },
  },
});

export type TypedCustomGroupMembership = TypedOf<typeof customGroupMembershipTable.fields>;
