import { DATASETS, DATASET_IDS } from './isams-lib';
import type { DatasetId } from './isams-lib';

// ASSUMED ([U] in reference §1.2): no public source names the MethodsToRun method of
// "Contacts (Filtered)"; the simulator calls it `Pupil_GetContactsFiltered`.
export const CONTACTS_METHOD = 'Pupil_GetContactsFiltered';

/** MethodsToRun name of each dataset as the simulator knows it. */
export const METHOD_OF: Readonly<Record<DatasetId, string>> = Object.fromEntries(
  DATASET_IDS.map((id) => [id, DATASETS[id].method ?? CONTACTS_METHOD]),
) as Record<DatasetId, string>;

const DATASET_OF_METHOD = new Map<string, DatasetId>(
  DATASET_IDS.map((id) => [METHOD_OF[id].toLowerCase(), id]),
);

// Reference §1.2: `…Filtered` variants run only with a per-module filter node; without one iSAMS
// answers FiltersRequiredException. ASSUMED ([U]): the variant is allocated with its dataset.
const FILTERED_METHODS = new Map<string, { dataset: DatasetId; filterNode: string }>([
  [
    'pupil_getcustompupilgroupmembershipfiltered',
    { dataset: 'customGroupMembership', filterNode: 'CustomPupilGroupMembershipFiltered' },
  ],
]);

/** The dataset of a method name (case-insensitive), or undefined for an unknown method. */
export function datasetForMethod(method: string): DatasetId | undefined {
  const name = method.trim().toLowerCase();
  return DATASET_OF_METHOD.get(name) ?? FILTERED_METHODS.get(name)?.dataset;
}

/** The filter node a method cannot run without (case-insensitive name), or undefined. */
export function requiredFilterNode(method: string): string | undefined {
  return FILTERED_METHODS.get(method.trim().toLowerCase())?.filterNode;
}

/** A method as iSAMS names it in messages: `SchoolReports_GetReports` → `SchoolReports - GetReports`. */
export function methodDisplayName(method: string): string {
  return method.trim().replace('_', ' - ');
}
