import { DATASETS } from '../datasets';
import type { DatasetId } from '../datasets';
import { FINDING_CODES } from '../parser/parse-events';
import type { Finding } from '../parser/parse-events';
import type { RawElement } from '../raw-element';
import { attr, clean } from './raw-access';
import { readTable } from './read-record';
import { asXmlReads } from './read-value';
import type { ReadProblem } from './read-record';
import { DATASET_TABLES } from './generated/tables';
import type { TypedFieldPath, TypedRecord } from './generated/tables';

/** Result of {@link toTyped}. */
export type TypedResult<D extends DatasetId> =
  | {
      ok: true;
      /** The record as far as it could be read; unreadable fields are `undefined` (lists keep their readable items). */
      value: TypedRecord<D>;
      /** Fields that could not be read: a consumer keeps what it knew of them before. */
      unreadable: TypedFieldPath<D>[];
      /** One `ISAMS_FIELD_UNREADABLE` finding per unreadable value (also for a Legacy fallback that was used). */
      findings: Finding[];
    }
  | { ok: false; finding: Finding };

/** What the administrator does in iSAMS, after "find <row> <id>". */
function action(p: ReadProblem): string {
  if (p.fix) return ` and ${p.fix}`;
  if (p.dropped)
    return ` and check "${p.label}": every entry must be complete and linked to an existing record`;
  const lead = p.item === undefined ? ' and' : `, and for ${p.item}`;
  if (p.notText)
    return `${lead} retype "${p.label}" (iSAMS sent characters of it that are not text; check how it was entered or imported)`;
  switch (p.kind) {
    case 'bool':
      return `${lead} set "${p.label}" to Yes or No`;
    case 'date':
      return `${lead} enter a valid date in "${p.label}"`;
    case 'id':
      return `${lead} choose "${p.label}" again`;
    default:
      return `${lead} check "${p.label}"`;
  }
}

function outcome(p: ReadProblem): string {
  if (p.usedInstead !== undefined) return `${p.usedInstead} is used instead`;
  if (p.dropped) return `the record is kept and its "${p.label}" keep their previous value`;
  return 'the record is kept without this value (its previous value stays)';
}

/**
 * The typed view of one raw record, read with the dataset's table (`DATASET_TABLES`): trimmed
 * strings, blank → `undefined`, iSAMS booleans, whole-number ids, dates checked, modern attributes
 * preferred over `Legacy` elements, case-insensitive names. Never throws and never drops a record
 * whose identity can be read: a value that cannot be read leaves its field `undefined`, is listed in
 * `unreadable` and reported (`ISAMS_FIELD_UNREADABLE`, naming record, field and what to fix in
 * iSAMS). Only a record whose identity is missing or unreadable yields `ok: false`
 * (`ISAMS_RECORD_MISSING_ID` without an Id, else `ISAMS_RECORD_INVALID_FIELD`).
 */
export function toTyped<D extends DatasetId>(datasetId: D, raw: RawElement): TypedResult<D> {
  const { fields, where } = DATASET_TABLES[datasetId];
  const { module, container, row, adminName } = DATASETS[datasetId];
  const rowPath = `${module}/${container}/${row}`;
  const read = readTable(fields, raw);
  if (read.identity !== undefined) {
    const p = read.identity;
    const id = attr(raw, 'Id');
    const rawId = clean(id === undefined ? undefined : asXmlReads(id));
    const recordId = rawId === undefined ? undefined : rawId.slice(0, 40);
    const missingId = p.field === 'id' && p.missing;
    const which = recordId === undefined ? `A ${row} record` : `${row} ${recordId}`;
    return {
      ok: false,
      finding: {
        code: missingId ? FINDING_CODES.RECORD_MISSING_ID : FINDING_CODES.RECORD_INVALID_FIELD,
        datasetId,
        ...(recordId === undefined ? {} : { recordId }),
        path: `${rowPath}/${p.source}`,
        field: p.source,
        message:
          `${which} (${adminName}): its ${p.label} (${p.field}, ${p.source}) ${p.missing ? 'is missing' : p.problem}; ` +
          `the record cannot be matched and is left out. In iSAMS, open ${where}, check this record and save it ` +
          `again; if iSAMS keeps sending it without a readable ${p.label}, report it to iSAMS support.`,
      },
    };
  }
  const recordId = String(read.value.id);
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const p of read.problems) {
    const key = `${p.source}|${p.item ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // A source names a JSON key, which may hold a control character.
    const source = asXmlReads(p.source);
    findings.push({
      code: FINDING_CODES.FIELD_UNREADABLE,
      datasetId,
      recordId,
      path: `${rowPath}/${source}`,
      field: source,
      message:
        `${row} ${recordId} (${adminName}): ${p.item === undefined ? '' : `${p.item}: `}"${p.label}" (${source}) ` +
        `${p.problem}; ${outcome(p)}. In iSAMS, open ${where}, find ${row} ${recordId}${action(p)}.`,
    });
  }
  return {
    ok: true,
    value: read.value as TypedRecord<D>,
    unreadable: read.unreadable as TypedFieldPath<D>[],
    findings,
  };
}
