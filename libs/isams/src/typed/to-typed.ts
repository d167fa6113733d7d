import type { z } from 'zod';
import { DATASETS } from '../datasets';
import type { DatasetId } from '../datasets';
import { FINDING_CODES } from '../parser/parse-events';
import type { Finding } from '../parser/parse-events';
import type { RawElement } from '../raw-element';
import { EXTRACTORS } from './extract';
import { clean, attr } from './raw-access';
import {
  contactSchema,
  customGroupMembershipSchema,
  customGroupSchema,
  departmentSchema,
  divisionSchema,
  formSchema,
  houseSchema,
  pupilSchema,
  setListSchema,
  setSchema,
  staffSchema,
  teachingFormSchema,
  yearSchema,
} from './schemas';

/** The zod schema of each dataset's typed view. */
export const TYPED_SCHEMAS = {
  currentStaff: staffSchema,
  contacts: contactSchema,
  currentPupils: pupilSchema,
  customGroupMembership: customGroupMembershipSchema,
  customGroups: customGroupSchema,
  academicHouses: houseSchema,
  boardingHouses: houseSchema,
  schoolForms: formSchema,
  schoolDivisions: divisionSchema,
  yearGroups: yearSchema,
  departmentsAndSubjects: departmentSchema,
  teachingForms: teachingFormSchema,
  teachingSets: setSchema,
  teachingSetLists: setListSchema,
} as const satisfies Record<DatasetId, z.ZodType>;

/** The typed record of a dataset, e.g. `TypedRecord<'teachingSets'>` = `TypedSet`. */
export type TypedRecord<D extends DatasetId> = z.output<(typeof TYPED_SCHEMAS)[D]>;

/** Result of {@link toTyped}. */
export type TypedResult<D extends DatasetId> =
  { ok: true; value: TypedRecord<D> } | { ok: false; finding: Finding };

/**
 * The typed, validated view of one raw record: trimmed strings, blank → `undefined`, iSAMS
 * booleans, modern attributes preferred over `Legacy` elements, case-insensitive names. A record
 * that fails validation yields a {@link Finding} instead (never throws).
 */
export function toTyped<D extends DatasetId>(datasetId: D, raw: RawElement): TypedResult<D> {
  const extracted = EXTRACTORS[datasetId](raw);
  const result = TYPED_SCHEMAS[datasetId].safeParse(extracted);
  if (result.success) return { ok: true, value: result.data as TypedRecord<D> };
  const { module, container, row } = DATASETS[datasetId];
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  const recordId = clean(attr(raw, 'Id'));
  const missingId = field === 'id' && recordId === undefined;
  return {
    ok: false,
    finding: {
      code: missingId ? FINDING_CODES.RECORD_MISSING_ID : FINDING_CODES.RECORD_INVALID_FIELD,
      datasetId,
      ...(recordId === undefined ? {} : { recordId }),
      path: `${module}/${container}/${row}${field ? `/${field}` : ''}`,
      message: missingId
        ? `A ${row} record has no Id; it is skipped.`
        : `${row} ${recordId ?? '(no id)'}: field "${field}" ${issue.message}; the record is skipped.`,
    },
  };
}
