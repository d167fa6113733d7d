/**
 * Test iSAMS hosts over real sockets: an odd or hostile one written byte by byte on `node:net`
 * (HTTP/1.0, early FIN, RST, drip, wrong Content-Length, redirects…), and a well-behaved one on
 * `node:http` whose answer can be held back so that its school's run is in flight while the odd
 * host misbehaves.
 */
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IsamsClientSettings } from '../../src/adapters/isams/batch-source';

/** One request as the host received it (the target includes the query with the key). */
/**
 * The fetch adapter's client settings for an odd host on 127.0.0.1 (unit tests call `fetchToSpool`
 * directly): short time-outs, no retries, the development egress setting (docs/security.md › Egress).
 */
export const LOOPBACK_CLIENT: IsamsClientSettings = {
  connectTimeoutMs: 5_000,
  readTimeoutMs: 5_000,
  totalTimeoutMs: 30_000,
  maxBytes: 512 * 1024 * 1024,
  readAheadBytes: 0,
  retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
  egress: { allowPrivateAddresses: true, hostSuffixes: [], allowedPorts: [443] },
};

export interface ReceivedRequest {
  method: string;
  target: string;
  headers: Record<string, string>;
  body: string;
}

/** What the odd host does with one request: it owns the socket from the request on. */
export type OddBehaviour = (socket: Socket, request: ReceivedRequest, n: number) => void | Promise<void>;

export interface OddIsamsHost {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Connections that have closed so far. */
  closedConnections(): number;
  close(): Promise<void>;
}

const HEAD_END = '\r\n\r\n';

function parseHead(head: string): Omit<ReceivedRequest, 'body'> {
  const [requestLine = '', ...lines] = head.split('\r\n');
  const [method = '', target = ''] = requestLine.split(' ');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { method, target, headers };
}

/**
 * A raw TCP server that reads HTTP requests (head and Content-Length body) and hands the socket to
 * `behaviour` — or to `behaviours[n]` for the n-th request (the last repeats) — for each in turn.
 */
