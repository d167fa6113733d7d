import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchBatch, isIsamsError, parseBatchDocument } from '@isams-sync/isams';
import { clientOptions, fetchParsed } from '../support/client';
import { KEY, useListeningSim } from '../support/sim-app';

// Per-school server behaviour over real HTTP: the connection mode and the generation time limit.
const sim = useListeningSim();
let port: number;
beforeAll(() => {
  port = Number(new URL(sim.baseUrl).port);
});

const KEY_B = 'BBBBBBBB-8E74-4388-A3C4-8DA1E40ADA57';

interface RawResponse {
  head: string;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP/1.1 client on one socket: sends requests one after another, reports whether the server closed. */
class RawConnection {
  private buffer = '';
  private waiters: (() => void)[] = [];
  closedByServer = false;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.wake();
    });
    socket.on('end', () => {
      this.closedByServer = true;
      this.wake();
    });
  }

  static open(): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  /** GETs `path` keep-alive style and reads one response (close-delimited bodies read until EOF). */
  async get(path: string): Promise<RawResponse> {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    await this.until(() => this.buffer.includes('\r\n\r\n'), 'response head');
    const end = this.buffer.indexOf('\r\n\r\n');
    const head = this.buffer.slice(0, end);
    const headers = Object.fromEntries(
      head
        .split('\r\n')
        .slice(1)
        .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    let rest = this.buffer.slice(end + 4);
    let body: string;
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      await this.until(() => this.buffer.length - (end + 4) >= n, 'body');
      rest = this.buffer.slice(end + 4);
      body = rest.slice(0, n);
      this.buffer = rest.slice(n);
    } else if (headers['transfer-encoding'] === 'chunked') {
      await this.until(() => this.buffer.slice(end + 4).includes('\r\n0\r\n\r\n'), 'last chunk');
      rest = this.buffer.slice(end + 4);
      const stop = rest.indexOf('\r\n0\r\n\r\n') + 7;
      body = decodeChunked(rest.slice(0, stop));
      this.buffer = rest.slice(stop);
    } else {
      await this.until(() => this.closedByServer, 'end of a close-delimited body');
      body = this.buffer.slice(end + 4);
      this.buffer = '';
    }
    return { head: head.split('\r\n')[0]!, headers, body: Buffer.from(body, 'latin1').toString('utf8') };
  }

  async waitClosed(): Promise<boolean> {
    await this.until(() => this.closedByServer, 'the server to close the connection').catch(() => undefined);
    return this.closedByServer;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function decodeChunked(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, line), 16);
    if (size === 0) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}

