import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** Pupil Manager – Custom Groups, `PupilManager/CustomPupilGroups/CustomPupilGroup` (reference §2.2.4). */
export const customGroupsTable = defineTable({
  where: 'Pupil Manager › Custom Groups',
  fields: {
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    /** `@AuthorID`: an iSAMS user id, not a staff id. */
    authorId: { kind: 'id', from: ['@AuthorID'], label: 'Author' },
    name: { kind: 'text', from: ['Name'], label: 'Name' },
    categoryId: { kind: 'id', from: ['@CategoryId', 'CategoryId'], label: 'Category' },
    shared: { kind: 'bool', from: ['Shared'], label: 'Shared' },
    expiryDate: { kind: 'date', from: ['ExpiryDate'], label: 'Expiry date' },
    expiryDisable: { kind: 'bool', from: ['ExpiryDisable'], label: 'Never expires' },
    /** Legacy `Author`: the owner's staff UserCode. */
    authorUserCode: { kind: 'text', from: ['Author'], label: 'Author' },
    /** `Deleted` is only present (as 1) for deleted groups. */
    deleted: { kind: 'bool', from: ['Deleted', '@Deleted'], label: 'Deleted', absent: false },
  },
});

export type TypedCustomGroup = TypedOf<typeof customGroupsTable.fields>;
