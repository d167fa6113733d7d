import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/processes';

/** The kernel's ephemeral range: where outgoing connections take their local ports. */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32768;
  }
}

describe('freePort', () => {
  it('hands out ports below the ephemeral range, so an outgoing connection cannot take one before the service binds it', async () => {
    const low = ephemeralLow();
    const ports = await Promise.all(Array.from({ length: 40 }, () => freePort()));
    for (const p of ports) expect(p).toBeLessThan(low);
    for (const p of ports) expect(p).toBeGreaterThanOrEqual(1024);
  });

  it('never hands out the same port twice in a process, and each one is bindable', async () => {
    const ports = await Promise.all(Array.from({ length: 60 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[0], '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('skips a port that is in use', async () => {
    // Occupy a run of candidate ports: whatever it picks must not be one of them.
    const taken = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    const servers = await Promise.all(
      taken.map(
        (p) =>
          new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
            const s = createServer();
            s.once('error', reject);
            s.listen(p, '127.0.0.1', () => resolve(s));
          }),
      ),
    );
    try {
      const next = await Promise.all(Array.from({ length: 20 }, () => freePort()));
      for (const p of next) expect(taken).not.toContain(p);
    } finally {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    }
  });
});
