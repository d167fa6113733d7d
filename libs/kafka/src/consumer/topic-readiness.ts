/**
 * Errors of a subscription to topics a broker does not serve yet (created moments ago, leader not
 * elected) or of a group coordinator not ready yet (a broker just started or restarted).
 */
const TOPIC_NOT_READY =
  /UNKNOWN_TOPIC_OR_PARTITION|LEADER_NOT_AVAILABLE|NOT_LEADER|does not host this topic-partition|no leader|COORDINATOR_(NOT_AVAILABLE|LOAD_IN_PROGRESS)|NOT_COORDINATOR|find group coordinator/i;

/** True when `err` (or an error it wraps) says the topics are not served yet; see `startAttempts`. */
export function isTopicNotReadyError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth += 1) {
    const { type, message, originalError, cause } = e as {
      type?: unknown;
      message?: unknown;
      originalError?: unknown;
      cause?: unknown;
    };
    if (typeof type === 'string' && TOPIC_NOT_READY.test(type)) return true;
    if (typeof message === 'string' && TOPIC_NOT_READY.test(message)) return true;
    e = originalError ?? cause;
  }
  return false;
}
