import { DATASET_IDS } from './isams-lib';
import type { DatasetId, RawElement } from './isams-lib';
import { toDatasetRows } from './dataset-rows';
import { generateSchool } from './generate-school';
import { createRng } from './prng';
import type { CacheKeying, ThrottleSettings, ThrottleState } from './key-policy';
import { normaliseApiKey } from './key-policy';
import type { SchoolModel, SchoolSize } from './school-model';
import { readXml, rowsFromDocument } from './xml-reader';

export const FAULT_KINDS = [
  'slow',
  'timeout35s',
  'deadlock',
  'lockTimeout',
  'invalidKey',
  'methodsNotAllocated',
  'ipRefused',
  'throttled',
  'truncated',
  'malformed',
  'connectionReset',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A scripted fault: applies to the next `remaining` requests for the school's key, then clears. */
export interface Fault {
  kind: FaultKind;
  remaining: number;
  delayMs?: number;
}

/** The Batch API key settings of a school (reference §1.5). */
export interface KeySettings {
  /** The key as configured (GUID, upper-case); requests match it with or without braces, any case. */
  apiKey: string;
  active: boolean;
  /** Exact IPs and IPv4 CIDR ranges; empty = allow all. */
  allowedIps: string[];
  /** Datasets ("Batch SQL Methods") allocated to the key. */
  datasets: DatasetId[];
  cacheExpiryMs: number;
  /** `cached` = Production mode; `bypass` = Development mode (live data on every request). */
  cacheMode: 'cached' | 'bypass';
  cacheKeying: CacheKeying;
  throttle?: ThrottleSettings;
}

export interface CacheEntry {
  rows: Readonly<Record<DatasetId, readonly RawElement[]>>;
  createdAt: number;
}

export type SchoolSource = { kind: 'generated'; seed: number; size: SchoolSize } | { kind: 'xml' };

/** One simulated school: its data, its key, its cache, throttle counter and scripted faults. */
export interface SimulatedSchool {
  schoolId: string;
  source: SchoolSource;
  /** The editable model (generated schools only). */
  model?: SchoolModel;
  /** Rows loaded from an XML file (XML schools only). */
  staticRows?: Partial<Record<DatasetId, RawElement[]>>;
  /** Datasets emptied through the admin API: allocated but returning no rows. */
  emptied: Set<DatasetId>;
  /** Bumped on every data change; live rows are memoised per version. */
  version: number;
  mutationCount: number;
  key: KeySettings;
  datasetOrder: DatasetId[];
  cache: Map<string, CacheEntry>;
  throttle: ThrottleState;
  faults: Fault[];
  memo?: { version: number; rows: Record<DatasetId, RawElement[]> };
}

export interface KeyOptions {
  apiKey?: string;
  active?: boolean;
  allowedIps?: string[];
  datasets?: DatasetId[];
  cacheExpiryMs?: number;
  cacheMode?: 'cached' | 'bypass';
  cacheKeying?: CacheKeying;
  throttle?: ThrottleSettings | null;
}

export const DEFAULT_CACHE_EXPIRY_MS = 3_600_000;

function keySettings(schoolId: string, available: readonly DatasetId[], o: KeyOptions): KeySettings {
  return {
    apiKey: normaliseApiKey(o.apiKey ?? createRng(`key:${schoolId}`).guid()),
    active: o.active ?? true,
    allowedIps: o.allowedIps ?? [],
    datasets: o.datasets ?? [...available],
    cacheExpiryMs: o.cacheExpiryMs ?? DEFAULT_CACHE_EXPIRY_MS,
    cacheMode: o.cacheMode ?? 'cached',
    cacheKeying: o.cacheKeying ?? 'key+methods',
    ...(o.throttle ? { throttle: o.throttle } : {}),
  };
}

/** A per-school output order: iSAMS does not keep module/container order stable (reference §2.1). */
function datasetOrderFor(schoolId: string): DatasetId[] {
  return createRng(`order:${schoolId}`).shuffle(DATASET_IDS);
}

export function createGeneratedSchool(
  schoolId: string,
  seed: number,
  size: SchoolSize,
  key: KeyOptions = {},
): SimulatedSchool {
  return {
    schoolId,
    source: { kind: 'generated', seed, size },
    model: generateSchool(seed, size, `Simulated School ${schoolId}`),
    emptied: new Set(),
    version: 0,
    mutationCount: 0,
    key: keySettings(schoolId, DATASET_IDS, key),
    datasetOrder: datasetOrderFor(schoolId),
    cache: new Map(),
    throttle: { windowStart: 0, count: 0 },
    faults: [],
  };
}

/**
 * Replaces a school's data with another generated school, keeping its id, key, cache settings,
 * emptied datasets and faults — as when the key or address saved for a school leads to another
 * school's iSAMS. iSAMS numbers people per school, so the new data reuses the ids for other people.
 * Visible when the key's cache expires or is refreshed, like every data change.
 */
export function replaceWithGenerated(school: SimulatedSchool, seed: number, size: SchoolSize): void {
  school.source = { kind: 'generated', seed, size };
  school.model = generateSchool(seed, size, `Simulated School ${school.schoolId}`);
  delete school.staticRows;
  school.mutationCount = 0;
  touch(school);
}

/** A school served from a Batch API XML document; datasets absent from it are not allocatable. */
export function createXmlSchool(schoolId: string, xml: string, key: KeyOptions = {}): SimulatedSchool {
  const staticRows = rowsFromDocument(readXml(xml));
  const available = DATASET_IDS.filter((d) => staticRows[d] !== undefined);
  return {
    schoolId,
    source: { kind: 'xml' },
    staticRows,
    emptied: new Set(),
    version: 0,
    mutationCount: 0,
    key: keySettings(schoolId, available, key),
    datasetOrder: datasetOrderFor(schoolId),
    cache: new Map(),
    throttle: { windowStart: 0, count: 0 },
    faults: [],
  };
}

/** The school's current (uncached) rows for all 14 datasets: what iSAMS would generate right now. */
export function liveRows(school: SimulatedSchool): Record<DatasetId, RawElement[]> {
  if (school.memo?.version === school.version) return school.memo.rows;
  const base: Record<DatasetId, RawElement[]> = school.model
    ? toDatasetRows(school.model)
    : (Object.fromEntries(DATASET_IDS.map((d) => [d, school.staticRows?.[d] ?? []])) as Record<
        DatasetId,
        RawElement[]
      >);
  for (const d of school.emptied) base[d] = [];
  school.memo = { version: school.version, rows: base };
  return base;
}

/** Records a data change (mutations are visible only after the cache expires or is refreshed). */
export function touch(school: SimulatedSchool): void {
  school.version += 1;
}

/** Manual refresh, as saving the key in iSAMS does (reference §1.6). */
export function refreshCache(school: SimulatedSchool): void {
  school.cache.clear();
}

/** Applies key edits; like saving the key in iSAMS, this refreshes the cache. */
export function updateKey(school: SimulatedSchool, o: KeyOptions): void {
  const k = school.key;
  school.key = {
    ...k,
    ...(o.apiKey !== undefined ? { apiKey: normaliseApiKey(o.apiKey) } : {}),
    ...(o.active !== undefined ? { active: o.active } : {}),
    ...(o.allowedIps !== undefined ? { allowedIps: o.allowedIps } : {}),
    ...(o.datasets !== undefined ? { datasets: o.datasets } : {}),
    ...(o.cacheExpiryMs !== undefined ? { cacheExpiryMs: o.cacheExpiryMs } : {}),
    ...(o.cacheMode !== undefined ? { cacheMode: o.cacheMode } : {}),
    ...(o.cacheKeying !== undefined ? { cacheKeying: o.cacheKeying } : {}),
  };
  if (o.throttle === null) delete school.key.throttle;
  else if (o.throttle !== undefined) school.key.throttle = o.throttle;
  school.throttle = { windowStart: 0, count: 0 };
  refreshCache(school);
}

/** Takes the next scripted fault (decrementing its count), if any. */
export function takeFault(school: SimulatedSchool): Fault | undefined {
  const fault = school.faults[0];
  if (!fault) return undefined;
  fault.remaining -= 1;
  if (fault.remaining <= 0) school.faults.shift();
  return fault;
}
