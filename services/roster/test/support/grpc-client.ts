import { callMetadata, createGrpcClient, loadProtoPackage, promisifyUnary } from '@isams-sync/grpc';
import type { RosterServiceProtoGrpcType } from '@isams-sync/grpc';
import { testClientIdentity } from '@isams-sync/testing';

/**
 * A RosterService client for tests, calling as `as` (default the gateway) with a deadline of
 * `deadlineMs` per call: `call('listEntities')(request, tenantId, actor?)`.
 */
export function rosterClient(port: number, as = 'gateway', deadlineMs = 60_000) {
  const pkg = loadProtoPackage<RosterServiceProtoGrpcType>('isams_sync/roster/v1/roster_service.proto');
  const client = createGrpcClient(pkg.isams_sync.roster.v1.RosterService, `127.0.0.1:${port}`, {
    identity: testClientIdentity('roster', as),
    deadlineMs,
  });
  const call =
    <
      K extends
        | 'listEntities'
        | 'getEntity'
        | 'getRun'
        | 'listRunChanges'
        | 'listRunFindings'
        | 'listHeldBatches'
        | 'getHeldBatch'
        | 'approveHeldBatch'
        | 'discardHeldBatch'
        | 'dryRunSnapshot'
        | 'getRemovalThresholds'
        | 'setRemovalThresholds'
        | 'previewRunUndo'
        | 'undoRun',
    >(
      method: K,
    ) =>
    (
      request: Parameters<ReturnType<typeof promisifyUnary<typeof client, K>>>[0],
      tenantId: string,
      actor?: string,
    ) =>
      promisifyUnary(client, method)(
        request as never,
        callMetadata({ tenantId, ...(actor === undefined ? {} : { actor }) }),
      ) as ReturnType<ReturnType<typeof promisifyUnary<typeof client, K>>>;
  return { call, close: () => client.close() };
}
