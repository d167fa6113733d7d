import type { Producer } from 'kafkajs';
import { kafkajsOf } from '../kafka-client';
import type { KafkaClient } from '../kafka-client';
import { tenantPartitioner } from '../partitioner';

/** One kafkajs producer and its connection (made once, on first use). */
export interface ProducerInstance {
  producer: Producer;
  connected: Promise<void> | undefined;
}

/**
 * The kafkajs producer publishes go through now. A failed attempt retires it: the next attempt gets
 * a fresh one (a new producer id, so the broker's sequence checks start over), and a hung
 * connection does not carry over.
 */
export class ProducerSlot {
  current: ProducerInstance;
  /** `disconnect()` was called: no publish starts or retries any more. */
  closed = false;

  constructor(private readonly client: KafkaClient) {
    this.current = this.newInstance();
  }

  /** Connects `inst` once; a failed connect is tried again by the next caller. */
  connected(inst: ProducerInstance): Promise<void> {
    inst.connected ??= inst.producer.connect().catch((err: unknown) => {
      inst.connected = undefined;
      throw err;
    });
    return inst.connected;
  }

  /** Replaces `inst` (if still current) by a fresh producer; the old one is closed in the background. */
  retire(inst: ProducerInstance): void {
    if (this.current !== inst) return;
    this.current = this.newInstance();
    void inst.producer.disconnect().catch(() => undefined);
  }

  private newInstance(): ProducerInstance {
    return {
      producer: kafkajsOf(this.client).producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: tenantPartitioner,
        allowAutoTopicCreation: false,
      }),
      connected: undefined,
    };
  }
}
