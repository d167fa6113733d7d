import { createLogger } from '@isams-sync/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAdminJwt, startGatewayHarness, startJwtGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness, SigningKey } from '../support/gateway-harness';

interface LogLine {
  msg: string;
  req?: { method?: string; url?: string; host?: string; remoteAddress?: string; remotePort?: number };
}

// What admins search for: people's names and e-mail addresses (personal data), in the query string.
const SEARCHED = ['Amelia', 'Hartley', 'jane.parent', 'example.co.uk', 'Oliver', 'Smith'];

/** A gateway logger at `info` whose lines are kept, as written, in `lines`. */
function capturingLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'gateway',
    level: 'info',
    destination: { write: (line) => lines.push(line) },
  });
  return { lines, logger };
}

describe('request logging (real FerretDB)', () => {
  let h: GatewayHarness;
  let token: string;
  const { lines, logger } = capturingLogger();
  beforeAll(async () => {
    h = await startGatewayHarness({}, { logger });
    token = (await h.issueToken('school-a')).token;
  });
  afterAll(async () => h?.close());

  const logged = () => lines.map((line) => JSON.parse(line) as LogLine);
  const incoming = () => logged().filter((line) => line.msg === 'incoming request');

  it('logs the path and the names of query parameters, never the searched values', async () => {
    lines.length = 0;
    const searches: Array<[string, number]> = [
      ['/api/v1/schools/school-a/roster/pupil?q=Amelia%20Hartley-Brown&pageSize=20', 200],
      ['/api/v1/schools/school-a/roster/contact?q=jane.parent%40example.co.uk', 200],
      ['/api/v1/schools/school-a/roster/contact?q=jane.parent@example.co.uk', 200],
      ['/api/v1/schools/school-a/held-batches/b1?q=Oliver+Smith', 404],
      ['/api/v1/schools/school-a/roster/pupil?q=Amelia&unknown=Hartley', 200],
      ['/api/v1/unknown-route?q=Oliver%20Smith', 404],
    ];
    for (const [url, status] of searches)
      expect((await h.request(token, 'GET', url)).statusCode).toBe(status);

    const text = lines.join('\n').toLowerCase();
    for (const value of SEARCHED) expect(text).not.toContain(value.toLowerCase());
    expect(incoming().map((line) => line.req?.url)).toEqual([
      '/api/v1/schools/school-a/roster/pupil?q=[REDACTED]&pageSize=[REDACTED]',
      '/api/v1/schools/school-a/roster/contact?q=[REDACTED]',
      '/api/v1/schools/school-a/roster/contact?q=[REDACTED]',
      '/api/v1/schools/school-a/held-batches/b1?q=[REDACTED]',
      '/api/v1/schools/school-a/roster/pupil?q=[REDACTED]&unknown=[REDACTED]',
      '/api/v1/unknown-route?q=[REDACTED]',
    ]);
    expect(incoming()[0]!.req).toMatchObject({
      method: 'GET',
      host: expect.any(String),
      remoteAddress: '127.0.0.1',
    });
  });

  it('bounds the logged URL and hides parameter names that are not plain names', async () => {
    lines.length = 0;
    const many = Array.from({ length: 500 }, (_, i) => `p${i}=Hartley`).join('&');
    await h.request(token, 'GET', `/api/v1/schools/school-a/roster/pupil?${many}`);
    await h.request(
      token,
      'GET',
      '/api/v1/schools/school-a/roster/pupil?Amelia%20Hartley&jane.parent@example.co.uk',
    );
    const [long, names] = incoming();
    expect(long!.req!.url!.length).toBeLessThanOrEqual(1_100);
    expect(long!.req!.url).toMatch(/^\/api\/v1\/schools\/school-a\/roster\/pupil\?p0=\[REDACTED\]&/);
    expect(names!.req!.url).toBe(
      '/api/v1/schools/school-a/roster/pupil?[REDACTED]=[REDACTED]&[REDACTED]=[REDACTED]',
    );
    const text = lines.join('\n').toLowerCase();
    for (const value of SEARCHED) expect(text).not.toContain(value.toLowerCase());
  });
});

describe("the admin's identity in the request log (real FerretDB, JWT sign-in)", () => {
  let h: GatewayHarness;
  let signingKey: SigningKey;
  const { lines, logger } = capturingLogger();
  beforeAll(async () => {
    ({ h, signingKey } = await startJwtGatewayHarness({}, { logger }));
  });
  afterAll(async () => h?.close());

  const jwtFor = (sub: string) => signAdminJwt(signingKey, 'school-a', sub);

  it('names a signed-in admin by a pseudonym, never by the subject (a name or an e-mail address)', async () => {
    lines.length = 0;
    for (const sub of ['Zoë Smith', 'Zoë Smith', 'alice.admin@school-a.example']) {
      const res = await h.app.http.inject({
        method: 'GET',
        url: '/api/v1/schools/school-a/sync-runs/unknown-run',
        headers: { authorization: `Bearer ${await jwtFor(sub)}` },
      });
      expect(res.statusCode).toBe(404);
    }
    const text = lines.join('\n');
    for (const part of ['Zoë', 'Smith', 'alice.admin', 'school-a.example']) expect(text).not.toContain(part);
    const actors = lines
      .map((line) => JSON.parse(line) as { actor?: string; msg: string })
      .filter((line) => line.msg === 'request rejected')
      .map((line) => line.actor);
    expect(actors).toHaveLength(3);
    // The same admin is the same pseudonym in every line, another admin another one.
    expect(actors[0]).toMatch(/^jwt:#[0-9a-f]{16}$/);
    expect(actors[1]).toBe(actors[0]);
    expect(actors[2]).toMatch(/^jwt:#[0-9a-f]{16}$/);
    expect(actors[2]).not.toBe(actors[0]);
  });
});
