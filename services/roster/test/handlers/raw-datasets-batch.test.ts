import { describe, expect, it } from 'vitest';
import { datasetSnapshotCompletedV1, rawDatasetChunkV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import type { BatchConsumerContext, EventHandler } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { rawDatasetsBatchHandler } from '../../src/handlers/kafka/raw-datasets.handler';

// The raw-datasets consumer's batch form stages a fetched batch's chunks a few at a time; a
// run-complete marker must still be handled only after every event before it.

const ctx: BatchConsumerContext = {
  topic: 'raw',
  partition: 0,
  firstOffset: '0',
  lastOffset: '9',
  attempt: 1,
  logger: createLogger({ service: 'test', level: 'silent' }),
  heartbeat: async () => {},
};
const chunk = (n: number) => ({ type: rawDatasetChunkV1.type, id: `c${n}` }) as CloudEvent;
const marker = (n: number) => ({ type: datasetSnapshotCompletedV1.type, id: `m${n}` }) as CloudEvent;

/** A handler that takes a while per event and records when each started and ended. */
function recording(fail?: string) {
  const log: string[] = [];
  let inFlight = 0;
  let most = 0;
  const handle: EventHandler = async (event) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    log.push(`start ${event.id}`);
    await new Promise((resolve) => setTimeout(resolve, 1 + (Number(event.id.slice(1)) % 3) * 3));
    inFlight -= 1;
    if (event.id === fail) throw new Error(`cannot stage ${fail}`);
    log.push(`end ${event.id}`);
  };
  return { handle, log, most: () => most };
}

describe('rawDatasetsBatchHandler', () => {
  it('stages chunks up to four at a time and handles a marker after everything before it', async () => {
    const r = recording();
    const events = [...[1, 2, 3, 4, 5, 6].map(chunk), marker(1), chunk(7), chunk(8)];
    await rawDatasetsBatchHandler(r.handle)(events, ctx);
    expect(r.most()).toBe(4);
    const at = (entry: string) => r.log.indexOf(entry);
    for (const n of [1, 2, 3, 4, 5, 6]) expect(at(`end c${n}`)).toBeLessThan(at('start m1'));
    for (const n of [7, 8]) expect(at(`start c${n}`)).toBeGreaterThan(at('end m1'));
    expect(r.log.filter((l) => l.startsWith('end'))).toHaveLength(events.length);
  });

  it('fails the batch when a chunk cannot be staged, and handles no marker after it', async () => {
    const r = recording('c3');
    await expect(
      rawDatasetsBatchHandler(r.handle)([chunk(1), chunk(2), chunk(3), marker(1)], ctx),
    ).rejects.toThrow('cannot stage c3');
    expect(r.log).not.toContain('start m1');
  });
});
