import { DATASETS, DATASET_IDS } from '../datasets';
import type { DatasetId } from '../datasets';
import type { RawElement } from '../raw-element';
import { attr, attrOrElement, clean } from '../typed/raw-access';
import { FINDING_CODES } from './parse-events';
import type { BatchParseEvent, Finding } from './parse-events';

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

/** True when `name` is the dataset's row element name (case-insensitively). */
export function isRowName(datasetId: DatasetId, name: string): boolean {
  return DATASETS[datasetId].row.toLowerCase() === name.toLowerCase();
}

function duplicateKey(datasetId: DatasetId, raw: RawElement, id: string): string {
  // One contact record can hold two people that may share Contact/@Id (reference §2.2.3).
  if (datasetId === 'contacts')
    return `${id}|${clean(attr(raw, 'PersonId')) ?? ''}|${clean(attr(raw, 'IsFirstPersonContact')) ?? ''}`;
  return id;
}

/**
 * Format-independent bookkeeping shared by the XML and JSON readers: turns container/row
 * callbacks into {@link BatchParseEvent}s, counts rows and reports structural findings.
 */
export class DocumentSink {
  readonly out: BatchParseEvent[] = [];
  private readonly seen = new Set<DatasetId>();
  private readonly occurrences = new Map<DatasetId, number>();
  private readonly totals = new Map<DatasetId, number>();
  private readonly ids = new Map<DatasetId, Set<string>>();
  private readonly memberships = new Set<string>();
  private readonly unknown = new Set<string>();
  private current: { datasetId: DatasetId; count: number } | undefined;

  constructor(private readonly detectDuplicates: boolean) {}

  /** A container element started; returns its dataset or `undefined` when it is not one of ours. */
  containerStart(module: string, container: string): DatasetId | undefined {
    const datasetId = datasetForContainer(module, container);
    if (datasetId === undefined) {
      this.unknown.add(`${module}/${container}`);
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
    this.out.push({ type: 'dataset-end', datasetId, count, total: this.totals.get(datasetId) ?? 0 });
    this.current = undefined;
  }

  record(datasetId: DatasetId, raw: RawElement): void {
    if (this.current !== undefined) this.current.count += 1;
    this.totals.set(datasetId, (this.totals.get(datasetId) ?? 0) + 1);
    this.out.push({ type: 'record', datasetId, raw });
    const { module, container, row } = DATASETS[datasetId];
    const id = clean(attr(raw, 'Id'));
    // A missing id is a record-level problem reported by toTyped (ISAMS_RECORD_MISSING_ID).
    if (id === undefined || !this.detectDuplicates) return;
    let ids = this.ids.get(datasetId);
    if (ids === undefined) this.ids.set(datasetId, (ids = new Set()));
    const key = duplicateKey(datasetId, raw, id);
    if (ids.has(key)) {
      this.finding({
        code: FINDING_CODES.DUPLICATE_RECORD_ID,
        datasetId,
        recordId: id,
        path: `${module}/${container}/${row}/@Id`,
        message: `Record id ${id} appears more than once in ${container}.`,
      });
    } else ids.add(key);
    if (datasetId === 'teachingSetLists') {
      const setId = attrOrElement(raw, 'SetId');
      const pupilId = clean(attr(raw, 'PupilId'));
      if (setId !== undefined && pupilId !== undefined) {
        const pair = `${setId}|${pupilId}`;
        if (this.memberships.has(pair)) {
          this.finding({
            code: FINDING_CODES.DUPLICATE_SET_MEMBERSHIP,
            datasetId,
            recordId: id,
            message: `Pupil ${pupilId} is listed in set ${setId} more than once.`,
          });
        } else this.memberships.add(pair);
      }
    }
  }

  unexpected(path: string, datasetId?: DatasetId): void {
    this.finding({
      code: FINDING_CODES.UNEXPECTED_ELEMENT,
      ...(datasetId === undefined ? {} : { datasetId }),
      path,
      message: `Unexpected element ${path}; ignored.`,
    });
  }

  finding(finding: Finding): void {
    this.out.push({ type: 'finding', finding });
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
