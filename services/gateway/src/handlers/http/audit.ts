import { isAppError } from '@isams-sync/errors';
import type { FastifyRequest } from 'fastify';
import type { AuditEntry, AuditLog } from '../../adapters/mongo/audit-log.repository';
import type { CallContext } from '../../domain/principal';

/**
 * Runs `fn` and appends an audit entry either way (succeeded / failed with its code). A failure to
 * write the audit entry after a successful action is logged, not returned: the action happened.
 */
export async function audited<T>(
  auditLog: AuditLog,
  request: FastifyRequest,
  entry: Pick<AuditEntry, 'tenantId' | 'action' | 'actor' | 'target'>,
  fn: () => Promise<T>,
): Promise<T> {
  const base = { ...entry, requestId: request.id };
  const write = async (outcome: AuditEntry['outcome'], errorCode?: string) => {
    try {
      await auditLog.record({ ...base, outcome, ...(errorCode === undefined ? {} : { errorCode }) });
    } catch (err) {
      request.log.error({ err, action: entry.action }, 'audit entry not written');
    }
  };
  try {
    const result = await fn();
    await write('succeeded');
    return result;
  } catch (err) {
    await write('failed', isAppError(err) ? err.code : 'INTERNAL');
    throw err;
  }
}

/** {@link audited} for an action on the caller's own school: its tenant and actor come from `ctx`. */
export function auditedAs<T>(
  auditLog: AuditLog,
  request: FastifyRequest,
  ctx: CallContext,
  action: string,
  target: AuditEntry['target'],
  fn: () => Promise<T>,
): Promise<T> {
  return audited(auditLog, request, { tenantId: ctx.tenantId, actor: ctx.actor, action, target }, fn);
}

/** The admin's comment on a decision as an audit target's `comment` (≤ 1000 characters); none when empty. */
export function auditComment(comment: string): { comment?: string } {
  return comment === '' ? {} : { comment };
}
