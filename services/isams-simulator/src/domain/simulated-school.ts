import { DATASET_IDS } from './isams-lib';
import type { DatasetId, RawElement } from './isams-lib';
import { toDatasetRows } from './dataset-rows';
import { generateSchool } from './generate-school';
import { DEFAULT_GENERATION_MODEL } from './generation-model';
import type { GenerationModel } from './generation-model';
import { createRng } from './prng';
import { applyRawEdits } from './raw-edits';
import type { RawEdit } from './raw-edits';
import type { Rng } from './prng';
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

/**
 * How the school's web server treats connections. `keep-alive`: persistent HTTP/1.1 connections
 * (the default). `close`: every response says `Connection: close` and the server closes the socket
 * after it; a document without a known length is delimited by the close (HTTP/1.0 semantics), as
 * many real servers, load balancers and proxies do.
 * ASSUMED ([U] in reference §1.2: nothing is known about iSAMS's connection handling).
 */
export const CONNECTION_MODES = ['keep-alive', 'close'] as const;
export type ConnectionMode = (typeof CONNECTION_MODES)[number];

/** The school's server: connection handling and document generation (not key settings). */
export interface ServerSettings {
  connection: ConnectionMode;
  generation: GenerationModel;
}

/** Partial server settings, as accepted by seeds, the manifest and the admin API. */
export interface ServerOptions {
  connection?: ConnectionMode;
  generation?: Partial<GenerationModel>;
}

/** Counters of the school's Batch API requests (for tests and support; reset with the school). */
export interface RequestStats {
  /** Requests that matched the school's key. */
  requests: number;
  /** Batch documents served (cached or generated). */
  documents: number;
  /** Generations abandoned at the time limit. */
  generationTimeouts: number;
  /** Generations that were chosen as deadlock victims by the time model. */
  generationDeadlocks: number;
  /** 403 MethodsNotAllocatedToKeyException answers. */
  methodsNotAllocated: number;
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
  /** Raw values written into served records as-is (admin API `raw-edits`), in order. */
  rawEdits: RawEdit[];
  /** Bumped on every data change; live rows are memoised per version. */
  version: number;
  mutationCount: number;
  key: KeySettings;
  datasetOrder: DatasetId[];
  cache: Map<string, CacheEntry>;
  throttle: ThrottleState;
  faults: Fault[];
  server: ServerSettings;
  /** Seeded per school: the time model's deadlocks are reproducible. */
  generationRng: Rng;
  stats: RequestStats;
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

function serverSettings(o: ServerOptions, base?: ServerSettings): ServerSettings {
  return {
    connection: o.connection ?? base?.connection ?? 'keep-alive',
    generation: { ...(base?.generation ?? DEFAULT_GENERATION_MODEL), ...o.generation },
  };
}

function emptyStats(): RequestStats {
  return { requests: 0, documents: 0, generationTimeouts: 0, generationDeadlocks: 0, methodsNotAllocated: 0 };
}

/** A per-school output order: iSAMS does not keep module/container order stable (reference §2.1). */
function datasetOrderFor(schoolId: string): DatasetId[] {
  return createRng(`order:${schoolId}`).shuffle(DATASET_IDS);
}

/** What a new school starts with, whatever its data: nothing emptied or edited, no requests, no faults. */
function newSchoolState(
  schoolId: string,
  allocatable: readonly DatasetId[],
  key: KeyOptions,
  server: ServerOptions,
): Omit<SimulatedSchool, 'schoolId' | 'source' | 'model' | 'staticRows'> {
  return {
    emptied: new Set(),
    rawEdits: [],
    version: 0,
    mutationCount: 0,
    key: keySettings(schoolId, allocatable, key),
    datasetOrder: datasetOrderFor(schoolId),
    cache: new Map(),
    throttle: { windowStart: 0, count: 0 },
    faults: [],
    server: serverSettings(server),
    generationRng: createRng(`generation:${schoolId}`),
    stats: emptyStats(),
  };
}

export function createGeneratedSchool(
  schoolId: string,
  seed: number,
  size: SchoolSize,
  key: KeyOptions = {},
  server: ServerOptions = {},
): SimulatedSchool {
  return {
    schoolId,
    source: { kind: 'generated', seed, size },
    model: generateSchool(seed, size, `Simulated School ${schoolId}`),
    ...newSchoolState(schoolId, DATASET_IDS, key, server),
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
export function createXmlSchool(
  schoolId: string,
  xml: string,
  key: KeyOptions = {},
  server: ServerOptions = {},
): SimulatedSchool {
  const staticRows = rowsFromDocument(readXml(xml));
  const available = DATASET_IDS.filter((d) => staticRows[d] !== undefined);
  return {
    schoolId,
    source: { kind: 'xml' },
    staticRows,
    ...newSchoolState(schoolId, available, key, server),
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
  const rows = applyRawEdits(base, school.rawEdits);
  for (const d of school.emptied) rows[d] = [];
  school.memo = { version: school.version, rows };
  return rows;
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

/** Changes the school's server behaviour (connection mode, generation model); the cache stays. */
export function updateServer(school: SimulatedSchool, o: ServerOptions): void {
  school.server = serverSettings(o, school.server);
}

/** Takes the next scripted fault (decrementing its count), if any. */
export function takeFault(school: SimulatedSchool): Fault | undefined {
  const fault = school.faults[0];
  if (!fault) return undefined;
  fault.remaining -= 1;
  if (fault.remaining <= 0) school.faults.shift();
  return fault;
}
