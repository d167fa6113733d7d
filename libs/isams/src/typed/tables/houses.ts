import { defineTable } from '../table';
import type { TypedOf } from '../table';

/**
 * School Manager – Academic Houses and Boarding Houses (one table: the same `House` element),
 * `SchoolManager/AcademicHouses/House`, `SchoolManager/BoardingHouses/House` (reference §2.2.6).
 */
export const housesTable = defineTable({
  where: 'School Manager › Houses',
  fields: {
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    houseMasterId: { kind: 'id', from: ['@HouseMasterId'], label: 'House master' },
    assistantHouseMasterId: {
      kind: 'id',
      from: ['@AssistantHouseMasterId'],
      label: 'Assistant house master',
    },
    houseMasterUserCode: { kind: 'text', from: ['HouseMaster'], label: 'House master' },
    assistantHouseMasterUserCode: {
      kind: 'text',
      from: ['AssistantHouseMaster'],
      label: 'Assistant house master',
    },
    name: { kind: 'text', from: ['Name'], label: 'Name' },
    code: { kind: 'text', from: ['Code'], label: 'Code' },
    type: { kind: 'text', from: ['Type'], label: 'Type' },
    sex: { kind: 'text', from: ['Sex'], label: 'Sex' },
    address1: { kind: 'text', from: ['Address1'], label: 'Address 1' },
    address2: { kind: 'text', from: ['Address2'], label: 'Address 2' },
    address3: { kind: 'text', from: ['Address3'], label: 'Address 3' },
    town: { kind: 'text', from: ['Town'], label: 'Town' },
    county: { kind: 'text', from: ['County'], label: 'County' },
    country: { kind: 'text', from: ['Country'], label: 'Country' },
    postcode: { kind: 'text', from: ['Postcode'], label: 'Postcode' },
    telephone: { kind: 'text', from: ['Telephone'], label: 'Telephone' },
    fax: { kind: 'text', from: ['Fax'], label: 'Fax' },
    primaryEmail: { kind: 'text', from: ['PrimaryEmail'], label: 'Primary e-mail' },
    secondaryEmail: { kind: 'text', from: ['SecondaryEmail'], label: 'Secondary e-mail' },
    website: { kind: 'text', from: ['Website'], label: 'Website' },
  },
});

export type TypedHouse = TypedOf<typeof housesTable.fields>;
