/**
 * Hostile documents and resources (issue #15), end to end through the connector on the real Kafka
 * and database: a depth, size or count bomb, a 5 MB error body and a school larger than the spool
 * quota each end the run failed with their own code, with bounded text, nothing published and no
 * spool file left; a spool left behind by a crash is removed at start-up.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedSchoolDocument } from '@isams-sync/isams/test-support';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorApp } from '../../src/app';
import {
  connectorClient,
  connectorTestEnv,
  expectUncommitted,
  readAll,
  readRun,
  startConnector,
} from '../support/connector-harness';
import type { ConnectorClient, ConnectorTestEnv } from '../support/connector-harness';
import { startOddIsamsHost, wholeDocument } from '../support/odd-isams-host';
import type { OddBehaviour, OddIsamsHost } from '../support/odd-isams-host';

const KEY = '{D0D0D0D0-1111-4222-8333-444455556666}';
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const xml = (rows: string) =>
  Buffer.from(
    `<?xml version="1.0" encoding="utf-8"?>\n<iSAMS><PupilManager><CurrentPupils>${rows}</CurrentPupils></PupilManager></iSAMS>`,
  );

/**
 * A 500 answer of 5 MB: a `<Message>` of ~240 KB (long id, title and description with control
 * characters; it fits the client's 256 KiB error-body limit, so it is classified), then 5 MB of
 * padding the client must not read.
 */
