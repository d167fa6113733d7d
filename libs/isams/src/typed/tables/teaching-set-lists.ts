import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** Teaching Manager – Teaching Set Lists, `TeachingManager/SetLists/SetList` (reference §2.2.13). */
export const teachingSetListsTable = defineTable({
  where: 'Teaching Manager › Set Lists',
  fields: {
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    /** (set, pupil) is what a membership is; without either the row cannot be matched. */
    setId: { kind: 'id', from: ['@SetId', 'SetId'], label: 'Set', identity: 'required' },
    pupilId: { kind: 'id', from: ['@PupilId', 'PupilId'], label: 'Pupil', identity: 'required' },
    /** Legacy `SchoolId` → Pupil/SchoolId. */
    schoolId: { kind: 'text', from: ['SchoolId'], label: 'School Id' },
    authorId: { kind: 'id', from: ['@AuthorId'], label: 'Author' },
    lastUpdated: { kind: 'date', from: ['LastUpdated'], label: 'Last updated' },
  },
});

export type TypedSetList = TypedOf<typeof teachingSetListsTable.fields>;
