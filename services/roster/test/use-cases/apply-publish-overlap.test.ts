import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import { ids } from '../../src/use-cases/records';
import { play } from '../support/crash-world';
import type { WorldStep } from '../support/crash-world';
import { MemoryPublisher, emptyRosterState } from '../support/memory-roster';
import type { MemoryRosterState } from '../support/memory-roster';
import { miniSchool } from '../support/mini-school';
import { pupil } from '../support/raw';

// A changeset's events go out chunk by chunk while the next chunk's entity documents are written
// (changeset-processor.ts `apply`). What must hold: every state record and change event is sent only
// once the document it describes is stored (a subscriber that reads the roster on an event finds it),
// and a change event only after its state record.

const T = 'school-1';
// 1,200 pupils: three change chunks of 500, so a chunk is published while a later one is written.
const FIRST: WorldStep = { kind: 'feed', tenantId: T, syncRunId: 'run-a', datasets: miniSchool(1200) };
const RESYNC: WorldStep = {
  kind: 'feed',
  tenantId: T,
  syncRunId: 'run-b',
  datasets: miniSchool(1200, { without: [1, 2, 3], extra: [pupil('9000')], renamed: { 700: 'R700' } }),
};

interface Sent {
  /** Events checked against the store at the moment they were sent. */
  checked: number;
  /** Events whose document was missing or older than the event when it was sent. */
  ahead: string[];
  /** Change events sent before their state record. */
  unordered: string[];
  /** Entity documents stored when each state batch was sent. */
  storedAtEachSend: number[];
}

/** A broker that, as each batch is sent, compares it with what the store holds at that moment. */
class CheckingPublisher extends MemoryPublisher {
  readonly sent: Sent = { checked: 0, ahead: [], unordered: [], storedAtEachSend: [] };
  private readonly stateSent = new Set<string>();

  constructor(private readonly state: MemoryRosterState) {
    super();
  }

  private check(events: readonly CloudEvent[], kind: 'state' | 'changes'): void {
    for (const e of events) {
      const data = e.data as {
        entityType: string;
        entityId: string;
        lastChangeId?: string;
        changeId?: string;
      };
      const changeId = data.lastChangeId ?? data.changeId;
      const key = ids.entity(e.tenantid, data.entityType as never, data.entityId);
      const stored = this.state.entities.get(key);
      this.sent.checked += 1;
      if (stored?.lastChangeId !== changeId) this.sent.ahead.push(`${kind} ${key} ${changeId}`);
      if (kind === 'state') this.stateSent.add(`${key}|${changeId}`);
      else if (!this.stateSent.has(`${key}|${changeId}`)) this.sent.unordered.push(`${key} ${changeId}`);
    }
  }

  override async publishState(events: readonly CloudEvent[], directory: readonly CloudEvent[] = []) {
    this.check(events, 'state');
    this.sent.storedAtEachSend.push(this.state.entities.size);
    await super.publishState(events, directory);
  }

  override async publishChanges(events: readonly CloudEvent[], directory: readonly CloudEvent[] = []) {
    this.check(events, 'changes');
    await super.publishChanges(events, directory);
  }
}

describe('a changeset is published while it is applied, each chunk after its documents', () => {
  it('first sync and a resync: no event before its document, no change before its state record', async () => {
    const state = emptyRosterState();
    const broker = new CheckingPublisher(state);
    await play({ state, broker }, [FIRST], undefined, { storeLatency: true });
    const firstSync = { stored: state.entities.size, storedAtEachSend: [...broker.sent.storedAtEachSend] };
    await play({ state, broker }, [RESYNC], undefined, { storeLatency: true });

    const changes = broker.events('changes');
    expect(changes.length).toBeGreaterThan(1200);
    expect(broker.sent.checked).toBe(changes.length + broker.events('state').length);
    expect(broker.sent.ahead).toEqual([]);
    expect(broker.sent.unordered).toEqual([]);
    // The first chunk went out before the last chunk's documents were written: the steps overlap.
    expect(firstSync.storedAtEachSend.length).toBeGreaterThanOrEqual(3);
    expect(firstSync.storedAtEachSend[0]).toBeLessThan(firstSync.stored);
  });
});
