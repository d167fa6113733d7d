import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** Teaching Manager – Departments & Subjects, `TeachingManager/Departments/Department` (reference §2.2.10). */
export const departmentsAndSubjectsTable = defineTable({
  where: 'Teaching Manager › Departments & Subjects',
  fields: {
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    name: { kind: 'text', from: ['Name'], label: 'Name' },
    /** A subject can be under several departments; `<Subjects>` is omitted when there are none. */
    subjects: {
      kind: 'list',
      from: ['Subjects', 'Subject'],
      label: 'Subjects',
      item: {
        id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
        name: { kind: 'text', from: ['Name'], label: 'Name' },
        code: { kind: 'text', from: ['Code'], label: 'Code' },
      },
    },
  },
});

export type TypedDepartment = TypedOf<typeof departmentsAndSubjectsTable.fields>;
