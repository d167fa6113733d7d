import { z } from 'zod';
import { DATASET_IDS, type RawElement } from '@isams-sync/isams';
import { defineEventType } from '../define-event-type';

const CONNECTOR_SOURCE = '/isams-sync/connector';

/**
 * How deep a raw record may nest, the record itself counting 1. The connector's parser refuses a
 * document deeper than `ISAMS_MAX_DEPTH` levels (64 by default; a record sits 3 levels below the
 * document root, so it nests at most 61 deep; the simulator's large school is 7 deep in all), so a
 * deeper record never comes from a real run: it is invalid data, refused before anything walks it
 * recursively (zod's recursive schema exhausted the stack at 1,000 levels, `JSON.stringify` at
 * 20,000), and at this bound the recursive schema needs a small part of the stack. A connector
 * configured with `ISAMS_MAX_DEPTH` above this + 3 could read a record it cannot publish.
 */
export const RAW_ELEMENT_MAX_DEPTH = 100;

/** One XML element of the iSAMS document, kept losslessly; the unbounded recursion of {@link rawElementSchema}. */
const elementSchema: z.ZodType<RawElement> = z.object({
  name: z.string().min(1),
  attributes: z.record(z.string(), z.string()),
  text: z.string().optional(),
  get children(): z.ZodArray<z.ZodType<RawElement>> {
    return z.array(elementSchema);
  },
});

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * True when `value` nests elements (through `children` arrays) deeper than `maxDepth`, the value
 * itself counting 1. Iterative, so a tree of any depth is measured without exhausting the stack.
 */
function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  // Two parallel stacks: no tuple allocated per element.
  const pending: unknown[] = [value];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const e = pending.pop();
    const depth = depths.pop()!;
    if (depth > maxDepth) return true;
    if (!isObject(e) || !Array.isArray(e.children)) continue;
    for (const child of e.children) {
      pending.push(child);
      depths.push(depth + 1);
    }
  }
  return false;
}

/**
 * One XML element of the iSAMS document, kept losslessly (see `RawElement` in `@isams-sync/isams`),
 * nesting at most {@link RAW_ELEMENT_MAX_DEPTH} levels deep: the depth is checked first, without
 * recursion, and a deeper element is refused before zod walks it.
 */
export const rawElementSchema: z.ZodType<RawElement> = z
  .unknown()
  .superRefine((value, ctx) => {
    if (nestsDeeperThan(value, RAW_ELEMENT_MAX_DEPTH))
      ctx.addIssue({
        code: 'custom',
        message: `a raw element may nest at most ${RAW_ELEMENT_MAX_DEPTH} levels deep (RAW_ELEMENT_MAX_DEPTH)`,
      });
  })
  .pipe(elementSchema);

const ELEMENT_KEYS = new Set(['name', 'attributes', 'text', 'children']);

/**
 * True when `value` is a {@link RawElement} exactly as {@link rawElementSchema} returns it — a
 * non-empty name, string attributes, an optional string text, children of the same kind, no other
 * keys and at most {@link RAW_ELEMENT_MAX_DEPTH} levels — checked without zod (about fifteen times
 * faster on a chunk's records; the schema decides whenever this says no). Iterative, so a deep tree
 * cannot exhaust the stack.
 */
export function isExactRawElement(value: unknown): value is RawElement {
  const pending: unknown[] = [value];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const e = pending.pop();
    const depth = depths.pop()!;
    if (depth > RAW_ELEMENT_MAX_DEPTH) return false;
    if (!isObject(e) || typeof e.name !== 'string' || e.name.length === 0) return false;
    for (const key in e) if (!ELEMENT_KEYS.has(key)) return false;
    if ('text' in e && typeof e.text !== 'string') return false;
    const { attributes, children } = e;
    if (!isObject(attributes) || !Array.isArray(children)) return false;
    for (const key in attributes) if (typeof attributes[key] !== 'string') return false;
    for (const child of children) {
      pending.push(child);
      depths.push(depth + 1);
    }
  }
  return true;
}

export const datasetIdSchema = z.enum(DATASET_IDS);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase sha256 hex digest');
const syncRunId = z.string().min(1).max(64);

/** Who or what asked for a sync run. */
export const syncTriggerSchema = z
  .object({
    kind: z.enum(['schedule', 'manual']),
    /** The admin who clicked Run (an opaque identity, never an email); absent for the schedule. */
    actor: z.string().min(1).max(200).optional(),
  })
  .strict();