describe('connection behaviour per school', () => {
  it('keep-alive (the default): answers on one connection again and again', async () => {
    await sim.admin('POST', '/admin/schools', { schoolId: 'ka', seed: 2, size: 'small', apiKey: KEY });
    expect((await sim.admin('GET', '/admin/schools/ka')).json.server.connection).toBe('keep-alive');
    const conn = await RawConnection.open();
    try {
      for (let i = 0; i < 2; i++) {
        const res = await conn.get(`/api/batch/1.0/xml.ashx?apiKey=${KEY}`);
        expect(res.head).toBe('HTTP/1.1 200 OK');
        expect(res.headers.connection).toBe('keep-alive');
        expect(res.body.startsWith('<iSAMS>') && res.body.endsWith('</iSAMS>')).toBe(true);
      }
      expect(conn.closedByServer).toBe(false);
    } finally {
      conn.destroy();
    }
  });

  it('close-per-response: `Connection: close`, a close-delimited document, and the socket closed after every answer', async () => {
    await sim.admin('POST', '/admin/schools', {
      schoolId: 'cl',
      seed: 2,
      size: 'small',
      apiKey: KEY,
      connection: 'close',
    });
    expect((await sim.admin('GET', '/admin/schools/cl')).json.server.connection).toBe('close');
    const conn = await RawConnection.open();
    const res = await conn.get(`/api/batch/1.0/xml.ashx?apiKey=${KEY}`);
    expect(res.head).toBe('HTTP/1.1 200 OK');
    expect(res.headers.connection).toBe('close');
    // HTTP/1.0 semantics: neither a length nor chunking, the body ends where the connection does.
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(res.body.startsWith('<iSAMS>') && res.body.endsWith('</iSAMS>')).toBe(true);
    expect(await conn.waitClosed()).toBe(true);

    // Error documents too.
    await sim.admin('POST', '/admin/schools/cl/faults', { kind: 'deadlock' });
    const conn2 = await RawConnection.open();
    const err = await conn2.get(`/api/batch/1.0/xml.ashx?apiKey=${KEY}`);
    expect(err.head).toBe('HTTP/1.1 500 Internal Server Error');
    expect(err.headers.connection).toBe('close');
    expect(err.body).toContain('Rerun the transaction.');
    expect(await conn2.waitClosed()).toBe(true);
  });

  it('the admin API switches a school between the modes; the real client reads both, retries included', async () => {
    await sim.admin('POST', '/admin/schools', { schoolId: 'sw', seed: 4, size: 'small', apiKey: KEY });
    const patched = await sim.admin('PATCH', '/admin/schools/sw/server', { connection: 'close' });
    expect(patched.status).toBe(200);
    expect(patched.json.server.connection).toBe('close');
    await sim.admin('POST', '/admin/schools/sw/faults', { kind: 'deadlock', times: 1 });
    const retried = await fetchParsed(sim.baseUrl, {
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
    });
    expect(retried.datasets.currentPupils.records).toHaveLength(300);
    const json = await fetchParsed(sim.baseUrl, { format: 'json' });
    expect(json.datasets.teachingSetLists.records).toHaveLength(1500);
    await sim.admin('PATCH', '/admin/schools/sw/server', { connection: 'keep-alive' });
    expect((await fetchParsed(sim.baseUrl)).datasets.currentStaff.records).toHaveLength(45);
    const bad = await sim.admin('PATCH', '/admin/schools/sw/server', { connection: 'sometimes' });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'SIM_INVALID_REQUEST']);
  });
});

describe('generation time limit per school', () => {
  it('the whole key times out like iSAMS (500 UnhandledException), a MethodsToRun group of the same key fits', async () => {
    const created = await sim.admin('POST', '/admin/schools', {
      schoolId: 'slow',
      seed: 4,
      size: 'small',
      apiKey: KEY_B,
      cacheMode: 'bypass',
      // 2,821 rows × 100 ms per 1,000 ≈ 282 ms for the whole key; the limit is 200 ms.
      generation: { limitMs: 200, msPer1000Rows: 100 },
    });
    expect(created.status).toBe(201);
    expect(created.json.server.generation).toEqual({
      limitMs: 200,
      msPerMethod: 0,
      msPer1000Rows: 100,
      deadlockPer1000Rows: 0,
    });
    const opts = clientOptions(sim.baseUrl, { apiKey: KEY_B });
    try {
      await fetchParsed(sim.baseUrl, { apiKey: KEY_B });
      expect.unreachable('the whole key should time out');
    } catch (err) {
      expect(isIsamsError(err) && err.code).toBe('ISAMS_TIMEOUT');
      expect(isIsamsError(err) && err.details?.httpStatus).toBe(500);
    }
    const teaching = await fetchBatch({
      ...opts,
      methodsToRun: [
        'Teaching_GetDepartmentsAndSubjects',
        'Teaching_GetTeachingForms',
        'Teaching_GetTeachingSets',
        'Teaching_GetTeachingSetLists',
      ],
    });
    const doc = await parseBatchDocument(teaching.body, { format: 'xml' });
    expect(doc.datasets.teachingSetLists.records).toHaveLength(1500);
    expect(doc.datasets.currentPupils.present).toBe(false);
    const summary = (await sim.admin('GET', '/admin/schools/slow')).json;
    expect(summary.stats).toMatchObject({ requests: 2, documents: 1, generationTimeouts: 1 });

    // Settable through the admin API: a generous limit lets the whole key through.
    const patched = await sim.admin('PATCH', '/admin/schools/slow/server', {
      generation: { limitMs: 5_000 },
    });
    expect(patched.json.server.generation).toMatchObject({ limitMs: 5_000, msPer1000Rows: 100 });
    expect((await fetchParsed(sim.baseUrl, { apiKey: KEY_B })).datasets.contacts.records).toHaveLength(600);
    const bad = await sim.admin('PATCH', '/admin/schools/slow/server', { generation: { limitMs: -1 } });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'SIM_INVALID_REQUEST']);
  });
});
