import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** Pupil Manager – Contacts (Filtered), `PupilManager/Contacts/Contact` (reference §2.2.3). */
export const contactsTable = defineTable({
  where: 'Pupil Manager › Contacts',
  fields: {
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    /** Keys the person (a joint record holds two); when present it must be readable. */
    personId: { kind: 'id', from: ['@PersonId'], label: 'Person Id', identity: 'ifPresent' },
    isFirstPersonContact: {
      kind: 'bool',
      from: ['@IsFirstPersonContact', 'IsFirstPersonContact'],
      label: '1st person contact',
    },
    title: { kind: 'text', from: ['Title'], label: 'Title' },
    forename: { kind: 'text', from: ['Forename'], label: 'Forename' },
    middleNames: { kind: 'text', from: ['MiddleNames', 'Middlename'], label: 'Middle names' },
    surname: { kind: 'text', from: ['Surname'], label: 'Surname' },
    relationship: { kind: 'text', from: ['RelationshipRaw', 'Relationship'], label: 'Relationship' },
    emailAddress: { kind: 'text', from: ['EmailAddress'], label: 'E-mail address' },
    /** `EmailAddress` split on `;`, `,` and whitespace. */
    emailAddresses: { kind: 'emails', from: ['EmailAddress'], label: 'E-mail address' },
    telephone: { kind: 'text', from: ['Telephone'], label: 'Telephone' },
    mobile: { kind: 'text', from: ['Mobile'], label: 'Mobile' },
    profession: { kind: 'text', from: ['Profession'], label: 'Profession' },
    address: {
      kind: 'group',
      from: ['Address'],
      label: 'Address',
      fields: {
        lines: { kind: 'texts', from: ['AddressLines'], label: 'Address lines' },
        town: { kind: 'text', from: ['Town'], label: 'Town' },
        county: { kind: 'text', from: ['County'], label: 'County' },
        postcode: { kind: 'text', from: ['Postcode'], label: 'Postcode' },
        country: { kind: 'text', from: ['Country'], label: 'Country' },
      },
    },
    mailMergeAll: { kind: 'bool', from: ['MailMergeAll'], label: 'Mail merge (all)' },
    correspondenceMailMerge: {
      kind: 'bool',
      from: ['CorrespondenceMailMerge'],
      label: 'Correspondence mail merge',
    },
    /** Linked pupils, including non-current ones (`status`). */
    pupils: {
      kind: 'list',
      from: ['Pupils', 'Pupil'],
      label: 'Pupils',
      item: {
        id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
        schoolId: { kind: 'text', from: ['@SchoolId', 'SchoolId'], label: 'School Id' },
        status: { kind: 'text', from: ['Status'], label: 'Status' },
      },
    },
  },
});

export type TypedContact = TypedOf<typeof contactsTable.fields>;