const hugeErrorBody: OddBehaviour = (socket: Socket) => {
  const body = Buffer.from(
    `<Message><MessageId>Odd\u009b${'I'.repeat(20_000)}</MessageId><Title>\u009b2J\t${'T'.repeat(20_000)}</Title>` +
      `<Description>line1\r\nline2${'D'.repeat(200_000)}</Description></Message>${' '.repeat(5 * 1024 * 1024)}`,
  );
  socket.write(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n`,
        'latin1',
      ),
      body,
    ]),
  );
};

describe('connector: hostile documents end as clear run errors and change nothing', () => {
  let env: ConnectorTestEnv;
  let app: ConnectorApp;
  let client: ConnectorClient;
  const hosts: OddIsamsHost[] = [];
  const failedRunIds: string[] = [];

  beforeAll(async () => {
    env = connectorTestEnv();
    app = await startConnector(
      env.env({ SCHEDULER_ENABLED: 'false', ISAMS_MAX_RECORDS_PER_DATASET: '5000' }),
    );
    client = connectorClient(app.grpcPort);
  });
  afterAll(async () => {
    client?.close();
    await app?.stop();
    for (const h of hosts) await h.close();
    await env?.dropDatabase();
  });

  async function runAgainst(tenant: string, behaviour: OddBehaviour) {
    const host = await startOddIsamsHost(behaviour);
    hosts.push(host);
    await client.putSettings({ isamsUrl: host.url, apiKey: KEY, enabled: true }, client.md(tenant));
    const { run } = await client.triggerSync({}, client.md(tenant));
    // No roster here: a run that fetched well stops at `published` (the watch would wait for `applied`).
    const last = await client.runReaching(
      tenant,
      run!.syncRunId,
      ['failed', 'published', 'unchanged'],
      `${tenant}: run ended`,
    );
    if (last.status === 'failed') failedRunIds.push(run!.syncRunId);
    return last;
  }

  const CASES: [string, () => Buffer, string][] = [
    [
      'nesting 100,000 deep',
      () => xml(`<Pupil Id="1">${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</Pupil>`),
      'ISAMS_DOCUMENT_TOO_DEEP',
    ],
    [
      'a 3 MB field',
      () => xml(`<Pupil Id="1"><Forename>${'x'.repeat(3 * 1024 * 1024)}</Forename></Pupil>`),
      'ISAMS_RECORD_TOO_LARGE',
    ],
    [
      '5,001 pupils over ISAMS_MAX_RECORDS_PER_DATASET=5000',
      () => xml(Array.from({ length: 5001 }, (_, i) => `<Pupil Id="${i + 1}"/>`).join('')),
      'ISAMS_TOO_MANY_RECORDS',
    ],
  ];
  for (const [what, doc, code] of CASES) {
    it(`${what} → failed with ${code} (not transient), the limit named, nothing of the document in the message`, async () => {
      const last = await runAgainst(`bomb-${code}`, wholeDocument(doc(), 'content-length'));
      expect(last.status).toBe('failed');
      expect(last.error?.code).toBe(code);
      expect(last.error?.transient).toBe(false);
      expect(last.error?.message).toMatch(/limit of \d+/);
      expect(last.error?.message).not.toMatch(/xxxx|<a>/);
      expect(last.error?.adminAction).toContain('changed nothing');
      expect(last.datasets).toEqual([]);
    });
  }

  it('a 5 MB iSAMS error answer with a 240 KB message and control characters → a bounded, clean run error', async () => {
    const last = await runAgainst('huge-error-body', hugeErrorBody);
    expect(last.status).toBe('failed');
    expect(last.error?.code).toBe('ISAMS_ERROR_DOCUMENT');
    expect(last.error!.message.length).toBeLessThanOrEqual(2000);
    expect(last.error!.message).not.toMatch(CONTROL);
    expect(last.error!.message).toContain('line1 line2');
    const stored = await readRun(env, 'huge-error-body', last.syncRunId);
    expect(JSON.stringify(stored?.error).length).toBeLessThan(5000);
  });

  it('an element name of 100,000 characters is quoted bounded in the run findings', async () => {
    const name = `E${'n'.repeat(100_000)}`;
    const last = await runAgainst(
      'huge-element-name',
      wholeDocument(xml(`<Pupil Id="1"/><${name}/>`), 'content-length'),
    );
    expect(last.status).toBe('published');
    const stored = await readRun(env, 'huge-element-name', last.syncRunId);
    const finding = stored?.findings?.find((f) => f.code === 'ISAMS_UNEXPECTED_ELEMENT');
    expect(finding?.path?.length).toBeLessThanOrEqual(500);
    expect(finding?.message.length).toBeLessThanOrEqual(1000);
  });

  it('no failed run published anything, and no spool file is left', async () => {
    const all = await readAll(env.rawTopic);
    expect(failedRunIds).toHaveLength(4);
    expect(all.filter((m) => failedRunIds.includes(m.event.syncrunid ?? ''))).toEqual([]);
    const spoolDir = `/tmp/connector-test-spool/${env.mongoDb}`;
    expect(readdirSync(spoolDir)).toEqual([]);
  });
});

describe('connector: the spool quota (CONNECTOR_SPOOL_QUOTA_BYTES)', () => {
  let env: ConnectorTestEnv;
  let app: ConnectorApp;
  let client: ConnectorClient;
  let host: OddIsamsHost;
  let spoolDir: string;

  beforeAll(async () => {
    env = connectorTestEnv();
    spoolDir = `/tmp/connector-test-spool/${env.mongoDb}`;
    // A crash left a run's spool behind (its run is not in flight any more).
    mkdirSync(join(spoolDir, 'crashed-run'), { recursive: true });
    writeFileSync(join(spoolDir, 'crashed-run', 'currentPupils.ndjson'), '{"x":1}\n');
    app = await startConnector(
      env.env({ SCHEDULER_ENABLED: 'false', CONNECTOR_SPOOL_QUOTA_BYTES: String(1024 * 1024) }),
    );
    client = connectorClient(app.grpcPort);
    const school = await generatedSchoolDocument('xml', 3_000_000);
    host = await startOddIsamsHost(wholeDocument(school.bytes, 'content-length'));
  });
  afterAll(async () => {
    client?.close();
    await app?.stop();
    await host?.close();
    await env?.dropDatabase();
  });

  it('removes a spool left behind by a crash at start-up', () => {
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('a school larger than the quota → failed with CONNECTOR_SPOOL_FULL (transient: tried again later), nothing committed, no file left', async () => {
    await client.putSettings({ isamsUrl: host.url, apiKey: KEY, enabled: true }, client.md('big'));
    const { run } = await client.triggerSync({}, client.md('big'));
    const last = (await client.watch('big', run!.syncRunId)).at(-1)!;
    expect(last.status).toBe('failed');
    expect(last.error?.code).toBe('CONNECTOR_SPOOL_FULL');
    expect(last.error?.transient).toBe(true);
    expect(last.error?.message).toContain('1048576 bytes');
    expect(last.datasets).toEqual([]);
    expect(readdirSync(spoolDir)).toEqual([]);
    // No marker; at most datasets read whole before the quota ran out.
    expectUncommitted(await readAll(env.rawTopic), [run!.syncRunId]);
  });
});