export async function startOddIsamsHost(behaviours: OddBehaviour | OddBehaviour[]): Promise<OddIsamsHost> {
  const list = Array.isArray(behaviours) ? behaviours : [behaviours];
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let closed = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closed += 1;
    });
    socket.on('error', () => undefined);
    // Requests on one connection are handled one after the other (keep-alive, e.g. after a redirect).
    let buf = Buffer.alloc(0);
    let busy = false;
    const next = (): void => {
      const end = buf.indexOf(HEAD_END);
      if (busy || end < 0) return;
      const head = parseHead(buf.subarray(0, end).toString('latin1'));
      const length = Number(head.headers['content-length'] ?? 0);
      const start = end + HEAD_END.length;
      if (buf.length < start + length) return;
      const request = { ...head, body: buf.subarray(start, start + length).toString('utf8') };
      buf = buf.subarray(start + length);
      const n = requests.length;
      requests.push(request);
      busy = true;
      void Promise.resolve()
        .then(() => list[Math.min(n, list.length - 1)]!(socket, request, n))
        .catch(() => socket.destroy())
        .finally(() => {
          busy = false;
          next();
        });
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      next();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    closedConnections: () => closed,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const XML = 'Content-Type: text/xml; charset=utf-8';

/** Resolves once `data` has been handed to the kernel. */
function write(socket: Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

function head(statusLine: string, headers: string[]): Buffer {
  return Buffer.from(`${statusLine}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`, 'latin1');
}

/** HTTP/1.0, no Content-Length: the body is delimited by the server closing the connection. */
export function http10CloseDelimited(body: Buffer): OddBehaviour {
  return (socket) => {
    socket.write(Buffer.concat([head('HTTP/1.0 200 OK', [XML]), body]));
    socket.end();
  };
}

/**
 * `Connection: close` with an exact Content-Length: head and whole body in one write, then FIN at
 * once — while the client is still working through the first few hundred kilobytes.
 */
export function closeRightAfterBody(body: Buffer): OddBehaviour {
  return (socket) => {
    socket.write(
      Buffer.concat([
        head('HTTP/1.1 200 OK', [XML, `Content-Length: ${body.length}`, 'Connection: close']),
        body,
      ]),
    );
    socket.end();
  };
}

/** Writes a head announcing the whole body (Content-Length, keep-alive) and the first `fraction` of the body. */
async function writePartOfBody(socket: Socket, body: Buffer, fraction: number): Promise<void> {
  const cut = Math.floor(body.length * fraction);
  await write(
    socket,
    Buffer.concat([head('HTTP/1.1 200 OK', [XML, `Content-Length: ${body.length}`]), body.subarray(0, cut)]),
  );
}

/**
 * Announces the whole body (Content-Length, keep-alive), sends the first `fraction` of it, then
 * closes the connection (FIN) — a server or proxy that stops mid-document.
 */
export function closeMidBody(body: Buffer, fraction = 0.5): OddBehaviour {
  return async (socket) => {
    await writePartOfBody(socket, body, fraction);
    socket.end();
  };
}

/** Sends part of the body, then resets the connection (RST, not FIN). */
export function resetMidBody(body: Buffer, fraction = 0.5): OddBehaviour {
  return async (socket) => {
    await writePartOfBody(socket, body, fraction);
    // Let the client read what was sent before the reset discards the rest.
    await sleep(200);
    socket.resetAndDestroy();
  };
}

/** Sends one byte a second — of the whole response, or of the body after a prompt head. */
export function dripOneByteASecond(body: Buffer, what: 'whole-response' | 'body'): OddBehaviour {
  return async (socket) => {
    const headBytes = head('HTTP/1.1 200 OK', [XML, `Content-Length: ${body.length}`]);
    let rest: Buffer = Buffer.concat([headBytes, body]);
    if (what === 'body') {
      await write(socket, headBytes);
      rest = body;
    }
    for (let i = 0; i < rest.length && !socket.destroyed; i++) {
      await write(socket, rest.subarray(i, i + 1));
      await sleep(1000);
    }
  };
}

/** A whole, well-formed answer: with an exact Content-Length, or chunked (no Content-Length). */
export function wholeDocument(body: Buffer, framing: 'content-length' | 'chunked'): OddBehaviour {
  return (socket) => {
    if (framing === 'content-length') {
      socket.write(Buffer.concat([head('HTTP/1.1 200 OK', [XML, `Content-Length: ${body.length}`]), body]));
      return;
    }
    socket.write(head('HTTP/1.1 200 OK', [XML, 'Transfer-Encoding: chunked']));
    for (let i = 0; i < body.length; i += 64 * 1024) {
      const part = body.subarray(i, i + 64 * 1024);
      socket.write(`${part.length.toString(16)}\r\n`);
      socket.write(part);
      socket.write('\r\n');
    }
    socket.write('0\r\n\r\n');
  };
}

/**
 * A Content-Length that does not match the body: `shorter` announces less than it sends (the rest
 * follows as garbage on a keep-alive connection); `longer` announces more, sends the body, closes.
 */
export function wrongContentLength(body: Buffer, kind: 'shorter' | 'longer'): OddBehaviour {
  return async (socket) => {
    const announced = kind === 'shorter' ? Math.floor(body.length / 2) : body.length + 4096;
    await write(
      socket,
      Buffer.concat([head('HTTP/1.1 200 OK', [XML, `Content-Length: ${announced}`]), body]),
    );
    if (kind === 'longer') socket.end();
  };
}

/** Answers `status` with a Location header (absolute or relative). */
export function redirectTo(status: 301 | 302 | 303 | 307 | 308, location: string): OddBehaviour {
  return (socket) => {
    socket.write(head(`HTTP/1.1 ${status} Moved`, [`Location: ${location}`, 'Content-Length: 0']));
  };
}

function gateOpen(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export interface WellBehavedHost {
  url: string;
  requests: ReceivedRequest[];
  /** True while a response is held back (its first line sent, the rest waiting for `release`). */
  holding(): boolean;
  /** Lets every held (and every later) response finish. */
  release(): void;
  /** Holds the responses of later requests again until the next `release`. */
  hold(): void;
  close(): Promise<void>;
}

/**
 * An ordinary HTTP/1.1 server (keep-alive, chunked) answering every request with `document`. While
 * held, it sends the first line of the document and then a newline every 100 ms (whitespace
 * between elements: the document stays well-formed and the client's read time-out never fires),
 * and the rest once released.
 */
export async function startWellBehavedIsamsHost(document: Buffer): Promise<WellBehavedHost> {
  const requests: ReceivedRequest[] = [];
  let gate = gateOpen();
  let held = 0;
  const firstLine = document.indexOf(0x0a) + 1;
  const server: HttpServer = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        target: req.url ?? '',
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body,
      });
      const released = gate.promise;
      void (async () => {
        res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
        res.write(document.subarray(0, firstLine));
        held += 1;
        let open = true;
        void released.then(() => (open = false));
        while (open && !res.destroyed) {
          res.write('\n');
          await sleep(100);
        }
        held -= 1;
        res.end(document.subarray(firstLine));
      })();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    holding: () => held > 0,
    release: () => gate.open(),
    hold: () => {
      gate = gateOpen();
    },
    close: async () => {
      gate.open();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
