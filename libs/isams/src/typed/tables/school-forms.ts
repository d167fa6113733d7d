import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** School Manager – School Forms, `SchoolManager/Forms/Form` (reference §2.2.7). `id` is the form name. */
export const schoolFormsTable = defineTable({
  where: 'School Manager › Forms',
  fields: {
    /** The form name/code (`9W`, `12/BBN`): pupils link to forms by it. */
    id: { kind: 'text', from: ['@Id'], label: 'Form', identity: 'required' },
    tutorId: { kind: 'id', from: ['@TutorId'], label: 'Tutor' },
    assistantTutorId: { kind: 'id', from: ['@AssistantTutorId'], label: 'Assistant tutor' },
    secondAssistantTutorId: {
      kind: 'id',
      from: ['@SecondAssistantTutorId'],
      label: 'Second assistant tutor',
    },
    yearId: { kind: 'id', from: ['@YearId', 'NationalCurriculumYear'], label: 'Year' },
    roomId: { kind: 'id', from: ['@RoomId', 'RoomId'], label: 'Room' },
    authorId: { kind: 'id', from: ['@AuthorId'], label: 'Author' },
    tutorUserCode: { kind: 'text', from: ['Tutor'], label: 'Tutor' },
    assistantTutorUserCode: { kind: 'text', from: ['AssistantFormTutor'], label: 'Assistant tutor' },
    secondAssistantTutorUserCode: {
      kind: 'text',
      from: ['SecondAssistantFormTutor'],
      label: 'Second assistant tutor',
    },
    name: { kind: 'text', from: ['Form', '@Id'], label: 'Form' },
    emailAddress: { kind: 'text', from: ['EmailAddress'], label: 'E-mail address' },
    website: { kind: 'text', from: ['Website'], label: 'Website' },
    lastUpdated: { kind: 'date', from: ['LastUpdated'], label: 'Last updated' },
  },
});

export type TypedForm = TypedOf<typeof schoolFormsTable.fields>;
