import { isAppError } from '@isams-sync/errors';
import { boundText, isIsamsError } from '@isams-sync/isams';
import { CONNECTOR_ADMIN_ACTIONS, ConnectorErrors } from '../domain/connector-errors';
import type { RunError } from '../domain/sync-run';

/** Thrown inside a run when its lease was lost or the process is stopping. */
export class RunInterrupted extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RunInterrupted';
  }
}

/**
 * The admin-facing error of a failed run (codes are stable; messages never contain the key). It is
 * stored, sent in events and API answers: its texts are bounded (they may quote the iSAMS server).
 * `egressIps` (EGRESS_IPS) are named in the admin action when iSAMS refused our address.
 */
export function toRunError(err: unknown, egressIps: readonly string[] = []): RunError {
  if (isIsamsError(err)) {
    const adminAction =
      err.code === 'ISAMS_IP_NOT_ALLOWED' && egressIps.length > 0
        ? `${err.adminAction.replace(/\.$/, '')}: ${egressIps.join(', ')}.`
        : err.adminAction;
    return {
      code: err.code,
      message: boundText(err.message, 2000),
      adminAction: boundText(adminAction, 2000),
      transient: err.transient,
    };
  }
  if (isAppError(err) && err.code === 'CONNECTOR_SPOOL_FULL') return ownRunError(err.code, err.message, true);
  if (err instanceof RunInterrupted || (err instanceof Error && err.name === 'AbortError')) {
    return ownRunError(
      'CONNECTOR_RUN_INTERRUPTED',
      ConnectorErrors.CONNECTOR_RUN_INTERRUPTED().message,
      true,
    );
  }
  if (isAppError(err) && err.code.startsWith('KAFKA_')) {
    return ownRunError('CONNECTOR_PUBLISH_FAILED', ConnectorErrors.CONNECTOR_PUBLISH_FAILED().message, true);
  }
  if (
    isAppError(err) &&
    (err.code === 'CONNECTOR_KEY_DECRYPT_FAILED' || err.code === 'CONNECTOR_KEK_UNKNOWN')
  ) {
    return ownRunError(err.code, err.message, false);
  }
  return ownRunError('CONNECTOR_RUN_FAILED', ConnectorErrors.CONNECTOR_RUN_FAILED().message, true);
}

/**
 * Why a run ended `cancelled` without fetching: its school's sync was paused after it was requested.
 * Not transient: nothing retries it; the next run comes once sync is turned on again.
 */
export function syncPausedRunError(): RunError {
  return ownRunError(
    'CONNECTOR_SYNC_DISABLED',
    'Syncing was paused for this school after this run was requested, so it was cancelled before fetching anything.',
    false,
  );
}

/** The run error of one of the connector's own errors: its admin action is in CONNECTOR_ADMIN_ACTIONS. */
function ownRunError(
  code: keyof typeof CONNECTOR_ADMIN_ACTIONS,
  message: string,
  transient: boolean,
): RunError {
  return { code, message, adminAction: CONNECTOR_ADMIN_ACTIONS[code], transient };
}
