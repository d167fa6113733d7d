import { isAppError, isPermanentKind, isTransientKind } from '@isams-sync/errors';

// kafkajs error types (broker error codes) that no retry of the same request can fix.
const PERMANENT_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REQUIRED_ACKS',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'POLICY_VIOLATION',
]);
const PERMANENT_NAMES = new Set([
  'KafkaJSSASLAuthenticationError',
  'KafkaJSServerDoesNotSupportApiKey',
  'KafkaJSNotImplemented',
  'KafkaJSInvariantViolation',
]);
// Errors of the way to the broker (down, restarting, moving leaders) and of a producer id the
// broker forgot across a restart: a later attempt, with a fresh producer, succeeds.
const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);
const TRANSIENT_TYPES = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

interface ErrorLink {
  name?: unknown;
  message?: unknown;
  type?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

function chainOf(err: unknown): ErrorLink[] {
  const links: ErrorLink[] = [];
  for (let e: unknown = err; e && typeof e === 'object' && links.length < 8;) {
    const link = e as ErrorLink;
    if (links.includes(link)) break;
    links.push(link);
    e = link.originalError ?? link.cause;
  }
  return links;
}

/**
 * True when a Kafka client failure cannot succeed by retrying (message too large, not authorised,
 * an invalid record, a bug in the caller): the producer fails such a publish at once. Everything on
 * the way to the broker — connection refused or closed, request timeouts, leader or coordinator
 * moves, retries exhausted, a producer id forgotten across a broker restart — is transient.
 */
export function isPermanentKafkaError(err: unknown): boolean {
  const links = chainOf(err);
  if (links.some((l) => PERMANENT_TYPES.has(String(l.type)) || PERMANENT_NAMES.has(String(l.name))))
    return true;
  const transient = links.some(
    (l) =>
      l.retriable === true ||
      TRANSIENT_NAMES.has(String(l.name)) ||
      TRANSIENT_TYPES.has(String(l.type)) ||
      (isAppError(l) && isTransientKind(l.kind)),
  );
  return !transient;
}

/**
 * True when `err`, or an error it wraps, is V8's stack overflow (`RangeError: Maximum call stack size
 * exceeded`): the handler recursed too deep on this event (data nested far too deep), which every
 * retry repeats.
 */
export function isStackOverflow(err: unknown): boolean {
  return chainOf(err).some(
    (l) => l.name === 'RangeError' && String(l.message).startsWith('Maximum call stack size exceeded'),
  );
}

/** How the consumer treats a handler failure; see {@link classifyHandlerFailure}. */
export type HandlerFailure = 'permanent' | 'transient' | 'unexpected';

// Driver errors of an unreachable or restarting database (the mongodb driver's names), in case a
// handler lets one through without mapping it to MONGO_UNAVAILABLE.
const DATABASE_AWAY =
  /^Mongo(ServerSelection|Network|NetworkTimeout|TopologyClosed|NotConnected|PoolCleared|ServerClosed|StalePrimary|OperationTimeout)Error$/;

/**
 * Classifies a handler failure through the errors catalogue:
 * - `permanent` — an `AppError` of a kind no retry can fix (`invalid_argument` such as invalid data
 *   or an unknown schema version, `failed_precondition`, `not_found`, `already_exists`,
 *   `permission_denied`, `unauthenticated`), or a stack overflow ({@link isStackOverflow}, however
 *   wrapped, unless in an `AppError` of a transient kind): deterministic for the event, so it is
 *   dead-lettered at once instead of blocking its partition for ever;
 * - `transient` — an `AppError` of kind `unavailable`, `deadline_exceeded`, `resource_exhausted` or
 *   `aborted` (MONGO_UNAVAILABLE, MONGO_TIMEOUT, KAFKA_*), or a Kafka/database client error of the
 *   same nature: retried until it succeeds;
 * - `unexpected` — anything else (a bug, an `internal` error): retried too (it is not known to be
 *   permanent), but logged as an error so it is seen.
 */
export function classifyHandlerFailure(err: unknown): HandlerFailure {
  if (isAppError(err)) {
    if (isPermanentKind(err.kind)) return 'permanent';
    if (isTransientKind(err.kind)) return 'transient';
    return isStackOverflow(err) ? 'permanent' : 'unexpected';
  }
  const links = chainOf(err);
  if (links.some((l) => DATABASE_AWAY.test(String(l.name)))) return 'transient';
  if (isStackOverflow(err)) return 'permanent';
  if (
    links.some((l) => typeof l.name === 'string' && l.name.startsWith('KafkaJS')) &&
    !isPermanentKafkaError(err)
  )
    return 'transient';
  return 'unexpected';
}
