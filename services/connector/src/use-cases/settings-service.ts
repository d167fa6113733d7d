import {
  DATASETS,
  DATASET_ARTICLE_NAMES,
  DATASET_IDS,
  createEgressGuard,
  isIsamsError,
} from '@isams-sync/isams';
import type { EgressPolicy } from '@isams-sync/isams';
import type { Logger } from '@isams-sync/logger';
import { ConnectorErrors } from '../domain/connector-errors';
import { firstScheduledRun } from '../domain/schedule';
import * as rules from '../domain/settings-rules';
import { addressChange, assertStoredKeyUsableFor, isamsOrigin } from '../domain/key-binding';
import type { SchoolSchedule } from '../domain/schedule';
import { settingsVersion } from '../domain/school-settings';
import type { SchoolSettings, VersionedSettings } from '../domain/school-settings';
import type { FetchPlan } from '../domain/method-groups';
import { toRunError } from './run-errors';
import type { RunError } from '../domain/sync-run';
import type { KeyVault } from './key-vault';
import type {
  ConnectionProbe,
  FetchPlanStore,
  ScheduleStore,
  SettingsAuditLog,
  SettingsRecords,
} from './ports';
import type { TestConnectionSlots } from './test-connection-slots';

export interface PutSettingsInput {
  isamsUrl: string;
  apiKey?: string;
  format: string;
  scheduleMinutes: number;
  enabled: boolean;
  /** IANA name; empty or absent keeps the stored one (the default the first time). */
  timeZone?: string;
  /** Replaces the stored list; absent keeps it. */
  notificationEmails?: readonly string[];
  /**
   * The version the save was made from (`SchoolSettings.version`): a save over any other is refused
   * with `CONNECTOR_SETTINGS_CHANGED`. -1: only while the school has no settings. 0 or absent: not
   * checked (the save is still stored only over the version it read).
   */
  expectedVersion?: number;
}

export interface TestConnectionResult {
  ok: boolean;
  datasets: Array<{ datasetId: string; adminName: string; present: boolean; recordCount: number }>;
  missing: string[];
  durationMs: number;
  bytes: number;
  error?: RunError;
}

/** The integrator names iSAMS asks for (Integrator Properties). */
export const INTEGRATOR_PROPERTIES = ['School Cloud Systems', 'SchoolCloud Clubs & Events'] as const;

export interface SettingsServiceOptions {
  allowInsecureLoopback: boolean;
  scheduleJitterMs: number;
  egressIps: string[];
  /** The egress policy of the iSAMS client (an address it refuses is refused when saved). */
  egress: EgressPolicy;
}

/** A school's settings as the admin sees them: the stored settings and when the school next runs. */
export type SettingsView = SchoolSettings & Pick<SchoolSchedule, 'nextRunAt'>;

export interface SettingsServiceDeps {
  settings: SettingsRecords;
  /** The schools' schedules: a save sets the next run time (domain/schedule). */
  schedules: ScheduleStore;
  keys: KeyVault;
  fetchPlans: FetchPlanStore;
  /** The connection tests' fetch. */
  probe: ConnectionProbe;
  logger: Logger;
  /** The address-change audit (none: not recorded — the KEK rotation CLI). */
  audit?: SettingsAuditLog;
  /** The caps on connection tests (none: not capped). */
  testSlots?: TestConnectionSlots;
}

/** What a KEK rotation did (SettingsService.rotateKeyEncryption). */
export interface KeyRotationResult {
  reencrypted: number;
  alreadyCurrent: number;
  /** Keys still under an older KEK after the rotation (the skipped ones): 0 before the previous KEK may go. */
  left: number;
  /** The schools whose stored key does not decrypt: each must enter its key again. */
  skipped: Array<{
    tenantId: string;
    kekId: string;
    code: 'CONNECTOR_KEY_DECRYPT_FAILED' | 'CONNECTOR_KEK_UNKNOWN';
  }>;
}

