/** The span attributes every CONSUMER `process` span carries. */
export function processSpanAttributes(
  topic: string,
  partition: number,
  groupId: string,
  attempt: number,
): Record<string, string | number> {
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.destination.name': topic,
    'messaging.destination.partition.id': String(partition),
    'messaging.consumer.group.name': groupId,
    'isams_sync.attempt': attempt,
  };
}

/** Runs `fn` while heartbeating every interval, so a slow handler never costs the membership. */
export async function withHeartbeats<T>(
  heartbeat: () => Promise<void>,
  intervalMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const timer = setInterval(() => {
    // A rebalance reported here is reported again by the runner's own heartbeat after `fn`.
    heartbeat().catch(() => undefined);
  }, intervalMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
