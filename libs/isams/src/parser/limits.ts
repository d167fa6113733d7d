import { DATASETS } from '../datasets';
import type { DatasetId } from '../datasets';
import { IsamsError } from '../errors/isams-error';
import { DEFAULT_PARSER_LIMITS } from './parse-events';
import type { ParserLimits } from './parse-events';

/** Characters one element, attribute or JSON value counts on top of its text (see {@link ParserLimits}). */
export const NODE_OVERHEAD = 16;

/** The limits in force: the given ones over {@link DEFAULT_PARSER_LIMITS}. */
export function resolveLimits(limits: Partial<ParserLimits> | undefined): ParserLimits {
  return { ...DEFAULT_PARSER_LIMITS, ...limits };
}

const where = (datasetId: DatasetId | undefined): string =>
  datasetId === undefined
    ? ''
    : ` in ${DATASETS[datasetId].module}/${DATASETS[datasetId].container} (${datasetId})`;
const datasetDetail = (datasetId: DatasetId | undefined) => (datasetId === undefined ? {} : { datasetId });

/** The document nests deeper than `limit`. */
export function documentTooDeep(limit: number, datasetId?: DatasetId): IsamsError {
  return new IsamsError({
    code: 'ISAMS_DOCUMENT_TOO_DEEP',
    message: `The iSAMS document nests elements deeper than the limit of ${limit} levels${where(datasetId)}; nothing of it was used.`,
    details: { limit, ...datasetDetail(datasetId) },
  });
}

/** One record (or one value outside a record) is larger than `limit`. */
export function recordTooLarge(limit: number, datasetId?: DatasetId, what = 'record'): IsamsError {
  return new IsamsError({
    code: 'ISAMS_RECORD_TOO_LARGE',
    message: `A ${what} of the iSAMS document is larger than the limit of ${limit} bytes${where(datasetId)}; nothing of the document was used.`,
    details: { limit, ...datasetDetail(datasetId) },
  });
}

/** More records than `limit` in one dataset (`datasetId`) or in the whole document. */
export function tooManyRecords(limit: number, datasetId?: DatasetId): IsamsError {
  return new IsamsError({
    code: 'ISAMS_TOO_MANY_RECORDS',
    message:
      datasetId === undefined
        ? `The iSAMS document has more than the limit of ${limit} records; nothing of it was used.`
        : `The iSAMS document has more than the limit of ${limit} records${where(datasetId)}; nothing of it was used.`,
    details: { limit, ...datasetDetail(datasetId) },
  });
}