/** Who saved a change (from the verified call), for the audit. */
export interface SettingsCaller {
  actor?: string | undefined;
  requestId?: string | undefined;
}

/** Data-source settings, test connection, egress info and KEK rotation. */
export class SettingsService {
  private readonly repo: SettingsRecords;
  private readonly schedules: ScheduleStore;
  private readonly keys: KeyVault;
  private readonly fetchPlans: FetchPlanStore;
  private readonly probe: ConnectionProbe;
  private readonly logger: Logger;
  private readonly audit: SettingsAuditLog | undefined;
  private readonly testSlots: TestConnectionSlots | undefined;

  constructor(
    deps: SettingsServiceDeps,
    private readonly opts: SettingsServiceOptions,
  ) {
    this.repo = deps.settings;
    this.schedules = deps.schedules;
    this.keys = deps.keys;
    this.fetchPlans = deps.fetchPlans;
    this.probe = deps.probe;
    this.logger = deps.logger;
    this.audit = deps.audit;
    this.testSlots = deps.testSlots;
  }

  /** The school's settings and next run time; null when it has no settings. */
  async get(tenantId: string): Promise<SettingsView | null> {
    const [settings, schedule] = await Promise.all([this.repo.get(tenantId), this.schedules.get(tenantId)]);
    return settings && { ...settings, nextRunAt: settings.enabled ? (schedule?.nextRunAt ?? null) : null };
  }

  /** How the school is fetched (whole key or method groups); null until a run needed groups. */
  fetchPlan(tenantId: string): Promise<FetchPlan | null> {
    return this.fetchPlans.get(tenantId);
  }

  /**
   * Whether `doc` is what is stored now (its version, written at its `updatedAt`); undefined when the
   * settings cannot be read (the address-change record then stays pending rather than say `failed`).
   */
  private async landed(doc: VersionedSettings): Promise<boolean | undefined> {
    try {
      const stored = await this.repo.get(doc.tenantId);
      return (
        settingsVersion(stored) === doc.version && stored?.updatedAt?.getTime() === doc.updatedAt.getTime()
      );
    } catch {
      return undefined;
    }
  }

  /**
   * A refused save moved the school's next run to `ours` before it wrote the settings: the time goes
   * back to `before`, unless another writer moved it since (their time stands), or `before` had no
   * time and the settings stored now are on (sync on without a time never runs: ours is as soon as
   * theirs). A failure to set it back is logged; the save is refused either way.
   */
  private async setScheduleBack(
    tenantId: string,
    before: SchoolSchedule | null,
    ours: Date,
    stored: SchoolSettings | null,
  ): Promise<void> {
    try {
      const previous = before?.nextRunAt ?? null;
      if (previous === null && stored?.enabled) return;
      // One conditional write: a time another writer set since (even a moment ago) stands.
      await this.schedules.setNextIf(tenantId, ours, previous);
    } catch (err) {
      this.logger.warn({ err, tenantId }, "save refused; the school's next run could not be set back");
    }
  }

