import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../../../..');

describe('tokens CLI (real FerretDB)', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness();
  });
  afterAll(async () => h?.close());

  const cli = (...args: string[]) =>
    run(resolve(repoRoot, 'node_modules/.bin/tsx'), ['services/gateway/src/cli/tokens.ts', ...args], {
      cwd: repoRoot,
      env: {
        ...process.env,
        MONGO_URL: h.db.url,
        MONGO_DB: h.db.name,
        GATEWAY_TOKEN_PEPPER: 'pepper-for-tests-0123456789abcdef0123',
      },
    });

  it('issues a token the gateway accepts, lists it without the secret, and revokes it', async () => {
    const issued = JSON.parse(
      (await cli('issue', '--tenant', 'school-cli', '--label', 'head of data', '--by', 'ops-1', '--json'))
        .stdout,
    );
    expect(issued).toMatchObject({ tenantId: 'school-cli', label: 'head of data', createdBy: 'ops-1' });
    const me = await h.app.http.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${issued.token}` },
    });
    expect(me.json().schoolId).toBe('school-cli');

    const listed = await cli('list', '--tenant', 'school-cli', '--json');
    expect(JSON.parse(listed.stdout).map((t: { tokenId: string }) => t.tokenId)).toEqual([issued.tokenId]);
    expect(listed.stdout).not.toContain(issued.token);

    const revoked = JSON.parse((await cli('revoke', '--id', issued.tokenId, '--json')).stdout);
    expect(revoked.revokedAt).not.toBeNull();
    const after = await h.app.http.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${issued.token}` },
    });
    expect(after.statusCode).toBe(401);
  });

  it('exits 2 with usage on a bad invocation and 1 for an unknown token id', async () => {
    await expect(cli('issue', '--label', 'x')).rejects.toMatchObject({ code: 2 });
    await expect(cli('revoke', '--id', '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 1,
    });
  });
});
