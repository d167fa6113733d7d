import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';

/** A TCP proxy on 127.0.0.1 that refuses every connection until it is opened, then forwards them. */
export interface TcpGate {
  /** `127.0.0.1:<port>`: what a client under test is given instead of the target. */
  readonly address: string;
  readonly port: number;
  /** From now on connections are forwarded to the target. */
  open(): void;
  /** Stops listening and ends every forwarded connection. */
  close(): Promise<void>;
}

/**
 * A dependency that is unreachable and later comes back (a broker or database outage as a pod
 * starts): while closed, every connection is accepted and reset at once; once {@link TcpGate.open}ed,
 * each connection is piped to `target` (`host:port`).
 */
export async function startTcpGate(target: string): Promise<TcpGate> {
  const [host, port] = splitHostPort(target);
  let open = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (!open) return void client.resetAndDestroy();
    const upstream = createConnection({ host, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp gate: no port');
  return {
    address: `127.0.0.1:${address.port}`,
    port: address.port,
    open: () => void (open = true),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function splitHostPort(target: string): [string, number] {
  const i = target.lastIndexOf(':');
  return [target.slice(0, i), Number(target.slice(i + 1))];
}

/** The status of a GET of `url` (`/health`, `/ready` of an ops server), or `unreachable`. */
export async function httpStatus(url: string): Promise<number | 'unreachable'> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3_000) })).status;
  } catch {
    return 'unreachable';
  }
}

/** The log lines (JSON, one per entry) of start-up attempts that found a dependency unreachable. */
export function failedStartAttempts(lines: readonly string[]): string[] {
  return lines.filter((l) => l.includes('not reachable yet at start-up'));
}
