// The catalogue shared with the client, so client and simulator agree on datasets and messages.
export { DATASETS, DATASET_IDS, isDatasetId, ISAMS_MESSAGES, renderMessageDocument } from '@isams-sync/isams';
export type { DatasetId, DatasetDescriptor, IsamsMessageSpec, RawElement } from '@isams-sync/isams';
