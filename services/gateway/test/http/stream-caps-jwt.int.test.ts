import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRun } from '../support/fake-connector';
import { signAdminJwt, startJwtGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness, SigningKey } from '../support/gateway-harness';

/** The per-credential stream cap is the credential's: two schools' admins with the same JWT `sub` share nothing. */
describe('live-progress stream caps with JWTs (real FerretDB, fake connector)', () => {
  let h: GatewayHarness;
  let key: SigningKey;
  beforeAll(async () => {
    ({ h, signingKey: key } = await startJwtGatewayHarness({
      GATEWAY_SSE_MAX_PER_CREDENTIAL: '2',
      GATEWAY_SSE_MAX_PER_SCHOOL: '20',
      GATEWAY_SSE_MAX_STREAMS: '50',
    }));
    await h.app.start();
    h.connector.watchForever = true;
    h.connector.runs.set('school-a', [sampleRun({ syncRunId: 'run-a', terminal: false })]);
    h.connector.runs.set('school-b', [sampleRun({ syncRunId: 'run-b', terminal: false })]);
  });
  afterAll(async () => h?.close());

  const open = (tenant: string, run: string, credential: string) =>
    fetch(`http://127.0.0.1:${h.app.httpPort}/api/v1/schools/${tenant}/sync-runs/${run}/events`, {
      headers: { authorization: `Bearer ${credential}` },
    });

  it('school A’s admin using up their streams leaves school B’s admin of the same `sub` theirs', async () => {
    const jwtA = await signAdminJwt(key, 'school-a', 'admin');
    const jwtB = await signAdminJwt(key, 'school-b', 'admin');
    const a = [await open('school-a', 'run-a', jwtA), await open('school-a', 'run-a', jwtA)];
    const aRefused = await open('school-a', 'run-a', jwtA);
    const b = await open('school-b', 'run-b', jwtB);
    const statuses = [...a, aRefused, b].map((r) => r.status);
    for (const r of [...a, b]) if (r.status === 200) await r.body?.cancel();
    expect(statuses).toEqual([200, 200, 429, 200]);
    expect(((await aRefused.json()) as { error: { details: unknown } }).error.details).toEqual({
      limit: 'credential',
    });
  });
});
