import { DATASETS, DATASET_ARTICLE_NAMES, DATASET_IDS, isIsamsError } from '@isams-sync/isams';
import type { Logger } from '@isams-sync/logger';
import { ConnectorErrors } from '../domain/connector-errors';
import { firstScheduledRun } from '../domain/schedule';
import {
  DEFAULT_TIME_ZONE,
  keyLast4,
  normaliseIsamsUrl,
  validateApiKey,
  validateFormat,
  validateNotificationEmails,
  validateScheduleMinutes,
  validateTimeZone,
} from '../domain/settings-rules';
import type { SourceFormat } from '../domain/settings-rules';
import type { KeyCipher } from '../adapters/crypto/key-cipher';
import { fetchToSpool } from '../adapters/isams/batch-source';
import type { IsamsClientSettings } from '../adapters/isams/batch-source';
import type { FetchPlansRepository } from '../adapters/mongo/fetch-plans-repository';
import type { SettingsDocument, SettingsRepository } from '../adapters/mongo/settings-repository';
import type { FetchPlan } from '../domain/method-groups';
import { toRunError } from './run-errors';
import type { RunError } from '../domain/sync-run';

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
  isams: IsamsClientSettings;
  contactsMethods: readonly string[];
}

/** Data-source settings, test connection, egress info and KEK rotation. */
export class SettingsService {
  constructor(
    private readonly repo: SettingsRepository,
    private readonly cipher: KeyCipher,
    private readonly opts: SettingsServiceOptions,
    private readonly logger: Logger,
    private readonly fetchPlans: FetchPlansRepository,
  ) {}

  get(tenantId: string): Promise<SettingsDocument | null> {
    return this.repo.get(tenantId);
  }

  /** How the school is fetched (whole key or method groups); null until a run needed groups. */
  fetchPlan(tenantId: string): Promise<FetchPlan | null> {
    return this.fetchPlans.get(tenantId);
  }

  async put(tenantId: string, input: PutSettingsInput, actor: string | undefined): Promise<SettingsDocument> {
    const isamsUrl = normaliseIsamsUrl(input.isamsUrl, this.opts.allowInsecureLoopback);
    const format = validateFormat(input.format);
    const scheduleMinutes = validateScheduleMinutes(input.scheduleMinutes);
    const givenTimeZone = input.timeZone ? validateTimeZone(input.timeZone) : undefined;
    const givenEmails = input.notificationEmails
      ? validateNotificationEmails(input.notificationEmails)
      : undefined;
    const existing = await this.repo.get(tenantId);
    const now = new Date();
    let key = existing?.key;
    let last4 = existing?.keyLast4;
    let keyUpdatedAt = existing?.keyUpdatedAt;
    if (input.apiKey) {
      const plain = validateApiKey(input.apiKey);
      key = this.cipher.encrypt(tenantId, plain);
      last4 = keyLast4(plain);
      keyUpdatedAt = now;
    }
    if (!key || !last4 || !keyUpdatedAt) throw ConnectorErrors.CONNECTOR_KEY_REQUIRED();
    const keepSchedule =
      existing?.enabled &&
      input.enabled &&
      existing.nextRunAt &&
      existing.scheduleMinutes === scheduleMinutes;
    const doc: SettingsDocument = {
      _id: tenantId,
      tenantId,
      isamsUrl,
      format,
      scheduleMinutes,
      enabled: input.enabled,
      key,
      keyLast4: last4,
      keyUpdatedAt,
      nextRunAt: input.enabled
        ? keepSchedule
          ? existing.nextRunAt
          : firstScheduledRun(tenantId, now, this.opts.scheduleJitterMs)
        : null,
      consecutiveFailures: existing?.consecutiveFailures ?? 0,
      timeZone: givenTimeZone ?? existing?.timeZone ?? DEFAULT_TIME_ZONE,
      notificationEmails: givenEmails ?? existing?.notificationEmails ?? [],
      updatedAt: now,
      updatedBy: actor ?? '',
    };
    await this.repo.put(doc);
    this.logger.info(
      {
        tenantId,
        enabled: doc.enabled,
        scheduleMinutes,
        format,
        timeZone: doc.timeZone,
        notificationEmailCount: doc.notificationEmails?.length ?? 0,
        keyChanged: Boolean(input.apiKey),
      },
      'data-source settings saved',
    );
    return doc;
  }

  /** One fetch that reports which datasets the key returns; publishes and stores nothing. */
  async testConnection(
    tenantId: string,
    input: { isamsUrl?: string; apiKey?: string; format?: string },
    signal?: AbortSignal,
  ): Promise<TestConnectionResult> {
    const stored = await this.repo.get(tenantId);
    const url = input.isamsUrl
      ? normaliseIsamsUrl(input.isamsUrl, this.opts.allowInsecureLoopback)
      : stored?.isamsUrl;
    const apiKey = input.apiKey
      ? validateApiKey(input.apiKey)
      : stored
        ? this.cipher.decrypt(tenantId, stored.key)
        : undefined;
    const format: SourceFormat = input.format ? validateFormat(input.format) : (stored?.format ?? 'xml');
    if (!url || !apiKey) throw ConnectorErrors.CONNECTOR_SETTINGS_NOT_FOUND();
    const started = Date.now();
    // The stored address is tested the way runs fetch it (whole key or the school's method groups).
    const plan = stored && !input.isamsUrl ? await this.fetchPlans.get(tenantId) : null;
    try {
      const result = await fetchToSpool({
        source: { baseUrl: url, apiKey, format },
        client: this.opts.isams,
        maxChunkRecordBytes: Number.MAX_SAFE_INTEGER,
        plan,
        contactsMethods: this.opts.contactsMethods,
        ...(signal ? { signal } : {}),
      });
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

  /** Re-encrypts every stored key under the current KEK (run after adding a new CONNECTOR_KEK). */
  async rotateKeyEncryption(): Promise<{ reencrypted: number; alreadyCurrent: number }> {
    let reencrypted = 0;
    let alreadyCurrent = 0;
    for await (const s of this.repo.all()) {
      if (s.key.kekId === this.cipher.currentKekId) {
        alreadyCurrent += 1;
        continue;
      }
      const plain = this.cipher.decrypt(s.tenantId, s.key);
      await this.repo.setKey(s.tenantId, this.cipher.encrypt(s.tenantId, plain));
      reencrypted += 1;
    }
    this.logger.info(
      { reencrypted, alreadyCurrent, kekId: this.cipher.currentKekId },
      'key encryption rotated',
    );
    return { reencrypted, alreadyCurrent };
  }
}