  /**
   * Saves the settings, as the next version of the stored ones: a save made from another version
   * than the stored one (`input.expectedVersion`), or overtaken by a save stored between its read and its write, is
   * refused with `CONNECTOR_SETTINGS_CHANGED` and changes nothing (a next run it had already moved
   * is set back; its address-change record is settled `failed`). The stored key stays bound to its
   * host: a new host needs the key entered again (`CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS`, nothing saved), and every address change is
   * recorded in the settings audit before it is saved. The next run time goes to the school's
   * schedule, before the settings when the save sets one and after them when it clears it
   * (domain/schedule): a save cut off in between never leaves sync on without a time.
   */
  async put(tenantId: string, input: PutSettingsInput, caller: SettingsCaller = {}): Promise<SettingsView> {
    const isamsUrl = rules.normaliseIsamsUrl(input.isamsUrl, this.opts.allowInsecureLoopback);
    // IP literals, internal names, other ports and hosts outside the suffix list are refused now;
    // what a name resolves to is checked on every connection (a test connection or run).
    createEgressGuard(this.opts.egress, this.logger.child({ tenantId })).check(new URL(isamsUrl));
    const format = rules.validateFormat(input.format);
    const scheduleMinutes = rules.validateScheduleMinutes(input.scheduleMinutes);
    const plain = input.apiKey ? rules.validateApiKey(input.apiKey) : undefined;
    const givenTimeZone = input.timeZone ? rules.validateTimeZone(input.timeZone) : undefined;
    const givenEmails = input.notificationEmails
      ? rules.validateNotificationEmails(input.notificationEmails)
      : undefined;
    const expectedVersion = input.expectedVersion ?? 0;
    if (!Number.isInteger(expectedVersion) || expectedVersion < -1)
      throw ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({
        field: 'expectedVersion',
        reason: 'must be the version the settings were loaded at, -1 (none were stored) or 0 (not checked)',
      });
    const [existing, schedule] = await Promise.all([this.repo.get(tenantId), this.schedules.get(tenantId)]);
    const currentVersion = settingsVersion(existing);
    if (expectedVersion !== 0 && expectedVersion !== (currentVersion === 0 ? -1 : currentVersion))
      throw ConnectorErrors.CONNECTOR_SETTINGS_CHANGED({ expectedVersion, currentVersion });
    const change = addressChange(existing?.isamsUrl, isamsUrl);
    if (change === 'new-host' && plain === undefined)
      throw ConnectorErrors.CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS();
    const now = new Date();
    let key = existing?.key;
    let last4 = existing?.keyLast4;
    let keyUpdatedAt = existing?.keyUpdatedAt;
    if (plain !== undefined) {
      key = this.keys.seal(tenantId, isamsUrl, plain);
      last4 = rules.keyLast4(plain);
      keyUpdatedAt = now;
    }
    if (!key || !last4 || !keyUpdatedAt) throw ConnectorErrors.CONNECTOR_KEY_REQUIRED();
    const keepSchedule =
      existing?.enabled &&
      input.enabled &&
      schedule?.nextRunAt &&
      existing.scheduleMinutes === scheduleMinutes;
    const nextRunAt = input.enabled
      ? keepSchedule
        ? schedule.nextRunAt
        : firstScheduledRun(tenantId, now, this.opts.scheduleJitterMs)
      : null;
    const doc: VersionedSettings = {
      _id: tenantId,
      tenantId,
      isamsUrl,
      format,
      scheduleMinutes,
      enabled: input.enabled,
      key,
      keyLast4: last4,
      keyUpdatedAt,
      timeZone: givenTimeZone ?? existing?.timeZone ?? rules.DEFAULT_TIME_ZONE,
      notificationEmails: givenEmails ?? existing?.notificationEmails ?? [],
      updatedAt: now,
      updatedBy: caller.actor ?? '',
      version: currentVersion + 1,
    };
    // Recorded first, so no address change is ever saved without its audit record.
    const auditId =
      existing && (change === 'new-host' || change === 'same-host')
        ? await this.audit?.begin({
            tenantId,
            at: now,
            actor: caller.actor ?? '',
            requestId: caller.requestId ?? '',
            previousOrigin: isamsOrigin(existing.isamsUrl),
            newOrigin: isamsOrigin(isamsUrl),
            previousUrl: existing.isamsUrl,
            newUrl: isamsUrl,
            keyEntered: plain !== undefined,
          })
        : undefined;
    const movesSchedule = nextRunAt !== null && !keepSchedule;
    try {
      if (movesSchedule) await this.schedules.setNext(tenantId, nextRunAt);
      const keptKey = plain === undefined ? existing?.key : undefined;
      if (!(await this.repo.save(doc, keptKey))) {
        const stored = await this.repo.get(tenantId);
        if (movesSchedule) await this.setScheduleBack(tenantId, schedule, nextRunAt, stored);
        throw ConnectorErrors.CONNECTOR_SETTINGS_CHANGED({
          expectedVersion: expectedVersion || currentVersion || -1,
          currentVersion: settingsVersion(stored),
        });
      }
    } catch (err) {
      if (auditId !== undefined) {
        // A storage error may come after the write landed (its answer lost): the record says what is stored.
        const landed = ConnectorErrors.CONNECTOR_SETTINGS_CHANGED.is(err) ? false : await this.landed(doc);
        if (landed !== undefined)
          await this.audit?.settle(tenantId, auditId, landed ? 'saved' : 'failed').catch(() => undefined);
      }
      throw err;
    }
    if (auditId !== undefined)
      await this.audit?.settle(tenantId, auditId, 'saved').catch((err: unknown) => {
        this.logger.warn({ err, tenantId }, 'address change saved; its audit record stays pending');
      });
    // Sync turned off: the time goes after the settings. The save stands if it cannot: a time beside
    // settings that are off is moved on by the scheduler without a run, and not shown.
    if (!nextRunAt && schedule?.nextRunAt)
      await this.schedules.setNext(tenantId, null).catch((err: unknown) => {
        this.logger.warn(
          { err, tenantId },
          'sync turned off; the schedule keeps its time until the next save',
        );
      });
    this.logger.info(
      {
        tenantId,
        enabled: doc.enabled,
        scheduleMinutes,
        format,
        keyChanged: plain !== undefined,
        timeZone: doc.timeZone,
        notificationEmailCount: doc.notificationEmails?.length ?? 0,
        ...(existing && change !== 'unchanged'
          ? { previousOrigin: isamsOrigin(existing.isamsUrl), newOrigin: isamsOrigin(isamsUrl) }
          : {}),
      },
      change === 'new-host' || change === 'same-host'
        ? 'data-source settings saved; iSAMS address changed'
        : 'data-source settings saved',
    );
    return { ...doc, nextRunAt };
  }

