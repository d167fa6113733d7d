import { setTimeout as sleep } from 'node:timers/promises';
import { DATASETS, IsamsError, backoffDelay, fetchAndParseBatches, isIsamsError } from '@isams-sync/isams';
import type { BatchParser, BodyDigest, DatasetId, EgressPolicy, FetchBatchOptions } from '@isams-sync/isams';
import type { Logger } from '@isams-sync/logger';
import {
  DEFAULT_CONTACTS_METHODS,
  MethodGroupPlanner,
  backToWholeKey,
  needsSmallerRequests,
  normalisePlan,
  stillInGroups,
  switchToGroups,
  wholeKeyRetryDue,
} from '../../domain/method-groups';
import type { FetchPlan, GroupOutcome, GroupRequest, RunFetch } from '../../domain/method-groups';
import type { RunDatasetStats } from '../../domain/sync-run';
import type {
  BatchSource,
  ConnectionProbe,
  FetchProgress,
  FetchResult,
  IsamsSource,
  KnownDocumentFetch,
  Spool,
  SpoolFetch,
} from '../../use-cases/ports';
import { DocumentAccumulator } from './document-accumulator';
import { parseIntoLines } from './line-events';
import type { LineEvent } from './line-events';

/** Connection settings shared by every school (from configuration); the egress policy is required. */
export type IsamsClientSettings = Omit<
  FetchBatchOptions,
  'baseUrl' | 'apiKey' | 'format' | 'signal' | 'logger' | 'onProgress' | 'methodsToRun' | 'egress' | 'digest'
> & {
  egress: EgressPolicy;
  /** How far a whole-key download may run ahead of the parse (in memory) when its bytes may be known. */
  readAheadBytes: number;
};

export interface FetchToSpoolOptions {
  source: IsamsSource;
  client: IsamsClientSettings;
  spool?: Spool;
  maxChunkRecordBytes: number;
  signal?: AbortSignal;
  logger?: Logger;
  onProgress?: (p: FetchProgress) => void;
  /** The school's stored fetch plan (whole key when absent). */
  plan?: FetchPlan | null;
  /** Candidate `MethodsToRun` names of Contacts (Filtered) ([U]); defaults to the built-in list. */
  contactsMethods?: readonly string[];
  /** Called whenever the plan changes (switch to groups, a split, a contacts name learnt): persist it. */
  onPlanChange?: (plan: FetchPlan) => Promise<void>;
  /** Called whenever a group's state changes (for the run record, also when the run fails). */
  onFetch?: (fetch: RunFetch) => void;
  /** The sha256 of a document read before: a whole-key body that hashes the same is not parsed. */
  knownSha256?: string;
  /** Told each dataset as read so far, when its container ends (see {@link SpoolFetch.onDatasetRead}). */
  onDatasetRead?: (dataset: RunDatasetStats) => void;
  /**
   * Parses the document into canonical lines: a {@link ParseWorkerPool}'s, or on this thread
   * ({@link parseIntoLines}, the default).
   */
  parse?: BatchParser<LineEvent>;
}

export type { FetchProgress, FetchResult, IsamsSource, KnownDocumentFetch };

/**
 * The iSAMS Batch API as the sync engine's {@link BatchSource} and the connection tests'
 * {@link ConnectionProbe}, with the connector's client settings.
 */
export class IsamsBatchSource implements BatchSource, ConnectionProbe {
  constructor(
    private readonly client: IsamsClientSettings,
    /** Candidate `MethodsToRun` names of Contacts (Filtered) for fetches in method groups. */
    private readonly contactsMethods: readonly string[],
    /** The parse of the runs' documents (a {@link ParseWorkerPool}'s; this thread's when absent). */
    private readonly parse: BatchParser<LineEvent> = parseIntoLines,
  ) {}

  fetchToSpool(request: SpoolFetch): Promise<FetchResult | KnownDocumentFetch> {
    return fetchToSpool({
      ...request,
      client: this.client,
      contactsMethods: this.contactsMethods,
      parse: this.parse,
    });
  }

  /** Without a spool: records are only counted; a plan change is not kept. */
  probe(request: { source: IsamsSource; plan: FetchPlan | null; signal: AbortSignal }): Promise<FetchResult> {
    return fetchToSpool({
      source: request.source,
      client: this.client,
      maxChunkRecordBytes: Number.MAX_SAFE_INTEGER,
      plan: request.plan,
      contactsMethods: this.contactsMethods,
      signal: request.signal,
      parse: this.parse,
    });
  }
}

