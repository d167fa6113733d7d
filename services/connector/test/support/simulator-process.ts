import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const repoRoot = resolve(import.meta.dirname, '../../../..');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** The iSAMS simulator running as a real HTTP server in a child process. */
export interface SimulatorProcess {
  readonly url: string;
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
  createSchool(
    schoolId: string,
    opts: { seed?: number; size?: 'small' | 'medium' | 'large'; apiKey: string; datasets?: string[] },
  ): Promise<void>;
  fault(schoolId: string, kind: string, times?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `services/isams-simulator/src/main.ts` (services never import each other, so it runs as
 * a separate process) on a free port and waits for its `/health`.
 */
export async function startSimulator(env: Record<string, string> = {}): Promise<SimulatorProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    resolve(repoRoot, 'node_modules/.bin/tsx'),
    ['services/isams-simulator/src/main.ts'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        SIM_HOST: '127.0.0.1',
        SIM_PORT: String(port),
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
        SIM_INTERNAL_TIMEOUT_MS: '300ms',
        SIM_SLOW_MS: '200ms',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (let i = 0; ; i++) {
    if (exited) throw new Error('simulator exited during start-up');
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('simulator did not become ready');
    await sleep(100);
  }
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (!res.ok) throw new Error(`simulator ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  return {
    url,
    admin,
    async createSchool(schoolId, opts) {
      await admin('POST', '/admin/schools', {
        schoolId,
        seed: opts.seed ?? 7,
        size: opts.size ?? 'small',
        apiKey: opts.apiKey,
        ...(opts.datasets ? { datasets: opts.datasets } : {}),
        cacheMode: 'bypass',
      });
    },
    async fault(schoolId, kind, times = 1) {
      await admin('POST', `/admin/schools/${schoolId}/faults`, { kind, times });
    },
    async stop() {
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
}
