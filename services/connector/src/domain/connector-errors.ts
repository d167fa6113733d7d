import { defineErrors } from '@isams-sync/errors';

/** The connector's error catalogue (stable codes `CONNECTOR_*`). */
export const ConnectorErrors = defineErrors({
  CONNECTOR_INVALID_ARGUMENT: {
    kind: 'invalid_argument',
    message: (d: { field: string; reason: string }) => `${d.field}: ${d.reason}`,
  },
  CONNECTOR_SETTINGS_NOT_FOUND: {
    kind: 'failed_precondition',
    message:
      'The school has no iSAMS data-source settings yet; save the iSAMS address and Batch API key first.',
  },
  CONNECTOR_SETTINGS_CHANGED: {
    kind: 'failed_precondition',
    message: (d: { expectedVersion: number; currentVersion: number }) =>
      `The settings were changed since they were loaded (${
        d.expectedVersion < 0 ? 'none were stored then' : `version ${d.expectedVersion}`
      }, now version ${d.currentVersion}: another admin or another tab saved them); nothing was saved — reload the settings and make your change again.`,
  },
  CONNECTOR_KEY_REQUIRED: {
    kind: 'invalid_argument',
    message: 'A Batch API key is required the first time the settings are saved.',
  },
  CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS: {
    kind: 'invalid_argument',
    message:
      'Changing the iSAMS address requires entering the API key again: the stored key is only ever sent to the address it was entered for.',
  },
  CONNECTOR_TEST_ALREADY_RUNNING: {
    kind: 'aborted',
    message: 'A connection test is already running for this school; wait for it to finish.',
  },
  CONNECTOR_TEST_CAPACITY_EXHAUSTED: {
    kind: 'resource_exhausted',
    message: (d: { limit: number; retryAfterSeconds: number }) =>
      `Too many connection tests are running at once (at most ${d.limit}); try again in ${d.retryAfterSeconds} s.`,
  },
  CONNECTOR_SYNC_DISABLED: {
    kind: 'failed_precondition',
    message: 'Syncing is paused for this school; enable it in the data-source settings first.',
  },
  CONNECTOR_RUN_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { syncRunId: string }) => `Sync run ${d.syncRunId} not found`,
  },
  CONNECTOR_WATCH_CAPACITY_EXHAUSTED: {
    kind: 'resource_exhausted',
    message: (d: { limit: number }) =>
      `Too many live views of sync runs are open for this school on this connector (at most ${d.limit}); close one and try again.`,
  },
  // A live view (WatchSyncRun) never ends by itself: a replica that stops ends each of its own at
  // once with this, and refuses one asked for while it stops; the caller opens it again elsewhere.
  CONNECTOR_SHUTTING_DOWN: {
    kind: 'unavailable',
    message:
      'This connector replica is stopping; open the live view of the run again (another replica serves it) or poll the run.',
  },
  CONNECTOR_RUN_NOT_CANCELLABLE: {
    kind: 'failed_precondition',
    message: (d: { syncRunId: string; status: string }) =>
      `Sync run ${d.syncRunId} is ${d.status}; only a requested run that has not started can be cancelled.`,
  },
  CONNECTOR_TRIGGER_RATE_LIMITED: {
    kind: 'resource_exhausted',
    message: (d: { limit: number; windowMinutes: number }) =>
      `At most ${d.limit} manual syncs per ${d.windowMinutes} minutes; try again later (iSAMS refreshes its data about once an hour anyway).`,
  },
  // Not `internal`: a key that does not decrypt for the stored address (it was entered for another
  // host, or tampered with) is fixed by the admin entering the key again.
  CONNECTOR_KEY_DECRYPT_FAILED: {
    kind: 'failed_precondition',
    message: (d: { kekId: string }) =>
      `The stored Batch API key could not be decrypted for this school and iSAMS address (key-encryption key ${d.kekId}); enter the key again.`,
  },
  // Not a success: the previous KEK still decrypts these keys, so dropping it would lose them.
  CONNECTOR_KEYS_LEFT_UNROTATED: {
    kind: 'failed_precondition',
    message: (d: { reencrypted: number; alreadyCurrent: number; left: number; skippedTenantIds: string[] }) =>
      `Re-encrypted ${d.reencrypted} key(s), ${d.alreadyCurrent} already current; ${d.left} left under an older key-encryption key: the stored key of ${d.left === 1 ? 'this school' : 'these schools'} does not decrypt: ${d.skippedTenantIds.join(', ')}${d.left > d.skippedTenantIds.length ? ` and ${d.left - d.skippedTenantIds.length} more (see the connector's log)` : ''}. Ask each to enter its Batch API key again (Settings › Data Input Source), then rotate again; keep CONNECTOR_KEK_PREVIOUS until it reports 0 left.`,
  },
  CONNECTOR_KEK_UNKNOWN: {
    kind: 'internal',
    message: (d: { kekId: string }) =>
      `Key-encryption key ${d.kekId} is not configured (CONNECTOR_KEK / CONNECTOR_KEK_PREVIOUS).`,
  },
  CONNECTOR_RUN_INTERRUPTED: {
    kind: 'unavailable',
    message: 'The sync run was interrupted (the connector stopped while running it). Nothing was applied.',
  },
  CONNECTOR_PUBLISH_FAILED: {
    kind: 'unavailable',
    message: 'The fetched data could not be published to the event stream. Nothing was applied.',
  },
  CONNECTOR_SPOOL_FULL: {
    kind: 'resource_exhausted',
    message: (d: { quotaBytes: number }) =>
      `The connector's disk space for runs in progress (${d.quotaBytes} bytes, shared by the runs of one connector) is full, so this run stopped; it is tried again later. Nothing was applied.`,
  },
  CONNECTOR_RUN_FAILED: {
    kind: 'internal',
    message: 'The sync run failed unexpectedly. Nothing was applied.',
  },
  // Never shown to an admin: the roster's report of a run whose `published` step is not recorded
  // yet is kept, and its event handled again (the consumer backs off) until the run takes it.
  CONNECTOR_REPORT_BEFORE_PUBLISHED: {
    kind: 'unavailable',
    message: (d: { syncRunId: string }) =>
      `The roster reported run ${d.syncRunId} before the connector recorded it published; the report is kept and handled again.`,
  },
  CONNECTOR_NOTIFICATION_NOT_SENT: {
    kind: 'unavailable',
    message: (d: { reason: string }) =>
      `The notification e-mail was not accepted by the SMTP server (${d.reason}); it is tried again at the next check.`,
  },
  // Logged only: the message was handed over, then the server's reply to it did not come (a
  // time-out or the connection lost). It may well have been delivered, so it is not sent again.
  CONNECTOR_NOTIFICATION_UNCONFIRMED: {
    kind: 'unavailable',
    message: (d: { reason: string }) =>
      `The notification e-mail was handed to the SMTP server but not confirmed (${d.reason}); it may have been delivered, so it is not sent again today.`,
  },
});

/** What the admin should do for connector-side failures (iSAMS errors carry their own). */
export const CONNECTOR_ADMIN_ACTIONS = {
  CONNECTOR_RUN_INTERRUPTED: 'Run the sync again (it also runs again at the next scheduled time).',
  CONNECTOR_PUBLISH_FAILED: 'Run the sync again later; if it keeps failing, contact SchoolCloud support.',
  CONNECTOR_RUN_FAILED: 'Run the sync again; if it keeps failing, contact SchoolCloud support.',
  CONNECTOR_SPOOL_FULL:
    'Nothing to do: the sync runs again automatically. If it keeps happening, contact SchoolCloud support (the connector needs more spool space for this school).',
  CONNECTOR_KEY_DECRYPT_FAILED: 'Enter the Batch API key again in Settings › Data Input Source.',
  CONNECTOR_KEK_UNKNOWN: 'Enter the Batch API key again in Settings › Data Input Source.',
  CONNECTOR_SYNC_DISABLED:
    'Nothing to do if the pause was meant; to sync, turn syncing on in Settings › Data Input Source (a run then follows at the next scheduled time, or run the sync now).',
} as const;
