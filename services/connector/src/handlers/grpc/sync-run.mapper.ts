import { DATASETS } from '@isams-sync/isams';
import type { connectorV1 } from '@isams-sync/grpc';
import type { RunRecord } from '../../domain/run-record';
import type { FetchPlan, RunFetch } from '../../domain/method-groups';
import { DEFAULT_TIME_ZONE } from '../../domain/settings-rules';
import { settingsVersion } from '../../domain/school-settings';
import type { SettingsView } from '../../use-cases/settings-service';

const iso = (d: Date | undefined | null): string => (d ? d.toISOString() : '');

/** A stored fetch plan (settings) or a run's fetch (with each group's status and requests). */
export function toFetchPlanProto(f: FetchPlan | RunFetch): connectorV1.FetchPlan {
  const groups =
    'groups' in f
      ? f.groups.map((g) =>
          Array.isArray(g)
            ? { datasetIds: g }
            : { datasetIds: g.datasets, status: g.status, requests: g.requests },
        )
      : [];
  return {
    mode: f.mode,
    groups,
    contactsMethod: f.contactsMethod ?? '',
    switchedBecause: f.switchedBecause ?? '',
    switchedAt: iso(f.switchedAt),
  };
}

export function toSettingsProto(
  s: SettingsView | null,
  plan: FetchPlan | null = null,
): connectorV1.DataSourceSettings {
  if (!s) return { configured: false };
  return {
    configured: true,
    isamsUrl: s.isamsUrl,
    keyLast4: s.keyLast4,
    format: s.format,
    scheduleMinutes: s.scheduleMinutes,
    enabled: s.enabled,
    nextRunAt: iso(s.nextRunAt),
    updatedAt: iso(s.updatedAt),
    updatedBy: s.updatedBy,
    keyUpdatedAt: iso(s.keyUpdatedAt),
    fetchPlan: toFetchPlanProto(plan ?? { mode: 'whole', groups: [] }),
    timeZone: s.timeZone ?? DEFAULT_TIME_ZONE,
    notificationEmails: s.notificationEmails ?? [],
    version: settingsVersion(s),
  };
}

export function toRunProto(r: RunRecord): connectorV1.SyncRun {
  return {
    syncRunId: r._id,
    status: r.status,
    trigger: { kind: r.trigger.kind, actor: r.trigger.actor ?? '' },
    dryRun: r.dryRun,
    requestedAt: iso(r.requestedAt),
    fetchStartedAt: iso(r.fetchStartedAt),
    fetchedAt: iso(r.fetchedAt),
    publishedAt: iso(r.publishedAt),
    finishedAt: iso(r.finishedAt),
    fetchDurationMs: String(r.fetchDurationMs ?? 0),
    publishDurationMs: String(r.publishDurationMs ?? 0),
    progress: {
      ...r.progress,
      recordsFetched: String(r.progress.recordsFetched),
      bytesFetched: String(r.progress.bytesFetched),
    },
    datasets: r.datasets.map((d) => ({
      datasetId: d.datasetId,
      adminName: DATASETS[d.datasetId].adminName,
      present: d.present,
      recordCount: String(d.recordCount),
      bytes: String(d.bytes),
      chunkCount: d.chunkCount,
      fingerprint: d.fingerprint,
    })),
    absentDatasets: r.absent.map((d) => DATASETS[d].adminName),
    ...(r.error
      ? {
          error: {
            code: r.error.code,
            message: r.error.message,
            adminAction: r.error.adminAction ?? '',
            transient: r.error.transient,
          },
        }
      : {}),
    rosterStatus: r.rosterStatus ?? '',
    rosterCountsJson: r.rosterCounts ? JSON.stringify(r.rosterCounts) : '',
    heldBatchId: r.heldBatchId ?? '',
    updatedAt: iso(r.updatedAt),
    ...(r.fetch ? { fetch: toFetchPlanProto(r.fetch) } : {}),
  };
}
