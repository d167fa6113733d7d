import { IsamsError } from '@isams-sync/isams';
import type { DatasetId, IsamsErrorCode } from '@isams-sync/isams';
import type { OutgoingMail, Mailer } from '../../../src/domain/mailer.port';
import type { FetchPlan } from '../../../src/domain/method-groups';
import type { RunRecord } from '../../../src/domain/run-record';
import type { SchoolSchedule } from '../../../src/domain/schedule';
import { settingsVersion } from '../../../src/domain/school-settings';
import type { EncryptedKey, SchoolSettings, VersionedSettings } from '../../../src/domain/school-settings';
import type { RunStatus } from '../../../src/domain/sync-run';
import type {
  AddressChangeEntry,
  ConnectionProbe,
  ExclusiveLeases,
  FetchPlanStore,
  FetchResult,
  FreshnessReader,
  HeldExclusiveLease,
  IsamsSource,
  NotificationClaim,
  NotificationClaims,
  RunHistory,
  ScheduleStore,
  SettingsAuditLog,
  SettingsRecords,
  StoredKeys,
} from '../../../src/use-cases/ports';

// In-memory twins of the ports of the key vault, the settings service, the connection tests and the
// notifier (src/use-cases/ports.ts). They keep the rules those use-cases rely on from the MongoDB
// adapters: a key is replaced only while the stored address and key are as read (compare and set),
// a settings save is stored only over the version before it, one holder per exclusive lease, one
// claim per notification id (insert if absent), the newest runs first. Left out: lease expiry and renewal (a lost lease is simulated with `lose`), FerretDB's
// non-atomic paths, and the storage errors of the real driver (a failure is injected by hand).

const copy = <T>(value: T): T => structuredClone(value);

/** The schools' settings (`data_source_settings`): what the settings service, key vault and notifier read. */
export class InMemorySettingsRecords implements SettingsRecords, StoredKeys {
  readonly docs = new Map<string, SchoolSettings>();
  /** The next `put` fails with this error (then the store answers again). */
  failNextPut: Error | undefined;
  puts = 0;

  constructor(initial: readonly SchoolSettings[] = []) {
    for (const s of initial) this.docs.set(s.tenantId, copy(s));
  }

  get(tenantId: string): Promise<SchoolSettings | null> {
    return Promise.resolve(copy(this.docs.get(tenantId) ?? null));
  }

  /** Tests: stores `settings` as they are (no version check). */
  put(settings: SchoolSettings): Promise<void> {
    this.docs.set(settings.tenantId, copy(settings));
    return Promise.resolve();
  }

  save(settings: VersionedSettings, keptKey?: EncryptedKey): Promise<boolean> {
    if (this.failNextPut) {
      const err = this.failNextPut;
      this.failNextPut = undefined;
      return Promise.reject(err);
    }
    const stored = this.docs.get(settings.tenantId) ?? null;
    if (settingsVersion(stored) !== settings.version - 1) return Promise.resolve(false);
    if (
      keptKey !== undefined &&
      (stored?.key?.iv !== keptKey.iv || stored?.key?.ciphertext !== keptKey.ciphertext)
    )
      return Promise.resolve(false);
    this.puts += 1;
    this.docs.set(settings.tenantId, copy(settings));
    return Promise.resolve(true);
  }

  async *all(): AsyncIterable<SchoolSettings> {
    for (const s of [...this.docs.values()]) yield copy(s);
  }

  replaceKey(
    tenantId: string,
    expected: { isamsUrl: string; key: EncryptedKey },
    key: EncryptedKey,
  ): Promise<boolean> {
    const s = this.docs.get(tenantId);
    const same =
      s !== undefined &&
      s.isamsUrl === expected.isamsUrl &&
      s.key.iv === expected.key.iv &&
      s.key.ciphertext === expected.key.ciphertext;
    if (same) s.key = copy(key);
    return Promise.resolve(same);
  }

  async *withUnboundKeys(): AsyncIterable<SchoolSettings> {
    for (const s of [...this.docs.values()]) if (s.key.binding === undefined) yield copy(s);
  }
}

export type AuditEntry = AddressChangeEntry & { _id: string; outcome: 'pending' | 'saved' | 'failed' };

/** The address-change audit (`settings_audit`). */
export class InMemorySettingsAudit implements SettingsAuditLog {
  readonly entries: AuditEntry[] = [];
  /** `begin` / `settle` refuse while set. */
  failBegin = false;
  failSettle = false;

  begin(change: AddressChangeEntry): Promise<string> {
    if (this.failBegin) return Promise.reject(new Error('audit unavailable'));
    const _id = `audit-${this.entries.length + 1}`;
    this.entries.push({ ...copy(change), _id, outcome: 'pending' });
    return Promise.resolve(_id);
  }

