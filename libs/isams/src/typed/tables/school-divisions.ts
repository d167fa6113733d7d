import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** School Manager – School Divisions, `SchoolManager/SchoolDivisions/SchoolDivision` (reference §2.2.8). */
export const schoolDivisionsTable = defineTable({
  where: 'School Manager › Divisions',
  fields: {
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    name: { kind: 'text', from: ['Name'], label: 'Name' },
    code: { kind: 'text', from: ['Code'], label: 'Code' },
    lastUpdated: { kind: 'date', from: ['LastUpdated'], label: 'Last updated' },
    authorUserCode: { kind: 'text', from: ['Author'], label: 'Author' },
    /** `id` is the link-row id; `yearId` (the NC year) identifies the year in the division. */
    years: {
      kind: 'list',
      from: ['Years', 'Year'],
      label: 'Years',
      item: {
        id: { kind: 'id', from: ['@Id'], label: 'Id' },
        yearId: {
          kind: 'id',
          from: ['@YearId', 'NationalCurriculumYear'],
          label: 'Year',
          identity: 'required',
        },
      },
    },
  },
});

export type TypedDivision = TypedOf<typeof schoolDivisionsTable.fields>;
