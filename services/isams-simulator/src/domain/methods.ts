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

/** The dataset of a method name (case-insensitive), or undefined for an unknown method. */
export function datasetForMethod(method: string): DatasetId | undefined {
  return DATASET_OF_METHOD.get(method.trim().toLowerCase());
}
