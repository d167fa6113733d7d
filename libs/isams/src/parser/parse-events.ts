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

/**
 * Limits that stop a hostile or broken document before it can exhaust memory. Each one ends the
 * parse with its own error (no document text in it); the defaults are far above the largest real
 * school (the simulator's large school: depth 7, largest record ~1 KB, 30,000 rows in its largest
 * dataset, 41,875 rows in all).
 */
export interface ParserLimits {
  /** Deepest element nesting (XML elements / JSON objects and arrays) → `ISAMS_DOCUMENT_TOO_DEEP`. */
  maxDepth: number;
  /**
   * Largest record, and largest single value anywhere (text, attribute, name, comment, JSON string)
   * → `ISAMS_RECORD_TOO_LARGE`. A record's size is the characters of its names, attribute values
   * and text, each element, attribute and JSON value counting 16 more (so a record of many empty
   * elements is large too).
   */
  maxRecordBytes: number;
  /** Most records of one dataset (over all its containers) → `ISAMS_TOO_MANY_RECORDS`. */
  maxRecordsPerDataset: number;
  /** Most records of the whole document → `ISAMS_TOO_MANY_RECORDS`. */
  maxRecordsPerDocument: number;
}

/** The defaults of {@link ParserLimits}. */
export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = {
  maxDepth: 64,
  maxRecordBytes: 1024 * 1024,
  maxRecordsPerDataset: 500_000,
  maxRecordsPerDocument: 1_000_000,
};

/** Options of {@link streamBatchDocument}. */
export interface StreamBatchOptions {
  /** Depth, record-size and record-count limits; unset ones take {@link DEFAULT_PARSER_LIMITS}. */
  limits?: Partial<ParserLimits>;
  format: 'xml' | 'json';
  /**
   * The charset the response's `Content-Type` names (its `charset` parameter), if any: the bytes are
   * decoded in it unless a byte-order mark or UTF-16 bytes say otherwise (README › Text encoding).
   * A charset no decoder knows is `ISAMS_MALFORMED_DOCUMENT`. Input given as strings ignores it.
   */
  charset?: string;
  /** Stop with ISAMS_RESPONSE_TOO_LARGE once more bytes than this were read. */
  maxBytes?: number;
  /**
   * Track record ids per dataset to report duplicates. Default true. Ids are kept as 64-bit hashes
   * (8 bytes each, at most `maxRecordsPerDocument` of them), not as strings.
   */
  detectDuplicates?: boolean;
}
