import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy to `127.0.0.1:<targetPort>` that can hold all traffic (both ways, kept in order) and
 * let it through again — a database that stops answering for a while without dropping connections.
 */
export interface PausableProxy {
  readonly port: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startPausableProxy(targetPort: number): Promise<PausableProxy> {
  let paused = false;
  const held: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const forward = (to: net.Socket) => (data: Buffer) => {
    const send = () => {
      if (!to.destroyed) to.write(data);
    };
    if (paused) held.push(send);
    else send();
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) sockets.add(s);
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const send of held.splice(0)) send();
    },
    async close() {
      paused = false;
      held.length = 0;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
