// Temporary local copy of the @isams-sync/isams catalogue until that package has its src/index.ts;
// switch these re-exports to '@isams-sync/isams' when it lands (same names, same shapes).
export { DATASETS, DATASET_IDS, isDatasetId } from './isams-local/datasets';
export type { DatasetId, DatasetDescriptor } from './isams-local/datasets';
export { ISAMS_MESSAGES, renderMessageDocument } from './isams-local/isams-messages';
export type { IsamsMessageSpec } from './isams-local/isams-messages';
export type { RawElement } from './isams-local/raw-element';