  /**
   * One fetch that reports which datasets the key returns; publishes and stores nothing. The stored
   * key is used only for the stored address's host; another host needs a key in the request
   * (`CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS`). One test per school at a time, a few per replica.
   */
  async testConnection(
    tenantId: string,
    input: { isamsUrl?: string; apiKey?: string; format?: string },
    signal?: AbortSignal,
  ): Promise<TestConnectionResult> {
    const stored = await this.repo.get(tenantId);
    const url = input.isamsUrl
      ? rules.normaliseIsamsUrl(input.isamsUrl, this.opts.allowInsecureLoopback)
      : stored?.isamsUrl;
    const givenKey = input.apiKey ? rules.validateApiKey(input.apiKey) : undefined;
    const format: rules.SourceFormat = input.format
      ? rules.validateFormat(input.format)
      : (stored?.format ?? 'xml');
    if (!url || (givenKey === undefined && !stored)) throw ConnectorErrors.CONNECTOR_SETTINGS_NOT_FOUND();
    if (givenKey === undefined) assertStoredKeyUsableFor(stored!.isamsUrl, url);
    const slot = await this.testSlots?.acquire(tenantId);
    try {
      const apiKey = givenKey ?? (await this.keys.reveal(stored!));
      const signals = [signal, slot?.signal].filter((s): s is AbortSignal => s !== undefined);
      return await this.fetchForTest(
        tenantId,
        { url, apiKey, format },
        stored,
        input,
        AbortSignal.any(signals),
      );
    } finally {
      await slot?.release();
    }
  }