/**
 * A chunk of one dataset's raw records from one sync run. Records are in document order; chunk
 * `chunkIndex` of `chunkCount` holds records `firstRecordOrdinal … firstRecordOrdinal+records.length-1`.
 * A chunk alone means nothing: only the run's `dataset-snapshot.completed` marker commits a snapshot.
 * A record nesting deeper than {@link RAW_ELEMENT_MAX_DEPTH} levels makes the chunk invalid
 * (`EVENT_DATA_INVALID`: a consumer dead-letters it).
 */
export const rawDatasetChunkV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.connector.dataset-chunk.v1',
  source: CONNECTOR_SOURCE,
  // 1.1.0: a dataset may come in several versions per run; staged by its fingerprint too (issue #17).
  schemaVersion: '1.1.0',
  description:
    "A chunk of one dataset's raw, lossless iSAMS records from one sync run. A dataset may be published more than once in a run (read while the document was still being read) with different fingerprints: consumers stage chunks by (syncRunId, datasetId, datasetFingerprint, chunkIndex) and act only when the run-complete marker arrives, on the fingerprint it names for each dataset.",
  schema: z
    .object({
      syncRunId,
      datasetId: datasetIdSchema,
      chunkIndex: z.number().int().nonnegative(),
      chunkCount: z.number().int().positive(),
      firstRecordOrdinal: z.number().int().nonnegative(),
      /** Fingerprint of the whole dataset in this run (same value in every chunk and in the marker). */
      datasetFingerprint: sha256Hex,
      /** Each at most {@link RAW_ELEMENT_MAX_DEPTH} levels deep. */
      records: z.array(rawElementSchema),
    })
    .strict()
    .refine((d) => d.chunkIndex < d.chunkCount, {
      message: 'chunkIndex must be < chunkCount',
      path: ['chunkIndex'],
    }),
  fastArray: { field: 'records', item: isExactRawElement },
});

/** One dataset in a run-complete marker. */
export const snapshotDatasetSchema = z
  .object({
    datasetId: datasetIdSchema,
    chunkCount: z.number().int().positive(),
    recordCount: z.number().int().nonnegative(),
    /** sha256 over the dataset's canonical raw records: equal fingerprints ⇒ identical data. */
    fingerprint: sha256Hex,
    bytes: z.number().int().nonnegative(),
  })
  .strict();

/**
 * The commit point of a sync run's snapshot: lists every dataset published (with its chunk count and
 * fingerprint) and every dataset the key did not return. No marker, no snapshot.
 */
export const datasetSnapshotCompletedV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.connector.dataset-snapshot.completed.v1',
  source: CONNECTOR_SOURCE,
  // 1.1.0: fetchSequence — the school's fetch order, which no replica's clock decides (additive).
  schemaVersion: '1.1.0',
  description:
    'Run-complete marker: every dataset chunk of the run has been published. Lists each dataset with its chunk count and fingerprint and every dataset the key did not return (absent datasets must never cause removals).',
  schema: z
    .object({
      syncRunId,
      trigger: syncTriggerSchema,
      /** Dry run: process and report the diff, commit nothing. */
      dryRun: z.boolean(),
      /** When the fetch ended, by the clock of the connector replica that fetched it (shown; not an order). */
      fetchedAt: z.iso.datetime({ offset: true }),
      /**
       * The run's place in its school's fetch order: greater than that of every run of the school
       * fetched before it (taken as the run starts fetching; gaps are possible). Absent from markers
       * of connectors before 1.1.0: consumers then order by `fetchedAt`.
       */
      fetchSequence: z.number().int().positive().optional(),
      sourceFormat: z.enum(['xml', 'json']),
      datasets: z.array(snapshotDatasetSchema),
      absentDatasets: z.array(datasetIdSchema),
      /** Containers in the document we do not use (informational). */
      unknownContainers: z.array(z.string()),
      /** Parser findings (record-level problems), capped; the roster adds its own. */
      findings: z
        .array(
          z
            .object({
              code: z.string(),
              datasetId: datasetIdSchema,
              recordId: z.string().optional(),
              path: z.string().optional(),
              message: z.string(),
            })
            .strict(),
        )
        .max(1000),
    })
    .strict()
    .refine((d) => d.datasets.every((x) => !d.absentDatasets.includes(x.datasetId)), {
      message: 'a dataset cannot be both published and absent',
      path: ['absentDatasets'],
    }),
});