/**
 * Fetches and stream-parses the school's document into the spool (records as canonical JSON, each
 * dataset's sha256 fingerprint, byte count and chunk plan; without a spool — test connection —
 * records are only counted).
 *
 * Whole key first, as one request; when that fails in a way a smaller request can avoid (iSAMS's
 * ~35 s generation limit, a deadlock, our per-response size limit) — after the client's retries —
 * the same key is fetched in method groups (`MethodsToRun`), and a school that needed groups is
 * fetched in groups straight away next time (`plan`, persisted through `onPlanChange`). A run (with
 * a spool) of a school that last needed groups a week ago tries the whole key first again
 * (`wholeKeyRetryDue`): back on it when it answers, else on in the groups it had, the next try a
 * week later; a test connection (no spool) never does, as it must answer within the gateway's time. Every
 * dataset of the result comes from this run; if any group fails for good, this throws (the caller
 * discards the spool and sends no marker). Throws the client's `IsamsError` for any failure.
 * `onDatasetRead` is told each dataset as read so far, as its container ends.
 *
 * A whole-key body is hashed as it arrives (`documentSha256` of the result). With `knownSha256` the
 * parse waits for a body that fits the client's `readAheadBytes`; one that hashes to it is not
 * parsed and the result is a {@link KnownDocumentFetch}: the spool then holds nothing to publish.
 */
export async function fetchToSpool(
  options: FetchToSpoolOptions & { knownSha256?: undefined },
): Promise<FetchResult>;
export async function fetchToSpool(options: FetchToSpoolOptions): Promise<FetchResult | KnownDocumentFetch>;
export async function fetchToSpool(options: FetchToSpoolOptions): Promise<FetchResult | KnownDocumentFetch> {
  let plan = normalisePlan(options.plan);
  const retryingWholeKey = options.spool !== undefined && wholeKeyRetryDue(plan, new Date());
  let groups: { groupsDone: number; groupsTotal: number } | undefined;
  const acc = new DocumentAccumulator(
    options.spool,
    options.maxChunkRecordBytes,
    (p) => options.onProgress?.({ ...p, ...groups }),
    options.spool ? options.onDatasetRead : undefined,
  );
  if (plan.mode === 'whole' || retryingWholeKey) {
    const fetch: RunFetch = {
      mode: 'whole',
      groups: [],
      ...(plan.contactsMethod ? { contactsMethod: plan.contactsMethod } : {}),
    };
    if (retryingWholeKey)
      options.logger?.info(
        { switchedBecause: plan.switchedBecause, switchedAt: plan.switchedAt },
        'fetched in method groups for a week; trying the whole key again',
      );
    try {
      let body: BodyDigest | undefined;
      const read = await acc.consume(
        fetchAndParseBatches(
          {
            ...requestOptions(options, acc),
            digest: {
              onBody: (b) => (body = b),
              ...(options.knownSha256
                ? { knownSha256: options.knownSha256, readAheadBytes: options.client.readAheadBytes }
                : {}),
            },
          },
          options.parse ?? parseIntoLines,
        ),
      );
      if (retryingWholeKey) {
        options.logger?.info('the whole key answered: the school is fetched whole again');
        await options.onPlanChange?.(backToWholeKey(plan));
      }
      if ('known' in read) return { known: true, ...read.known, fetch };
      return {
        datasets: acc.stats(),
        absent: read.absent,
        unknownContainers: acc.unknownContainers(),
        findings: acc.findings(),
        bytes: acc.bytes(),
        fetch,
        ...(body ? { documentSha256: body.sha256 } : {}),
      };
    } catch (err) {
      if (!isIsamsError(err) || !smallerHelps(err)) throw err;
      options.logger?.warn(
        { code: err.code },
        'whole-key request failed after its retries; fetching the key in method groups',
      );
      plan = retryingWholeKey
        ? stillInGroups(plan, err.code, new Date())
        : switchToGroups(plan, err.code, new Date());
      await options.onPlanChange?.(plan);
      await acc.reset();
    }
  }
  const planner = new MethodGroupPlanner(plan, options.contactsMethods ?? DEFAULT_CONTACTS_METHODS);
  const report = () => {
    groups = planner.progress();
    options.onFetch?.(runFetch(planner));
    options.onProgress?.({ ...acc.progress(), ...groups });
  };
  let stored = JSON.stringify(plan);
  let lastRefusal: IsamsError | undefined;
  for (let request = planner.next(); request; request = planner.next()) {
    report();
    const { outcome, error } = await fetchGroup(options, acc, request);
    if (outcome.kind === 'not-allocated') lastRefusal = error;
    const decision = planner.record(request, outcome);
    const next = JSON.stringify(planner.plan());
    if (next !== stored) {
      stored = next;
      await options.onPlanChange?.(planner.plan());
    }
    if (decision.action === 'fail') {
      report();
      throw groupFailure(error, decision.datasets, request.group, planner.groups().length);
    }
  }
  report();
  const result = planner.result();
  if (result.present.length === 0) throw nothingAllocated(lastRefusal, result.absent);
  const datasets = acc.stats().filter((d) => result.present.includes(d.datasetId));
  options.logger?.info(
    { groups: planner.groups().length, absent: result.absent },
    'iSAMS document fetched in method groups',
  );
  return {
    datasets,
    absent: result.absent,
    unknownContainers: acc.unknownContainers(),
    findings: [...result.findings, ...acc.findings()],
    bytes: acc.bytes(),
    fetch: runFetch(planner),
  };
}

