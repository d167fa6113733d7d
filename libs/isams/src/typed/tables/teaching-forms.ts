import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** Teaching Manager – Teaching Forms, `TeachingManager/TeachingForms/TeachingForm` (reference §2.2.11). */
export const teachingFormsTable = defineTable({
  where: 'Teaching Manager › Teaching Forms',
  fields: {
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    /** = Forms/Form/@Id (the form name). */
    formCode: { kind: 'text', from: ['FormCode'], label: 'Form' },
    timetableCode: { kind: 'text', from: ['TimetableCode'], label: 'Timetable code' },
    /** An element here, not an attribute. */
    subjectId: { kind: 'id', from: ['SubjectId', '@SubjectId'], label: 'Subject' },
  },
});

export type TypedTeachingForm = TypedOf<typeof teachingFormsTable.fields>;
