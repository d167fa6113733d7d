import { createKafkaClient, headerValue, tailTopic, type TopicTail } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { eventually } from '@isams-sync/testing';

/** One roster change event as read from `roster.changes.v1` (the fields the suite compares). */
export interface ChangeEvent {
  id: string;
  type: string;
  tenantId: string;
  syncRunId: string;
  entityType: string;
  entityId: string;
  change: string;
}

/**
 * Reads the system's roster change topic from the beginning, as any consumer would, and keeps every
 * message (duplicates included) so tests can check "no gaps, duplicates tolerated".
 */
export class ChangeEventLog {
  readonly all: ChangeEvent[] = [];
  private constructor() {}
  private tail: TopicTail | undefined;

  static async start(brokers: readonly string[], topic: string): Promise<ChangeEventLog> {
    // Generous retries: the suites restart the broker under this reader.
    const client = createKafkaClient({
      brokers: [...brokers],
      clientId: 'e2e-changes',
      logger: createLogger({ service: 'e2e-changes', level: 'silent' }),
      retry: { retries: 50, initialRetryTimeMs: 300, maxRetryTimeMs: 5000 },
    });
    const log = new ChangeEventLog();
    log.tail = tailTopic(client, topic, (records) => {
      for (const r of records) {
        const h = (name: string) => headerValue(r.headers, name) ?? '';
        const data = JSON.parse(r.value?.toString() ?? '{}') as Record<string, string>;
        log.all.push({
          id: h('ce_id'),
          type: h('ce_type'),
          tenantId: h('ce_tenantid'),
          syncRunId: data.syncRunId ?? '',
          entityType: data.entityType ?? '',
          entityId: data.entityId ?? '',
          change: data.change ?? '',
        });
      }
    });
    return log;
  }

  forTenant(tenantId: string): ChangeEvent[] {
    return this.all.filter((e) => e.tenantId === tenantId);
  }

  /**
   * The tenant's distinct events (by id) as `<n> <type> <entityId>`, where n is the position of the
   * event's run in `runIds`: comparable with another school that ran the same runs.
   */
  facts(tenantId: string, runIds: readonly string[]): string[] {
    const seen = new Map<string, string>();
    for (const e of this.forTenant(tenantId)) {
      const n = runIds.indexOf(e.syncRunId);
      seen.set(e.id, `${n < 0 ? `?${e.syncRunId}` : n} ${e.type} ${e.entityId}`);
    }
    return [...seen.values()].sort();
  }

  /** Waits until the tenant has at least `count` distinct events (or the timeout passes). */
  async waitForDistinct(tenantId: string, count: number, timeoutMs = 120_000): Promise<number> {
    const distinct = () => new Set(this.forTenant(tenantId).map((e) => e.id)).size;
    // At the deadline the caller gets the count reached and its assertion says what differs.
    return eventually(
      () => (distinct() >= count ? distinct() : undefined),
      `${count} change events of ${tenantId}`,
      {
        timeoutMs,
        intervalMs: 300,
      },
    ).catch(() => distinct());
  }

  /** Waits until one of the tenant's events satisfies `predicate`; throws after the timeout. */
  async waitFor(
    tenantId: string,
    predicate: (e: ChangeEvent) => boolean,
    timeoutMs = 120_000,
  ): Promise<void> {
    await eventually(
      () => this.forTenant(tenantId).some(predicate),
      `a matching change event of ${tenantId}`,
      {
        timeoutMs,
        intervalMs: 50,
      },
    );
  }

  stop(): Promise<void> {
    return this.tail?.stop() ?? Promise.resolve();
  }
}
