import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll } from 'vitest';
import type { Logger } from '@isams-sync/logger';
import { createTestDatabase, testServiceIdentityDir } from '@isams-sync/testing';
import type { TestDatabase } from '@isams-sync/testing';
import type { GatewayApp } from '../../src/app';
import { createGatewayApp } from '../../src/app';
import { loadGatewayConfig } from '../../src/config';
import { createFakeConnector } from './fake-connector';
import { createFakeRosterBookings } from './fake-roster-bookings';

export const OPERATOR_TOKEN = 'operator-token-for-tests-0123456789abcdef';

/** A gateway on a fresh FerretDB database with a fake connector, driven through `inject()`. */
export interface GatewayHarness {
  app: GatewayApp;
  db: TestDatabase;
  connector: ReturnType<typeof createFakeConnector>;
  upstream: ReturnType<typeof createFakeRosterBookings>;
  /** Issues a school admin token through the operator endpoint. */
  issueToken(tenantId: string, label?: string): Promise<{ token: string; tokenId: string }>;
  /** A request to the public API with `token` as the admin's bearer credential (JSON body if given). */
  request(token: string, method: AdminMethod, url: string, payload?: object): Promise<LightMyRequestResponse>;
  /**
   * A request to the operator listener with the operator token as bearer (or `credential`; `null`:
   * no credential at all), JSON body if given.
   */
  operator(
    method: AdminMethod,
    url: string,
    payload?: object,
    credential?: string | null,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export type AdminMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';
type LightMyRequestResponse = Awaited<ReturnType<GatewayApp['http']['inject']>>;

/** A private key of the test identity provider (ES256). */
export type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/**
 * A gateway that also takes JWTs of one identity provider: its ES256 key `k1`, issuer
 * `https://id.example`, audience `isams-sync` (plus `env`); returned with the provider's private key.
 */
export async function startJwtGatewayHarness(
  env: Record<string, string> = {},
  options: GatewayHarnessOptions = {},
): Promise<{ h: GatewayHarness; signingKey: SigningKey }> {
  const pair = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const h = await startGatewayHarness(
    {
      GATEWAY_JWT_PUBLIC_KEYS: JSON.stringify({ keys: [jwk] }),
      GATEWAY_JWT_ISSUER: 'https://id.example',
      GATEWAY_JWT_AUDIENCE: 'isams-sync',
      ...env,
    },
    options,
  );
  return { h, signingKey: pair.privateKey };
}

/** A JWT of the {@link startJwtGatewayHarness} provider for `sub`, an admin of `tenantId`, valid 5 minutes. */
export function signAdminJwt(signingKey: SigningKey, tenantId: string, sub: string): Promise<string> {
  return new SignJWT({ tenantId })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer('https://id.example')
    .setAudience('isams-sync')
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(signingKey);
}

/** Options of {@link startGatewayHarness} besides the environment. */
export interface GatewayHarnessOptions {
  /** Where the gateway logs (default: nowhere, `LOG_LEVEL=silent`). */
  logger?: Logger;
}

/** The harness's gateway configuration on `db` (fake upstreams, test identities, every port 0), with `env` over it. */
export function gatewayTestConfig(db: Pick<TestDatabase, 'url' | 'name'>, env: Record<string, string> = {}) {
  return loadGatewayConfig({
    MONGO_URL: db.url,
    MONGO_DB: db.name,
    HTTP_PORT: '0',
    GATEWAY_OPERATOR_PORT: '0',
    OPS_PORT: '0',
    LOG_LEVEL: 'silent',
    CONNECTOR_GRPC_ADDRESS: '127.0.0.1:1',
    ROSTER_GRPC_ADDRESS: '127.0.0.1:1',
    BOOKINGS_GRPC_ADDRESS: '127.0.0.1:1',
    GRPC_IDENTITY_DIR: testServiceIdentityDir(),
    GATEWAY_TOKEN_PEPPER: 'pepper-for-tests-0123456789abcdef0123',
    GATEWAY_OPERATOR_TOKEN: OPERATOR_TOKEN,
    ...env,
  });
}

export async function startGatewayHarness(
  env: Record<string, string> = {},
  options: GatewayHarnessOptions = {},
): Promise<GatewayHarness> {
  const db = await createTestDatabase('gw');
  const config = gatewayTestConfig(db, env);
  const connector = createFakeConnector();
  const upstream = createFakeRosterBookings();
  const app = await createGatewayApp(config, {
    connector,
    roster: upstream.roster,
    bookings: upstream.bookings,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  // The start waits for the database and ensures its indexes (the listeners bind port 0).
  await app.start();
  const operator: GatewayHarness['operator'] = (method, url, payload, credential = OPERATOR_TOKEN) =>
    app.operatorHttp!.inject({
      method,
      url,
      ...(credential === null ? {} : { headers: { authorization: `Bearer ${credential}` } }),
      ...(payload === undefined ? {} : { payload }),
    });
  return {
    app,
    db,
    connector,
    upstream,
    async issueToken(tenantId, label = 'test') {
      const res = await operator('POST', '/api/v1/operator/tokens', { tenantId, label });
      if (res.statusCode !== 201) throw new Error(`issue failed: ${res.statusCode} ${res.body}`);
      const body = res.json<{ token: string; tokenId: string }>();
      return { token: body.token, tokenId: body.tokenId };
    },
    request: (token, method, url, payload) =>
      app.http.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload === undefined ? {} : { payload }),
      }),
    operator,
    async close() {
      await app.stop();
      await db.drop();
    },
  };
}

/** What {@link useGatewayHarness} starts for its describe block; filled in before the block's first test. */
export interface GatewaySuite {
  h: GatewayHarness;
  /** A school admin token of the suite's school. */
  token: string;
}

/**
 * Registers the `beforeAll`/`afterAll` of the calling describe block: a {@link GatewayHarness} and an
 * admin token of `tenantId`, closed (its database dropped) after the block.
 */
export function useGatewayHarness(tenantId: string): GatewaySuite {
  const suite = {} as GatewaySuite;
  beforeAll(async () => {
    suite.h = await startGatewayHarness();
    suite.token = (await suite.h.issueToken(tenantId)).token;
  });
  afterAll(async () => suite.h?.close());
  return suite;
}