  settle(tenantId: string, id: string, outcome: 'saved' | 'failed'): Promise<void> {
    if (this.failSettle) return Promise.reject(new Error('audit unavailable'));
    const entry = this.entries.find((e) => e._id === id && e.tenantId === tenantId);
    if (entry) entry.outcome = outcome;
    return Promise.resolve();
  }
}

export class InMemoryFetchPlans implements FetchPlanStore {
  readonly plans = new Map<string, FetchPlan>();
  get(tenantId: string): Promise<FetchPlan | null> {
    return Promise.resolve(copy(this.plans.get(tenantId) ?? null));
  }
  put(tenantId: string, plan: FetchPlan): Promise<void> {
    this.plans.set(tenantId, copy(plan));
    return Promise.resolve();
  }
}

/** A connection test's fetch, scripted: present datasets with record counts, or an iSAMS error. */
export class ScriptedProbe implements ConnectionProbe {
  readonly calls: Array<{ source: IsamsSource; plan: FetchPlan | null; signal: AbortSignal }> = [];
  datasets: Partial<Record<DatasetId, number>> = {};
  absent: DatasetId[] = [];
  failWith: IsamsErrorCode | Error | undefined;
  /** Set: every probe waits for this before answering (to hold tests open). */
  gate: Promise<void> | undefined;

  async probe(request: {
    source: IsamsSource;
    plan: FetchPlan | null;
    signal: AbortSignal;
  }): Promise<FetchResult> {
    this.calls.push(request);
    if (this.gate) await this.gate;
    if (this.failWith instanceof Error) throw this.failWith;
    if (this.failWith !== undefined)
      throw new IsamsError({ code: this.failWith, message: 'scripted failure' });
    const datasets = Object.entries(this.datasets).map(([datasetId, recordCount]) => ({
      datasetId: datasetId as DatasetId,
      present: true,
      recordCount,
      bytes: 0,
      chunkCount: 0,
      chunkRecords: [],
      fingerprint: '',
    }));
    return {
      datasets,
      absent: [...this.absent],
      unknownContainers: [],
      findings: [],
      bytes: 1234,
      fetch: { mode: 'whole', groups: [] },
    };
  }
}

/** Exclusive leases by key: one holder at a time until released or `lose`-t. */
export class InMemoryExclusiveLeases implements ExclusiveLeases {
  private readonly held = new Map<string, AbortController>();
  /** The next `acquire` throws this (the database refused). */
  failNextAcquire: Error | undefined;
  acquired: string[] = [];

  acquire(key: string): Promise<HeldExclusiveLease | null> {
    if (this.failNextAcquire) {
      const err = this.failNextAcquire;
      this.failNextAcquire = undefined;
      return Promise.reject(err);
    }
    if (this.held.has(key)) return Promise.resolve(null);
    const ctl = new AbortController();
    this.held.set(key, ctl);
    this.acquired.push(key);
    return Promise.resolve({
      signal: ctl.signal,
      release: () => {
        if (this.held.get(key) === ctl) this.held.delete(key);
        ctl.abort();
        return Promise.resolve();
      },
    });
  }

  /** Another holder took the lease over (this one's renewal failed). */
  lose(key: string): void {
    const ctl = this.held.get(key);
    this.held.delete(key);
    ctl?.abort();
  }

  isHeld(key: string): boolean {
    return this.held.has(key);
  }
}

/** The runs the notifier reads (`sync_runs`). */
export class InMemoryRunHistory implements RunHistory {
  readonly runs: RunRecord[] = [];

  add(...runs: RunRecord[]): this {
    this.runs.push(...copy(runs));
    return this;
  }

  get(tenantId: string, syncRunId: string): Promise<RunRecord | null> {
    return Promise.resolve(
      copy(this.runs.find((r) => r.tenantId === tenantId && r._id === syncRunId) ?? null),
    );
  }

  newest(tenantId: string, statuses: readonly RunStatus[], limit: number): Promise<RunRecord[]> {
    const runs = this.runs
      .filter((r) => r.tenantId === tenantId && statuses.includes(r.status))
      .sort((a, b) => b.requestedAt.getTime() - a.requestedAt.getTime() || (a._id < b._id ? 1 : -1))
      .slice(0, limit);
    return Promise.resolve(copy(runs));
  }
}

export class InMemoryFreshness implements FreshnessReader {
  readonly dataAsOf = new Map<string, Date>();
  get(tenantId: string): Promise<{ dataAsOf: Date } | null> {
    const at = this.dataAsOf.get(tenantId);
    return Promise.resolve(at === undefined ? null : { dataAsOf: new Date(at) });
  }
}

/** The e-mail claims (`notifications`): one per id, insert if absent. */
export class InMemoryNotificationClaims implements NotificationClaims {
  readonly claims = new Map<string, NotificationClaim>();
  failRelease = false;

