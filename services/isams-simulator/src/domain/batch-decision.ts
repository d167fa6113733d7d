import { ISAMS_MESSAGES } from './isams-lib';
import type { DatasetId, IsamsMessageSpec } from './isams-lib';
import { layoutDocument } from './document-layout';
import type { LayoutModule } from './document-layout';
import { MalformedFilterBodyError, parseFilterBody } from './filter-body';
import { decideGeneration, generationCost } from './generation-model';
import { cacheFresh, cacheKeyFor, describeWindow, ipAllowed, throttleDecision } from './key-policy';
import { datasetForMethod, METHOD_OF, methodDisplayName, requiredFilterNode } from './methods';
import { liveRows, takeFault } from './simulated-school';
import type { SimulatedSchool } from './simulated-school';

export type DocumentDamage = 'truncated' | 'malformed' | 'connectionReset';

/** What the batch endpoint must send: a `<Message>` error document or the batch document. */
export type BatchOutcome =
  | { kind: 'message'; spec: IsamsMessageSpec; params: Record<string, string>; delayMs: number }
  | {
      kind: 'document';
      layout: LayoutModule[];
      /** Generation time (cache miss) plus any `slow` fault delay. */
      delayMs: number;
      damage?: DocumentDamage;
      cacheHit: boolean;
    };

export interface BatchRequest {
  /** POST body (undefined for GET). */
  body?: string;
  /** Caller address as the policy sees it (socket or X-Forwarded-For). */
  callerIp: string;
  now: number;
  /** How long the simulated internal time-out takes (35 s in iSAMS; shorter in tests). */
  internalTimeoutMs: number;
  /** Delay of a `slow` fault without its own delayMs. */
  defaultSlowMs: number;
}

function message(spec: IsamsMessageSpec, params: Record<string, string> = {}, delayMs = 0): BatchOutcome {
  return { kind: 'message', spec, params, delayMs };
}

/**
 * Decides the response to one Batch API request for a school whose key matched: inactive key,
 * scripted fault, IP allow-list, throttle, filter body, MethodsToRun allocation, then the (cached)
 * document — generated under the school's time model when it is not cached.
 */
export function decideBatch(school: SimulatedSchool, req: BatchRequest): BatchOutcome {
  school.stats.requests += 1;
  const outcome = decide(school, req);
  if (outcome.kind === 'document') school.stats.documents += 1;
  else if (outcome.spec.messageId === ISAMS_MESSAGES.methodsNotAllocated.messageId)
    school.stats.methodsNotAllocated += 1;
  return outcome;
}