  private async fetchForTest(
    tenantId: string,
    source: { url: string; apiKey: string; format: rules.SourceFormat },
    stored: SchoolSettings | null,
    input: { isamsUrl?: string },
    signal: AbortSignal,
  ): Promise<TestConnectionResult> {
    const { url, apiKey, format } = source;
    const started = Date.now();
    // The stored address is tested the way runs fetch it (whole key or the school's method groups).
    const plan = stored && !input.isamsUrl ? await this.fetchPlans.get(tenantId) : null;
    try {
      const result = await this.probe.probe({ source: { baseUrl: url, apiKey, format }, plan, signal });
      const counts = new Map(result.datasets.map((d) => [d.datasetId, d.recordCount]));
      const datasets = DATASET_IDS.map((id) => ({
        datasetId: id,
        adminName: DATASETS[id].adminName,
        present: counts.has(id),
        recordCount: counts.get(id) ?? 0,
      }));
      return {
        ok: result.absent.length === 0,
        datasets,
        missing: datasets.filter((d) => !d.present).map((d) => d.adminName),
        durationMs: Date.now() - started,
        bytes: result.bytes,
      };
    } catch (err) {
      if (!isIsamsError(err)) throw err;
      return {
        ok: false,
        datasets: [],
        missing: [],
        durationMs: Date.now() - started,
        bytes: 0,
        error: toRunError(err, this.opts.egressIps),
      };
    }
  }

  egressInfo(): {
    egressIps: string[];
    integratorProperties: string[];
    instructions: string;
    datasets: string[];
  } {
    const ips = this.opts.egressIps;
    const instructions = [
      'In iSAMS Control Panel › API Services Manager:',
      `1. Manage API Service Security › IP Restrictions: allow ${ips.length > 0 ? ips.join(', ') : '(no egress IPs configured)'}.`,
      `2. Manage Batch API Keys: create one key with the ${DATASET_ARTICLE_NAMES.length} SchoolCloud datasets ticked on its Batch Methods tab, and set its cache to refresh every hour (not the default 24 hours).`,
      `3. Where iSAMS asks for Integrator Properties, enter "${INTEGRATOR_PROPERTIES[0]}" and "${INTEGRATOR_PROPERTIES[1]}".`,
      '4. Enter the iSAMS web address and the key in SchoolCloud (Settings › Data Input Source) and click Test connection.',
    ].join('\n');
    return {
      egressIps: ips,
      integratorProperties: [...INTEGRATOR_PROPERTIES],
      instructions,
      datasets: [...DATASET_ARTICLE_NAMES],
    };
  }

  /**
   * Re-encrypts every stored key under the current KEK (run after adding a new CONNECTOR_KEK), bound
   * to its school and stored host (legacy keys get bound too). A key saved meanwhile is left alone:
   * it is already current. A key that does not decrypt (its stored address was changed to another
   * host, or its KEK is not configured) is skipped, logged and named: it stays under its old KEK
   * (`left`) until the school enters its key again, so the previous KEK must stay until none is left.
   * Any other failure (the database) stops the rotation; running it again carries on.
   */
  async rotateKeyEncryption(): Promise<KeyRotationResult> {
    let reencrypted = 0;
    let alreadyCurrent = 0;
    const skipped: KeyRotationResult['skipped'] = [];
    for await (const s of this.repo.all()) {
      try {
        if (await this.keys.reencrypt(s)) reencrypted += 1;
        else alreadyCurrent += 1;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== 'CONNECTOR_KEY_DECRYPT_FAILED' && code !== 'CONNECTOR_KEK_UNKNOWN') throw err;
        skipped.push({ tenantId: s.tenantId, kekId: s.key.kekId, code });
        this.logger.warn(
          { tenantId: s.tenantId, code, kekId: s.key.kekId },
          'stored iSAMS key not re-encrypted: it does not decrypt; the school must enter its key again',
        );
      }
    }
    const result = { reencrypted, alreadyCurrent, left: skipped.length, skipped };
    this.logger.info(
      { reencrypted, alreadyCurrent, left: result.left, kekId: this.keys.currentKekId },
      'key encryption rotated',
    );
    return result;
  }
}
