import { DATASETS, DATASET_IDS } from '../datasets';
import type { DatasetId } from '../datasets';
import { boundText } from '../errors/bound-text';
import { IsamsError } from '../errors/isams-error';
import { NO_ATTRIBUTES, NO_CHILDREN } from '../raw-element';
import type { RawElement } from '../raw-element';
import { attr, attrOrElement, clean } from '../typed/raw-access';
import { CompactIdSet } from './compact-id-set';
import { tooManyRecords } from './limits';
import { FINDING_CODES } from './parse-events';
import type { BatchParseEvent, Finding, ParserLimits } from './parse-events';

/** At most this many distinct unknown `Module/Container` paths are listed (a hostile document can have millions). */
const MAX_UNKNOWN_CONTAINERS = 100;
/** Longest id quoted in a finding. */
const FINDING_ID_MAX_CHARS = 100;

const BY_PATH = new Map<string, DatasetId>(
  DATASET_IDS.map((id) => [
    `${DATASETS[id].module.toLowerCase()}/${DATASETS[id].container.toLowerCase()}`,
    id,
  ]),
);

/** Resolves `Module/Container` (case-insensitively) to a canonical dataset id. */
export function datasetForContainer(module: string, container: string): DatasetId | undefined {
  return BY_PATH.get(`${module.toLowerCase()}/${container.toLowerCase()}`);
}

/**
 * Text directly inside a dataset's container, where only its rows belong (`<CurrentPupils>junk<Pupil>`,
 * JSON `"CurrentPupils": "junk"` or a `#text` beside the rows). iSAMS never writes it; it may be a row
 * mangled into text, and the dataset read without that row would look complete — the row's record
 * would be removed. So the document is refused (the text itself is never quoted).
 */
export function textWhereRowsBelong(
  datasetId: DatasetId,
  module: string,
  container: string,
  position: number,
): IsamsError {
  const path = boundText(`${module}/${container}`, 200);
  return new IsamsError({
    code: 'ISAMS_MALFORMED_DOCUMENT',
    message: `The iSAMS document has text directly inside ${path}, where only ${DATASETS[datasetId].row} rows belong (at character ${position}): a row may have been damaged, so the document was not used.`,
    details: { path, position, datasetId },
    adminAction:
      'The document has text where records belong, which iSAMS does not write, so SchoolCloud stopped reading it and changed nothing. Check that the host name points at the iSAMS server (not a proxy that rewrites responses); if it does, contact SchoolCloud support with this message.',
  });
}

/** True when `name` is the dataset's row element name (case-insensitively). */
export function isRowName(datasetId: DatasetId, name: string): boolean {
  return DATASETS[datasetId].row.toLowerCase() === name.toLowerCase();
}

/**
 * Adds the record's key to `ids`; false when it was there. One contact record can hold two people
 * that may share Contact/@Id (reference §2.2.3): its key is `id|PersonId|IsFirstPersonContact`.
 */
function addKey(ids: CompactIdSet, datasetId: DatasetId, raw: RawElement, id: string): boolean {
  if (datasetId === 'contacts')
    return ids.addJoined(
      id,
      clean(attr(raw, 'PersonId')) ?? '',
      clean(attr(raw, 'IsFirstPersonContact')) ?? '',
    );
  return ids.add(id);
}

/** What is counted of one dataset: its records so far, and its ids when duplicates are detected. */
interface Tally {
  total: number;
  ids: CompactIdSet | undefined;
}

/**
 * Format-independent bookkeeping shared by the XML and JSON readers: turns container/row
 * callbacks into {@link BatchParseEvent}s, counts rows and reports structural findings.
 */
export class DocumentSink {
  readonly out: BatchParseEvent[] = [];
  private readonly seen = new Set<DatasetId>();
  private readonly occurrences = new Map<DatasetId, number>();
  private readonly tallies = new Map<DatasetId, Tally>();
  private readonly memberships = new CompactIdSet();
  private readonly unknown = new Set<string>();
  private records = 0;
  private current: { datasetId: DatasetId; count: number } | undefined;

  constructor(
    private readonly detectDuplicates: boolean,
    private readonly limits: Pick<ParserLimits, 'maxRecordsPerDataset' | 'maxRecordsPerDocument'>,
  ) {}

  /** A container element started; returns its dataset or `undefined` when it is not one of ours. */
  containerStart(module: string, container: string): DatasetId | undefined {
    const datasetId = datasetForContainer(module, container);
    if (datasetId === undefined) {
      if (this.unknown.size < MAX_UNKNOWN_CONTAINERS)
        this.unknown.add(boundText(`${module}/${container}`, 200));
      return undefined;
    }
    const occurrence = (this.occurrences.get(datasetId) ?? 0) + 1;
    this.occurrences.set(datasetId, occurrence);
    this.seen.add(datasetId);
    if (occurrence > 1) {
      this.finding({
        code: FINDING_CODES.DUPLICATE_CONTAINER,
        datasetId,
        path: `${module}/${container}`,
        message: `Container ${module}/${container} appears ${occurrence} times (two methods emit it); rows of all of them are reported.`,
      });
    }
    this.out.push({ type: 'dataset', datasetId, present: true, occurrence });
    this.current = { datasetId, count: 0 };
    return datasetId;
  }