function decide(school: SimulatedSchool, req: BatchRequest): BatchOutcome {
  const key = school.key;
  // ASSUMED ([U] in reference §1.7/§1.8): the order of checks above; refused IPs do not count
  // against the throttle.
  // ASSUMED ([U] in reference §1.5): an inactive key gets the InvalidApiKey 401 document.
  if (!key.active) return message(ISAMS_MESSAGES.keyInactive);
  const fault = takeFault(school);
  switch (fault?.kind) {
    case 'invalidKey':
      return message(ISAMS_MESSAGES.invalidApiKey);
    case 'ipRefused':
      return message(ISAMS_MESSAGES.ipNotAllowed, { ip: req.callerIp });
    case 'throttled':
      return message(ISAMS_MESSAGES.throttled, {
        limit: String(key.throttle?.limit ?? 100),
        period: describeWindow(key.throttle?.windowMs ?? 3_600_000),
      });
    case 'deadlock':
      return message(ISAMS_MESSAGES.deadlock, {}, fault.delayMs ?? 0);
    case 'lockTimeout':
      return message(ISAMS_MESSAGES.lockTimeout, {}, fault.delayMs ?? 0);
    case 'timeout35s':
      return message(ISAMS_MESSAGES.internalTimeout, {}, fault.delayMs ?? req.internalTimeoutMs);
    default:
      break;
  }
  // ASSUMED ([U] in reference §1.7): IP refusal = 403 IPAddressRestricted, throttling = 429
  // ThrottleLimitExceeded (the shared catalogue's assumed entries).
  if (!ipAllowed(req.callerIp, key.allowedIps))
    return message(ISAMS_MESSAGES.ipNotAllowed, { ip: req.callerIp });
  const throttle = throttleDecision(school.throttle, key.throttle, req.now);
  school.throttle = throttle.state;
  if (!throttle.allowed && key.throttle) {
    return message(ISAMS_MESSAGES.throttled, {
      limit: String(key.throttle.limit),
      period: describeWindow(key.throttle.windowMs),
    });
  }

  let methods: string[] | undefined;
  let filterNodes: string[] = [];
  try {
    ({ methodsToRun: methods, filterNodes = [] } = parseFilterBody(req.body));
  } catch (err) {
    if (err instanceof MalformedFilterBodyError) return message(ISAMS_MESSAGES.malformedRequestBody);
    throw err;
  }
  const allocated = new Set(key.datasets);
  if (fault?.kind === 'methodsNotAllocated') {
    const names = methods && methods.length > 0 ? methods : key.datasets.map((d) => METHOD_OF[d]);
    return message(ISAMS_MESSAGES.methodsNotAllocated, {
      methods: names.map((m) => m.toLowerCase()).join(', '),
    });
  }
  let selected: Set<DatasetId> = allocated;
  if (methods && methods.length > 0) {
    const missing = methods.filter((m) => {
      const d = datasetForMethod(m);
      return d === undefined || !allocated.has(d);
    });
    if (missing.length > 0)
      return message(ISAMS_MESSAGES.methodsNotAllocated, {
        methods: missing.map((m) => m.toLowerCase()).join(', '),
      });
    selected = new Set(methods.map((m) => datasetForMethod(m) as DatasetId));
    // ASSUMED ([U] in reference §1.8): FiltersRequiredException is 400 (the shared catalogue's
    // assumed entry), checked after the allocation, before anything is generated.
    const unfiltered = methods.find((m) => {
      const node = requiredFilterNode(m);
      return node !== undefined && !filterNodes.includes(node.toLowerCase());
    });
    if (unfiltered !== undefined)
      return message(ISAMS_MESSAGES.filtersRequired, { method: methodDisplayName(unfiltered) });
  }

  let rows;
  let cacheHit = false;
  let generationMs = 0;
  const cacheKey =
    key.cacheMode === 'bypass'
      ? undefined
      : cacheKeyFor(key.apiKey, methods && methods.length > 0 ? methods : undefined, key.cacheKeying);
  // ASSUMED ([U] in reference §1.6): the cache is regenerated lazily, on the first request after
  // expiry; XML and JSON requests share an entry.
  const entry = cacheKey === undefined ? undefined : school.cache.get(cacheKey);
  if (entry && cacheFresh(entry.createdAt, req.now, key.cacheExpiryMs)) {
    rows = entry.rows;
    cacheHit = true;
  } else {
    rows = liveRows(school);
    // ASSUMED ([U] in reference §1.8): only a generation takes time (a cached copy is served at
    // once), and only the selected methods are generated; a failed generation caches nothing.
    const model = school.server.generation;
    const generation = decideGeneration(
      model,
      generationCost(model, rows, selected),
      school.generationRng.next(),
    );
    if (generation.kind === 'timeout') {
      school.stats.generationTimeouts += 1;
      // ASSUMED ([U] in reference §1.8): the ~35 s time-out answers the 500 UnhandledException
      // "Execution Timeout Expired…" document (the shared catalogue's assumed entry).
      return message(ISAMS_MESSAGES.internalTimeout, {}, generation.ms);
    }
    if (generation.kind === 'deadlock') {
      school.stats.generationDeadlocks += 1;
      return message(ISAMS_MESSAGES.deadlock, {}, generation.ms);
    }
    generationMs = generation.ms;
    if (cacheKey !== undefined) school.cache.set(cacheKey, { rows, createdAt: req.now });
  }
  const layout = layoutDocument(rows, selected, school.datasetOrder);
  const slowMs = fault?.kind === 'slow' ? (fault.delayMs ?? req.defaultSlowMs) : 0;
  const damage =
    fault?.kind === 'truncated' || fault?.kind === 'malformed' || fault?.kind === 'connectionReset'
      ? fault.kind
      : undefined;
  return {
    kind: 'document',
    layout,
    delayMs: generationMs + slowMs,
    cacheHit,
    ...(damage ? { damage } : {}),
  };
}
