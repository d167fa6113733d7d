/**
 * `@isams-sync/isams` — the iSAMS Batch API: dataset catalogue, tolerant streaming parser (XML and
 * JSON), typed views read from one declarative table per dataset, and an HTTP client with retries, time-outs and egress proxy.
 * @packageDocumentation
 */
export { DATASETS, DATASET_ARTICLE_NAMES, DATASET_IDS, datasetArticleName, isDatasetId } from './datasets';
export type { DatasetId, DatasetDescriptor } from './datasets';
export type { RawElement } from './raw-element';
export { ISAMS_MESSAGES, renderMessageDocument } from './isams-messages';
export type { IsamsMessageSpec } from './isams-messages';

export { IsamsError, isIsamsError, ISAMS_ERRORS, ISAMS_ERROR_CODES } from './errors/isams-error';
export type { IsamsErrorCode, IsamsErrorSpec, IsamsErrorOptions } from './errors/isams-error';
export { classifyMessage, parseNotAllocatedMethods } from './errors/classify-message';
export type { IsamsMessage } from './errors/classify-message';
export { redactSecrets, redactUrl } from './errors/redact';

export { streamBatchDocument, streamBatchDocumentBatches } from './parser/stream-batch-document';
export { parseBatchDocument } from './parser/parse-batch-document';
export type { ParsedBatchDocument, CollectedDataset } from './parser/parse-batch-document';
export { FINDING_CODES, DEFAULT_PARSER_LIMITS } from './parser/parse-events';
export type { BatchParseEvent, Finding, ParserLimits, StreamBatchOptions } from './parser/parse-events';
export { boundText, SERVER_TEXT_MAX_CHARS } from './errors/bound-text';
export { jsonToRaw } from './parser/json-to-raw';

export { toTyped } from './typed/to-typed';
export { ID_MAX_CHARS } from './datasets';
export type { TypedResult } from './typed/to-typed';
export { DATASET_TABLES } from './typed/generated/tables';
export type { TypedRecord, TypedFieldPath } from './typed/generated/tables';
export { defineTable } from './typed/table';
export type {
  DatasetTable,
  FieldTable,
  FieldSpec,
  FieldKind,
  FieldPath,
  TypedOf,
  ScalarField,
  BoolField,
  StringListField,
  ListField,
  GroupField,
} from './typed/table';
export { attr, child, children, text, clean, attrOrElement } from './typed/raw-access';
export type {
  TypedStaff,
  TypedPupil,
  TypedContact,
  TypedCustomGroup,
  TypedCustomGroupMembership,
  TypedHouse,
  TypedForm,
  TypedDivision,
  TypedYear,
  TypedDepartment,
  TypedTeachingForm,
  TypedSet,
  TypedSetList,
} from './typed/generated/tables';

export {
  fetchBatch,
  fetchAndParse,
  fetchAndParseBatches,
  buildBatchUrl,
  withoutBatchEndpoint,
  backoffDelay,
  classifyErrorResponse,
} from './client/fetch-batch';
export type {
  BatchParser,
  FetchBatchOptions,
  BatchResponse,
  KnownBodyEvent,
  RetryPolicy,
} from './client/fetch-batch';
export type { BodyDigest, BodyDigestOptions } from './client/body-digest';
export { ISAMS_READER_VERSION } from './reader-version';
export { classifyNetworkError } from './client/network-errors';
export {
  ADDRESS_NOT_ALLOWED_MESSAGE,
  addressNotAllowed,
  createEgressGuard,
  matchesHostSuffix,
  refusedAddressRange,
  staticRefusal,
} from './client/egress-guard';
export type { EgressGuard, EgressPolicy, ResolvedAddress } from './client/egress-guard';
