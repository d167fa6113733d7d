import { afterEach } from 'vitest';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, n: number, body: string) => void;

/** A real HTTP server on an ephemeral port that answers the i-th request with handlers[i] (last repeats). */
export async function startServer(
  handlers: Handler[],
): Promise<{ url: string; port: number; requests: Recorded[]; close: () => Promise<void> }> {
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const n = requests.length;
      requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      handlers[Math.min(n, handlers.length - 1)]!(req, res, n, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, requests, close: () => closeServer(server, sockets) };
}

export type LocalServer = Awaited<ReturnType<typeof startServer>>;

/**
 * Starts servers for one test file's tests, each closed after its test (registers an `afterEach`):
 * `const server = serversClosedAfterEach(); … const s = await server([handler]);`.
 */
export function serversClosedAfterEach(): (handlers: Handler[]) => Promise<LocalServer> {
  const open: LocalServer[] = [];
  afterEach(async () => {
    while (open.length > 0) await open.pop()!.close();
  });
  return async (handlers) => {
    const s = await startServer(handlers);
    open.push(s);
    return s;
  };
}

async function closeServer(server: Server | NetServer, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
}

/**
 * A minimal real forward proxy: CONNECT tunnels and absolute-URI requests. Records what it saw;
 * `refuse` makes it answer CONNECT with 403.
 */
export async function startForwardProxy(
  opts: { refuse?: boolean } = {},
): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    if (opts.refuse) {
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    sockets.add(client);
    sockets.add(upstream);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => closeServer(server, sockets) };
}

/** A TCP server that accepts connections and never sends a byte (a handshake or response that never comes). */
export async function startSilentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => closeServer(server, sockets) };
}
