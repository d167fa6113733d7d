import { defineErrors } from '@isams-sync/errors';

/** Error catalogue of the simulator's admin API (stable `SIM_*` codes). */
export const SimErrors = defineErrors({
  SIM_SCHOOL_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { schoolId: string }) => `School ${d.schoolId} not found`,
  },
  SIM_SCHOOL_EXISTS: {
    kind: 'already_exists',
    message: (d: { schoolId: string }) => `School ${d.schoolId} already exists`,
  },
  SIM_API_KEY_IN_USE: { kind: 'already_exists', message: 'The API key is already used by another school' },
  SIM_RECORD_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { entity: string; id: string | number }) => `${d.entity} ${d.id} not found`,
  },
  SIM_NOT_MUTABLE: {
    kind: 'failed_precondition',
    message: 'Schools loaded from an XML file support only key, dataset and fault changes',
  },
  SIM_INVALID_REQUEST: { kind: 'invalid_argument', message: (d: { reason: string }) => d.reason },
  SIM_XML_INVALID: {
    kind: 'invalid_argument',
    message: (d: { reason: string }) => `Cannot load the XML document: ${d.reason}`,
  },
});
