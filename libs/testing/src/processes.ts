import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '../../..');

/** The lowest port the kernel gives outgoing connections (Linux `ip_local_port_range`). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > FIRST_PORT + 1000 ? low : DEFAULT_EPHEMERAL_LOW;
  } catch {
    return DEFAULT_EPHEMERAL_LOW;
  }
}
const FIRST_PORT = 20_000;
const DEFAULT_EPHEMERAL_LOW = 32_768;
/** Ports this process handed out: never twice (a started service may not have bound it yet). */
const handedOut = new Set<number>();

/** Binds `port` on 127.0.0.1 (`0`: any) and releases it; resolves the port, or `null` if it is in use. */
function tryBind(port: number): Promise<number | null> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(null));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : null));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1 for a process to bind next, chosen **below the kernel's ephemeral
 * range**: a port the kernel picked (`listen(0)`) is one it also gives outgoing connections, and under
 * a busy test run some Kafka or MongoDB client took it between our release and the service's bind
 * (`EADDRINUSE`, "exited before it was ready"). Random within 20000 – range start, checked bindable,
 * never handed out twice by this process.
 */
export async function freePort(): Promise<number> {
  const span = ephemeralLow() - FIRST_PORT;
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const candidate = FIRST_PORT + randomInt(span);
    if (handedOut.has(candidate)) continue;
    handedOut.add(candidate);
    if ((await tryBind(candidate)) !== null) return candidate;
  }
  const port = await tryBind(0);
  if (port === null) throw new Error('could not allocate a port');
  return port;
}

/** How to tell that a started process is ready: an HTTP URL answering 200. */
export interface ReadinessProbe {
  readonly url: string;
  readonly timeoutMs?: number;
}

export interface ServiceProcessOptions {
  /** Short name used in logs, e.g. `connector`. */
  readonly name: string;
  /** Repo-relative path of the TypeScript entry point, e.g. `services/connector/src/main.ts`. */
  readonly entry: string;
  readonly args?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly ready: ReadinessProbe;
  /** Directory for `<name>.log` (stdout+stderr); defaults to `.cache/test-logs`. */
  readonly logDir?: string;
}

/** A service running as a real OS process (so tests can `kill -9` it). */
export interface ServiceProcess {
  readonly name: string;
  readonly logFile: string;
  pid(): number | undefined;
  /** Graceful stop: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Crash: SIGKILL, no chance to clean up. */
  kill9(): Promise<void>;
  /** Starts the same process again (same env) and waits for readiness. */
  restart(): Promise<void>;
}

async function waitReady(
  probe: ReadinessProbe,
  child: ChildProcess,
  name: string,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + (probe.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${name} exited (${child.exitCode ?? child.signalCode}) before it was ready; see ${logFile}`,
      );
    }
    try {
      const res = await fetch(probe.url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} not ready at ${probe.url} within ${probe.timeoutMs ?? 60_000} ms; see ${logFile}`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/**
 * Starts `node --import tsx <entry>` as a child process (one OS process, so its pid is the
 * service's own), appends its output to a log file and waits until the readiness URL answers 200.
 */
export async function startServiceProcess(opts: ServiceProcessOptions): Promise<ServiceProcess> {
  const logDir = opts.logDir ?? resolve(repoRoot, '.cache/test-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = resolve(logDir, `${opts.name}.log`);
  let child: ChildProcess;

  const launch = async () => {
    const log = createWriteStream(logFile, { flags: 'a' });
    log.write(`\n--- start ${new Date().toISOString()} ---\n`);
    child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(repoRoot, opts.entry), ...(opts.args ?? [])],
      {
        cwd: repoRoot,
        env: { ...process.env, ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', () => log.end());
    try {
      await waitReady(opts.ready, child, opts.name, logFile);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  };
  await launch();

  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
  };
  return {
    name: opts.name,
    logFile,
    pid: () => child.pid,
    stop,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited(child);
    },
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
