import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** School Manager – Year Groups, `SchoolManager/Years/Year` (reference §2.2.9). `id` is the NC year. */
export const yearGroupsTable = defineTable({
  where: 'School Manager › Year Groups',
  fields: {
    /** The NC year number (may be negative: -2 Nursery, 0 Reception). */
    id: { kind: 'id', from: ['@Id', 'NationalCurriculumYear'], label: 'NC year', identity: 'required' },
    tutorId: { kind: 'id', from: ['@TutorId'], label: 'Tutor' },
    assistantTutorId: { kind: 'id', from: ['@AssistantTutorId'], label: 'Assistant tutor' },
    authorId: { kind: 'id', from: ['@AuthorId'], label: 'Author' },
    tutorUserCode: { kind: 'text', from: ['Tutor'], label: 'Tutor' },
    assistantTutorUserCode: { kind: 'text', from: ['AssistantTutor'], label: 'Assistant tutor' },
    name: { kind: 'text', from: ['Name'], label: 'Name' },
    code: { kind: 'text', from: ['Code'], label: 'Code' },
    email: { kind: 'text', from: ['Email'], label: 'E-mail' },
    website: { kind: 'text', from: ['Website'], label: 'Website' },
    lastUpdated: { kind: 'date', from: ['LastUpdated'], label: 'Last updated' },
  },
});

export type TypedYear = TypedOf<typeof yearGroupsTable.fields>;
