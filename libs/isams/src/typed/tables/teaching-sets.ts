import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** Teaching Manager – Teaching Sets, `TeachingManager/Sets/Set` (reference §2.2.12). */
export const teachingSetsTable = defineTable({
  where: 'Teaching Manager › Sets',
  fields: {
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    subjectId: { kind: 'id', from: ['@SubjectId', 'SubjectId'], label: 'Subject' },
    yearId: { kind: 'id', from: ['@YearId', 'YearId'], label: 'Year' },
    authorId: { kind: 'id', from: ['@AuthorId'], label: 'Author' },
    /** Legacy `Teacher` element: the primary teacher's UserCode. */
    primaryTeacherUserCode: { kind: 'text', from: ['Teacher'], label: 'Teacher' },
    authorUserCode: { kind: 'text', from: ['Author'], label: 'Author' },
    setNumber: { kind: 'text', from: ['SetNumber'], label: 'Set number' },
    block: { kind: 'text', from: ['Block'], label: 'Block' },
    setCode: { kind: 'text', from: ['SetCode'], label: 'Set code' },
    name: { kind: 'text', from: ['Name'], label: 'Name' },
    /** `id` is the link-row id; `staffId` = StaffMember/@Id identifies the teacher. */
    teachers: {
      kind: 'list',
      from: ['Teachers', 'Teacher'],
      label: 'Teachers',
      item: {
        id: { kind: 'id', from: ['@Id'], label: 'Id' },
        staffId: { kind: 'id', from: ['@StaffId'], label: 'Staff', identity: 'required' },
        primaryTeacher: { kind: 'bool', from: ['@PrimaryTeacher'], label: 'Primary teacher' },
      },
    },
    description: { kind: 'text', from: ['Description'], label: 'Description' },
    lastUpdated: { kind: 'date', from: ['LastUpdated'], label: 'Last updated' },
  },
});

export type TypedSet = TypedOf<typeof teachingSetsTable.fields>;
