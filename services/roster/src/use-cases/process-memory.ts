import type { RosterEntityType } from '@isams-sync/events';
import type { RosterEntity } from '../domain/roster-model';
import { imageHash } from './records';
import type { RawChunkDoc } from './records';

/**
 * What one roster process keeps in hand between a run's steps so as not to read back from the
 * database what it has just had (docs/roster-model.md › What a replica remembers). Neither is a
 * source of truth: a staged chunk is remembered only when this process stored it (what the database
 * holds), an image only counts when its hash is the one the school's manifest — read fresh for
 * every plan — gives, and anything not remembered is read from the store. A restart, another replica
 * or an eviction only costs the reads again. Both hold personal data, so both are bounded in time as
 * well as in size: what is not used for a while is dropped (`expire`, every sweep).
 */

interface Group<V> {
  items: Map<string, { value: V; cost: number }>;
  cost: number;
  /** When the group was last set or read (ms since the epoch). */
  usedAt: number;
}

/**
 * Entries grouped under a key (a run, a school), each with a cost; the least recently used group is
 * evicted first, and a group unused for a while can be expired.
 */
class GroupLru<V> {
  private readonly groups = new Map<string, Group<V>>();
  private total = 0;

  constructor(
    private readonly cap: number,
    private readonly now: () => number,
  ) {}

  /** The cost of everything in hand. */
  get cost(): number {
    return this.total;
  }

  /** The item, its group marked as just used. */
  get(group: string, key: string): V | undefined {
    const g = this.groups.get(group);
    const item = g?.items.get(key);
    if (g === undefined || item === undefined) return undefined;
    this.touch(group, g);
    return item.value;
  }

  /**
   * Adds items to a group (replacing those of the same keys; with `replace`, everything the group
   * held) and marks it as just used, then evicts the least recently used groups while the cost is
   * over the cap. A group over the cap by itself is dropped whole.
   */
  set(group: string, items: Iterable<readonly [key: string, value: V, cost: number]>, replace = false): void {
    const prior = this.groups.get(group);
    this.forget(group);
    const g: Group<V> = prior === undefined || replace ? { items: new Map(), cost: 0, usedAt: 0 } : prior;
    for (const [key, value, cost] of items) {
      g.cost += cost - (g.items.get(key)?.cost ?? 0);
      g.items.set(key, { value, cost });
    }
    if (g.cost > this.cap) return;
    this.touch(group, g);
    this.total += g.cost;
    for (const key of this.groups.keys()) {
      if (this.total <= this.cap) break;
      this.forget(key);
    }
  }

  forget(group: string): void {
    const g = this.groups.get(group);
    if (g === undefined) return;
    this.groups.delete(group);
    this.total -= g.cost;
  }

  /** Drops the groups not used for `idleMs`. */
  expire(idleMs: number): void {
    const before = this.now() - idleMs;
    for (const [key, g] of this.groups) if (g.usedAt < before) this.forget(key);
  }

  private touch(group: string, g: Group<V>): void {
    g.usedAt = this.now();
    this.groups.delete(group);
    this.groups.set(group, g);
  }
}

/**
 * The raw chunks this process staged, per run, until the run's plan reads them (then its chunks are
 * dropped). Capped by the chunks' messages as received (bytes); a run's chunks are evicted together,
 * least recently used first, and a run that alone outgrows the cap is kept in part.
 */
export class StagedChunkMemory {
  private readonly lru: GroupLru<RawChunkDoc>;

  constructor(capBytes: number, now: () => number = Date.now) {
    this.lru = new GroupLru(capBytes, now);
  }

  /** The chunks' size in hand (bytes as received). */
  get bytes(): number {
    return this.lru.cost;
  }

  /** Keeps a chunk this process has just stored (not one it found already staged: the store's may differ). */
  remember(doc: RawChunkDoc, bytes: number): void {
    this.lru.set(runKey(doc.tenantId, doc.syncRunId), [[doc._id, doc, bytes]]);
  }

  /** A staged chunk by its `_id` (`ids.chunk`), when this process stored it and still has it. */
  chunk(tenantId: string, syncRunId: string, chunkId: string): RawChunkDoc | undefined {
    return this.lru.get(runKey(tenantId, syncRunId), chunkId);
  }

  /** Forgets a run's chunks (its changeset is done, they are dropped from the store). */
  forgetRun(tenantId: string, syncRunId: string): void {
    this.lru.forget(runKey(tenantId, syncRunId));
  }

  /** Drops the runs none of whose chunks was stored or read for `idleMs` (a run that never completes). */
  expire(idleMs: number): void {
    this.lru.expire(idleMs);
  }
}

/**
 * The entity images of each school's last real plan (its incoming images: what the run stores),
 * capped by the number of images; a school's are evicted together, least recently used first.
 * `image` returns one only when its hash is the stored one's (the manifest's): equal content, as
 * the diff already takes an incoming image whose hash is the stored hash for the stored one.
 */
export class ImageMemory {
  private readonly lru: GroupLru<RosterEntity>;

  constructor(capImages: number, now: () => number = Date.now) {
    this.lru = new GroupLru(capImages, now);
  }

  /** Images in hand. */
  get size(): number {
    return this.lru.cost;
  }

  /**
   * Keeps a school's images from a plan, instead of what it had: a person who left is not kept past
   * the next run that plans without them.
   */
  remember(tenantId: string, images: Iterable<readonly [RosterEntityType, RosterEntity]>): void {
    const items = function* (): Iterable<[string, RosterEntity, number]> {
      for (const [entityType, image] of images) yield [`${entityType}|${image.id}`, image, 1];
    };
    this.lru.set(tenantId, items(), true);
  }

  /** The image of an entity whose stored image has `hash`, if one with that content is in hand. */
  image(
    tenantId: string,
    entityType: RosterEntityType,
    entityId: string,
    hash: string,
  ): RosterEntity | undefined {
    const image = this.lru.get(tenantId, `${entityType}|${entityId}`);
    return image !== undefined && imageHash(image) === hash ? image : undefined;
  }

  forget(tenantId: string): void {
    this.lru.forget(tenantId);
  }

  /** Drops the schools not planned or read for `idleMs`. */
  expire(idleMs: number): void {
    this.lru.expire(idleMs);
  }
}

const runKey = (tenantId: string, syncRunId: string): string => `${tenantId}|${syncRunId}`;