  containerEnd(): void {
    if (this.current === undefined) return;
    const { datasetId, count } = this.current;
    this.out.push({ type: 'dataset-end', datasetId, count, total: this.tallies.get(datasetId)?.total ?? 0 });
    this.current = undefined;
  }

  /**
   * One record of `datasetId`. Throws `ISAMS_TOO_MANY_RECORDS` past the per-dataset or per-document
   * limit (before the record is handed on). Duplicate ids are detected on 64-bit hashes
   * ({@link CompactIdSet}): the finding is only a report, every record is passed on either way.
   */
  record(datasetId: DatasetId, raw: RawElement): void {
    let tally = this.tallies.get(datasetId);
    if (tally === undefined) this.tallies.set(datasetId, (tally = { total: 0, ids: undefined }));
    if (tally.total + 1 > this.limits.maxRecordsPerDataset)
      throw tooManyRecords(this.limits.maxRecordsPerDataset, datasetId);
    this.records += 1;
    if (this.records > this.limits.maxRecordsPerDocument)
      throw tooManyRecords(this.limits.maxRecordsPerDocument);
    if (this.current !== undefined) this.current.count += 1;
    tally.total += 1;
    this.out.push({ type: 'record', datasetId, raw });
    const id = clean(attr(raw, 'Id'));
    // A missing id is a record-level problem reported by toTyped (ISAMS_RECORD_MISSING_ID).
    if (id === undefined || !this.detectDuplicates) return;
    const ids = (tally.ids ??= new CompactIdSet());
    if (!addKey(ids, datasetId, raw, id)) {
      const { module, container, row } = DATASETS[datasetId];
      const shown = boundText(id, FINDING_ID_MAX_CHARS);
      this.finding({
        code: FINDING_CODES.DUPLICATE_RECORD_ID,
        datasetId,
        recordId: shown,
        path: `${module}/${container}/${row}/@Id`,
        message: `Record id ${shown} appears more than once in ${container}.`,
      });
    }
    if (datasetId === 'teachingSetLists') {
      const setId = attrOrElement(raw, 'SetId');
      const pupilId = clean(attr(raw, 'PupilId'));
      if (setId !== undefined && pupilId !== undefined && !this.memberships.addJoined(setId, pupilId)) {
        this.finding({
          code: FINDING_CODES.DUPLICATE_SET_MEMBERSHIP,
          datasetId,
          recordId: boundText(id, FINDING_ID_MAX_CHARS),
          message: `Pupil ${boundText(pupilId, FINDING_ID_MAX_CHARS)} is listed in set ${boundText(setId, FINDING_ID_MAX_CHARS)} more than once.`,
        });
      }
    }
  }

  /**
   * An element directly inside `datasetId`'s container whose name is not the dataset's row
   * (`<Pupl Id="2">` beside the `<Pupil>` rows; in JSON a key beside "Pupil", each item of its list
   * one element). iSAMS writes only rows there, so it may be a row damaged or renamed: the dataset
   * read without it would look complete and the record it stands for would be removed. It is
   * reported (`ISAMS_UNEXPECTED_ELEMENT`, its path) and passed on as a record of the dataset that
   * has its name and nothing else: no identity (the typed view reports `ISAMS_RECORD_MISSING_ID`),
   * so a consumer that removes what a complete dataset lacks treats the dataset as not fully read
   * (the roster suspends the type's removals). Its attributes and content are not read: nothing
   * says they are a row's. It counts as a record towards the limits, so a document of many of them
   * stops at `ISAMS_TOO_MANY_RECORDS`.
   */
  notARow(datasetId: DatasetId, module: string, container: string, name: string): void {
    const { row } = DATASETS[datasetId];
    const path = `${module}/${container}/${name}`;
    this.finding({
      code: FINDING_CODES.UNEXPECTED_ELEMENT,
      datasetId,
      path,
      message:
        `Unexpected element ${boundText(path, 300)}, where only ${row} rows belong: it may be a damaged ${row}, ` +
        `so it is passed on as a ${row} record that cannot be identified (its content is not read) and nothing ` +
        `missing from ${container} is taken as removed while it is there.`,
    });
    this.record(datasetId, { name, attributes: NO_ATTRIBUTES, children: NO_CHILDREN });
  }

  /** Reports a finding; its texts (which quote the document) are bounded ({@link boundText}). */
  finding(finding: Finding): void {
    const bounded: Finding = { ...finding, message: boundText(finding.message, 1000) };
    if (finding.recordId !== undefined) bounded.recordId = boundText(finding.recordId, FINDING_ID_MAX_CHARS);
    if (finding.path !== undefined) bounded.path = boundText(finding.path);
    if (finding.field !== undefined) bounded.field = boundText(finding.field);
    this.out.push({ type: 'finding', finding: bounded });
  }

  /** Moves out the events produced so far. */
  drain(): BatchParseEvent[] {
    return this.out.splice(0, this.out.length);
  }

  end(bytes: number): BatchParseEvent {
    return {
      type: 'end',
      absent: DATASET_IDS.filter((id) => !this.seen.has(id)),
      unknownContainers: [...this.unknown],
      bytes,
    };
  }
}