function requestOptions(
  options: FetchToSpoolOptions,
  acc: DocumentAccumulator,
  methodsToRun?: string[],
): FetchBatchOptions {
  return {
    ...options.client,
    baseUrl: options.source.baseUrl,
    apiKey: options.source.apiKey,
    format: options.source.format,
    ...(methodsToRun ? { methodsToRun } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    onProgress: acc.onBytes,
  };
}

/**
 * One group's request, retried on its own: the client retries transient failures before the first
 * record; a transient failure after records (a document cut off mid-way) is retried here, with
 * back-off, after discarding what the group had delivered.
 */
async function fetchGroup(
  options: FetchToSpoolOptions,
  acc: DocumentAccumulator,
  request: GroupRequest,
): Promise<{ outcome: GroupOutcome; error?: IsamsError }> {
  const wanted = new Set(request.datasets);
  const names = request.methods.map((m) => m.name);
  const maxAttempts = Math.max(1, options.client.retry.maxAttempts);
  for (let attempt = 1; ; attempt++) {
    try {
      const read = await acc.consume(
        fetchAndParseBatches(requestOptions(options, acc, names), options.parse ?? parseIntoLines),
        wanted,
      );
      if ('known' in read) throw new Error('a method group names no known document'); // never: no digest
      const { absent } = read;
      return { outcome: { kind: 'fetched', present: request.datasets.filter((d) => !absent.includes(d)) } };
    } catch (err) {
      const midDocument = acc.yielded;
      await acc.discard(request.datasets);
      if (!isIsamsError(err)) throw err;
      if (err.code === 'ISAMS_METHODS_NOT_ALLOCATED') {
        const echoed = Array.isArray(err.details?.methods) ? (err.details.methods as string[]) : [];
        return { outcome: { kind: 'not-allocated', echoed }, error: err };
      }
      if (err.transient && midDocument && !smallerHelps(err) && attempt < maxAttempts) {
        const delay = backoffDelay(attempt, options.client.retry);
        options.logger?.info(
          { code: err.code, attempt, delayMs: delay },
          'method group failed part-way; retrying the group',
        );
        await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
        continue;
      }
      options.logger?.warn({ code: err.code, datasets: request.datasets }, 'method group failed');
      const networkCode = networkCodeOf(err);
      return {
        outcome: { kind: 'failed', code: err.code, ...(networkCode ? { networkCode } : {}) },
        error: err,
      };
    }
  }
}

/** The socket-level code behind a network failure (`UND_ERR_CONNECT_TIMEOUT`, …), if any. */
function networkCodeOf(err: IsamsError): string | undefined {
  const code = err.details?.errorCode;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/** Whether a smaller request could avoid this failure (not a time-out while connecting). */
const smallerHelps = (err: IsamsError): boolean => needsSmallerRequests(err.code, networkCodeOf(err));

function runFetch(planner: MethodGroupPlanner): RunFetch {
  const { mode, contactsMethod, switchedBecause, switchedAt } = planner.plan();
  return {
    mode,
    groups: planner.groups(),
    ...(contactsMethod ? { contactsMethod } : {}),
    ...(switchedBecause ? { switchedBecause } : {}),
    ...(switchedAt ? { switchedAt } : {}),
  };
}

const adminNames = (datasets: readonly DatasetId[]) => datasets.map((d) => DATASETS[d].adminName).join(', ');

/** The run's error when a group failed for good: iSAMS's error, naming the group. */
function groupFailure(
  cause: IsamsError | undefined,
  datasets: DatasetId[],
  group: number,
  groups: number,
): IsamsError {
  const err =
    cause ??
    new IsamsError({
      code: 'ISAMS_ERROR_DOCUMENT',
      message: 'iSAMS kept answering the method groups without the run making progress.',
      transient: true,
    });
  return new IsamsError({
    code: err.code,
    message: `Method group ${group + 1} of ${groups} (${adminNames(datasets)}) could not be fetched, so nothing was applied. ${err.message}`,
    details: { ...err.details, methodGroup: datasets },
    cause: err,
    transient: err.transient,
    adminAction: err.adminAction,
  });
}

/** Every method of the key was refused (403): there is nothing to publish. */
function nothingAllocated(last: IsamsError | undefined, absent: DatasetId[]): IsamsError {
  return new IsamsError({
    code: 'ISAMS_METHODS_NOT_ALLOCATED',
    message: `iSAMS refused every method of the Batch API key when asked in method groups: ${adminNames(absent)}.`,
    details: { ...last?.details, datasets: absent, adminNames: absent.map((d) => DATASETS[d].adminName) },
    ...(last ? { cause: last } : {}),
  });
}