  claim(claim: NotificationClaim): Promise<boolean> {
    if (this.claims.has(claim._id)) return Promise.resolve(false);
    this.claims.set(claim._id, copy(claim));
    return Promise.resolve(true);
  }

  release(tenantId: string, id: string): Promise<void> {
    if (this.failRelease) return Promise.reject(new Error('database unavailable'));
    if (this.claims.get(id)?.tenantId === tenantId) this.claims.delete(id);
    return Promise.resolve();
  }

  markSent(tenantId: string, id: string, sentAt: Date): Promise<void> {
    const c = this.claims.get(id);
    if (c?.tenantId === tenantId) c.sentAt = sentAt;
    return Promise.resolve();
  }
}

/** Records every e-mail; refuses the next `refuse` ones as an SMTP server would. */
export class RecordingMailer implements Mailer {
  readonly sent: OutgoingMail[] = [];
  refuse = 0;
  closed = false;

  send(mail: OutgoingMail): Promise<void> {
    if (this.refuse > 0) {
      this.refuse -= 1;
      return Promise.reject(new Error('550 refused'));
    }
    this.sent.push(copy(mail));
    return Promise.resolve();
  }

  close(): void {
    this.closed = true;
  }
}

/** How a store's calls are made: each one I/O (the engine's crash tests pass their process life's). */
export type StoreIo = <T>(name: string, call: () => T) => Promise<T>;

/**
 * The schools' schedules (`sync_schedules`): what the scheduler, a run's end and the settings
 * service write. `io` makes each call one I/O of a process life (the crash tests); by default it
 * answers at once.
 */
export class InMemorySchedules implements ScheduleStore {
  constructor(
    readonly docs = new Map<string, SchoolSchedule>(),
    private readonly io: StoreIo = (_name, call) => Promise.resolve(call()),
  ) {}

  get(tenantId: string): Promise<SchoolSchedule | null> {
    return this.io('schedules.get', () => copy(this.docs.get(tenantId) ?? null));
  }

  due(now: Date, limit: number): Promise<SchoolSchedule[]> {
    return this.io('schedules.due', () =>
      copy(
        [...this.docs.values()]
          .filter((s) => s.nextRunAt !== null && s.nextRunAt <= now)
          .sort((a, b) => a.nextRunAt!.getTime() - b.nextRunAt!.getTime())
          .slice(0, limit),
      ),
    );
  }

  /** The next `setNext` fails with this error (then the store answers again). */
  failNextSet: Error | undefined;

  setNext(tenantId: string, nextRunAt: Date | null, consecutiveFailures?: number): Promise<void> {
    if (this.failNextSet) {
      const err = this.failNextSet;
      this.failNextSet = undefined;
      return Promise.reject(err);
    }
    return this.io('schedules.setNext', () => {
      const s = this.docs.get(tenantId) ?? { _id: tenantId, tenantId, nextRunAt, consecutiveFailures: 0 };
      this.docs.set(tenantId, {
        ...s,
        nextRunAt,
        consecutiveFailures: consecutiveFailures ?? s.consecutiveFailures,
      });
    });
  }

  setNextIf(tenantId: string, expected: Date, nextRunAt: Date | null): Promise<boolean> {
    return this.io('schedules.setNextIf', () => {
      const s = this.docs.get(tenantId);
      if (s?.nextRunAt?.getTime() !== expected.getTime()) return false;
      this.docs.set(tenantId, { ...s, nextRunAt });
      return true;
    });
  }

  clearFailures(tenantId: string): Promise<void> {
    return this.io('schedules.clearFailures', () => {
      const s = this.docs.get(tenantId);
      if (s) s.consecutiveFailures = 0;
    });
  }
}

/** A school's schedule: due at `nextRunAt` (null: not scheduled), no failure streak unless given. */
export function schoolSchedule(
  tenantId: string,
  nextRunAt: Date | null,
  consecutiveFailures = 0,
): SchoolSchedule {
  return { _id: tenantId, tenantId, nextRunAt, consecutiveFailures };
}

/** A school's stored settings (enabled, hourly, no contacts) with `overrides`. */
export function schoolSettings(tenantId: string, overrides: Partial<SchoolSettings> = {}): SchoolSettings {
  const at = new Date('2026-01-01T00:00:00Z');
  return {
    _id: tenantId,
    tenantId,
    isamsUrl: 'https://school-a.isams.cloud',
    format: 'xml',
    scheduleMinutes: 60,
    enabled: true,
    key: { kekId: 'k1', binding: 'tenant-origin', iv: 'iv', ciphertext: 'ct', tag: 'tag' },
    keyLast4: '7777',
    keyUpdatedAt: at,
    updatedAt: at,
    updatedBy: '',
    ...overrides,
  };
}
