import { credentials, Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import {
  callMetadata,
  createGrpcClient,
  loadProtoPackage,
  mintServiceToken,
  promisifyUnary,
} from '@isams-sync/grpc';
import type { ConnectorServiceProtoGrpcType } from '@isams-sync/grpc';
import { expectEveryMethodUnauthenticated, testClientIdentity, uniqueName } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorApp } from '../../src/app';
import { connectorTestEnv, startConnector } from '../support/connector-harness';
import type { ConnectorTestEnv } from '../support/connector-harness';

// Issue 15, done-when: a caller without a service identity cannot call any RPC, and a service
// identity for school A cannot act for school B — against the real connector over real sockets.

const pkg = loadProtoPackage<ConnectorServiceProtoGrpcType>(
  'isams_sync/connector/v1/connector_service.proto',
);
const { ConnectorService } = pkg.isams_sync.connector.v1;

function outcome<T>(promise: Promise<T>): Promise<{ code: number; errorCode?: unknown } | 'served'> {
  return promise.then(
    () => 'served' as const,
    (err: { code: number; errorCode?: unknown }) => ({ code: err.code, errorCode: err.errorCode }),
  );
}

describe('connector: service identity', () => {
  let env: ConnectorTestEnv;
  let app: ConnectorApp;
  let address: string;
  const schoolA = uniqueName('school-a');
  const schoolB = uniqueName('school-b');
  beforeAll(async () => {
    env = connectorTestEnv();
    app = await startConnector(env.env({ SCHEDULER_ENABLED: 'false' }));
    address = `127.0.0.1:${app.grpcPort}`;
  });
  afterAll(async () => {
    await app?.stop();
    await env?.dropDatabase();
  });

  it('refuses every RPC of a caller without a service identity, RotateKeyEncryption included', async () => {
    const probed = await expectEveryMethodUnauthenticated(address, ConnectorService.service, schoolA);
    expect(probed).toContain('RotateKeyEncryption');
  });

  it('lets only the operator identity call RotateKeyEncryption, and the operator nothing else', async () => {
    const asGateway = createGrpcClient(ConnectorService, address, {
      identity: testClientIdentity('connector'),
    });
    const asOperator = createGrpcClient(ConnectorService, address, {
      identity: testClientIdentity('connector', 'operator'),
    });
    try {
      expect(await outcome(promisifyUnary(asGateway, 'rotateKeyEncryption')({}, callMetadata({})))).toEqual({
        code: status.PERMISSION_DENIED,
        errorCode: 'GRPC_CALLER_NOT_ALLOWED',
      });
      await expect(promisifyUnary(asOperator, 'rotateKeyEncryption')({}, callMetadata({}))).resolves.toEqual({
        reencrypted: 0,
        alreadyCurrent: 0,
      });
      expect(
        await outcome(promisifyUnary(asOperator, 'getSettings')({}, callMetadata({ tenantId: schoolA }))),
      ).toEqual({ code: status.PERMISSION_DENIED, errorCode: 'GRPC_CALLER_NOT_ALLOWED' });
    } finally {
      asGateway.close();
      asOperator.close();
    }
  });

  it("does not let a token for school A read or change school B's settings", async () => {
    const identity = testClientIdentity('connector');
    const gateway = createGrpcClient(ConnectorService, address, { identity });
    const putSettings = promisifyUnary(gateway, 'putSettings');
    const getSettings = promisifyUnary(gateway, 'getSettings');
    try {
      await putSettings(
        {
          isamsUrl: 'https://b.example.org',
          apiKey: '{BBBBBBBB-0000-0000-0000-000000000002}',
          enabled: false,
        },
        callMetadata({ tenantId: schoolB }),
      );
      // A token minted for school A, sent with school B's tenant header: refused before any handler.
      const forA = new Metadata();
      forA.set('x-tenant-id', schoolB);
      forA.set(
        'authorization',
        `Bearer ${mintServiceToken(identity.keyring, {
          audience: 'connector',
          method: '/isams_sync.connector.v1.ConnectorService/PutSettings',
          tenant: schoolA,
        })}`,
      );
      const bare = new ConnectorService(address, credentials.createInsecure());
      const refused = await new Promise<{ code: number; errorCode: unknown } | 'served'>((resolve) =>
        bare.putSettings(
          { isamsUrl: 'https://evil.example.org', enabled: true },
          forA,
          (err: ServiceError | null) =>
            resolve(err ? { code: err.code, errorCode: err.metadata.get('x-error-code')[0] } : 'served'),
        ),
      );
      bare.close();
      expect(refused).toEqual({ code: status.PERMISSION_DENIED, errorCode: 'GRPC_TENANT_MISMATCH' });
      expect((await getSettings({}, callMetadata({ tenantId: schoolB }))).isamsUrl).toBe(
        'https://b.example.org',
      );
    } finally {
      gateway.close();
    }
  });
});
