import type { DatasetId } from '../datasets';
import type { RawElement } from '../raw-element';

/** A per-record or per-document problem that does not stop the parse. */
export interface Finding {
  /** Stable code, e.g. `ISAMS_FIELD_UNREADABLE`, `ISAMS_RECORD_MISSING_ID`, `ISAMS_DUPLICATE_RECORD_ID`. */
  code: string;
  /** The dataset concerned; `undefined` for document-level findings (e.g. unknown elements). */
  datasetId?: DatasetId;
  /** The record's id, when it has one. */
  recordId?: string;
  /** Element path (e.g. `TeachingManager/Sets/Set/Teachers/Teacher/@PrimaryTeacher`). */
  path?: string;
  /** The same path relative to the record's row (e.g. `Teachers/Teacher/@PrimaryTeacher`), for field findings. */
  field?: string;
  /** Human-readable description; never contains personal data beyond ids. */
  message: string;
}

/** Stable finding codes produced by the parser and the typed view. */
export const FINDING_CODES = {
  /** The record has no Id: it cannot be matched and is left out. */
  RECORD_MISSING_ID: 'ISAMS_RECORD_MISSING_ID',
  /** Another field the record is identified by is missing or unreadable: left out. */
  RECORD_INVALID_FIELD: 'ISAMS_RECORD_INVALID_FIELD',
  /** A field that does not identify the record cannot be read: the record is kept without it. */
  FIELD_UNREADABLE: 'ISAMS_FIELD_UNREADABLE',
  DUPLICATE_RECORD_ID: 'ISAMS_DUPLICATE_RECORD_ID',
  DUPLICATE_SET_MEMBERSHIP: 'ISAMS_DUPLICATE_SET_MEMBERSHIP',
  DUPLICATE_CONTAINER: 'ISAMS_DUPLICATE_CONTAINER',
  UNEXPECTED_ELEMENT: 'ISAMS_UNEXPECTED_ELEMENT',
} as const;

/** The events {@link streamBatchDocument} yields, in document order. */
export type BatchParseEvent =
  | {
      type: 'dataset';
      datasetId: DatasetId;
      present: true;
      /** 1 for the first container of this dataset, 2+ when a second sibling container appears. */
      occurrence: number;
    }
  | { type: 'record'; datasetId: DatasetId; raw: RawElement }
  | {
      type: 'dataset-end';
      datasetId: DatasetId;
      /** Rows in this container. */
      count: number;
      /** Rows of this dataset so far, over all its containers. */
      total: number;
    }
  | { type: 'finding'; finding: Finding }
  | {
      type: 'end';
      /** Canonical datasets whose container did not appear at all. */
      absent: DatasetId[];
      /** `Module/Container` paths that are not one of our datasets (e.g. `PupilManager/Siblings`). */
      unknownContainers: string[];
      /** Bytes read from the input. */
      bytes: number;
    };

/** Options of {@link streamBatchDocument}. */
export interface StreamBatchOptions {
  format: 'xml' | 'json';
  /** Stop with ISAMS_RESPONSE_TOO_LARGE once more bytes than this were read. */
  maxBytes?: number;
  /** Track record ids per dataset to report duplicates (memory grows with the number of ids). Default true. */
  detectDuplicates?: boolean;
}
