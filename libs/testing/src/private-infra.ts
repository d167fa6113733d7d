import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './processes';

const repoRoot = resolve(import.meta.dirname, '../../..');

/**
 * A second, private Kafka + FerretDB started with the local-infra CLI (own state dir and ports), so a
 * test can stop and restart them without disturbing the shared infrastructure other tests use.
 * FerretDB runs on the backend `LOCAL_MONGO_BACKEND` names (else the local infrastructure's default);
 * on `postgresql` it brings its own PostgreSQL server too.
 */
export class PrivateInfra {
  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly stateDir: string,
    readonly kafkaBrokers: string[],
    readonly mongoUrl: string,
  ) {}

  static async up(): Promise<PrivateInfra> {
    const stateDir = mkdtempSync(join(tmpdir(), 'isams-sync-e2e-infra-'));
    const [kafka, controller, mongo, postgres] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const env = {
      ...process.env,
      LOCAL_INFRA_STATE_DIR: stateDir,
      LOCAL_KAFKA_PORT: String(kafka),
      LOCAL_KAFKA_CONTROLLER_PORT: String(controller),
      LOCAL_MONGO_PORT: String(mongo),
      LOCAL_POSTGRES_PORT: String(postgres),
    };
    const infra = new PrivateInfra(env, stateDir, [], '');
    const out = infra.cli('up', '--json');
    const e = JSON.parse(out.trim().split('\n').at(-1)!) as { kafkaBrokers: string; mongoUrl: string };
    return new PrivateInfra(env, stateDir, e.kafkaBrokers.split(','), e.mongoUrl);
  }

  private cli(...args: string[]): string {
    const res = spawnSync(resolve(repoRoot, 'node_modules/.bin/tsx'), ['tools/local-infra/cli.ts', ...args], {
      cwd: repoRoot,
      env: this.env,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (res.status !== 0) throw new Error(`local-infra ${args.join(' ')} failed: ${res.stderr}`);
    return res.stdout;
  }

  /**
   * Stops one server (SIGTERM to the pid the CLI recorded — SIGINT, the fast shutdown, for
   * PostgreSQL — then waits for it to exit).
   */
  async stopServer(name: 'kafka' | 'ferretdb' | 'postgres'): Promise<void> {
    const file = join(this.stateDir, `${name}.pid`);
    if (!existsSync(file)) throw new Error(`${name} has no pid file in ${this.stateDir}`);
    const pid = Number(readFileSync(file, 'utf8').trim());
    process.kill(pid, name === 'postgres' ? 'SIGINT' : 'SIGTERM');
    for (let i = 0; i < 300; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(pid, 'SIGKILL');
  }

  /**
   * Starts whatever is not running (same data, same ports) and waits until it is ready. Runs the
   * CLI asynchronously so the test's own clients (e.g. a Kafka consumer) keep their heartbeats.
   */
  restart(): Promise<void> {
    return new Promise((done, fail) => {
      const child = spawn(resolve(repoRoot, 'node_modules/.bin/tsx'), ['tools/local-infra/cli.ts', 'up'], {
        cwd: repoRoot,
        env: this.env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGTERM'), 300_000);
      child.once('error', fail);
      child.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0) done();
        else fail(new Error(`local-infra up failed (exit ${code}): ${stderr.slice(-3000)}`));
      });
    });
  }

  /** Stops both servers and deletes their data and the state directory. */
  destroy(): void {
    try {
      this.cli('down', '--wipe');
    } finally {
      rmSync(this.stateDir, { recursive: true, force: true });
    }
  }

  /** The servers' logs, for failure messages. */
  logDir(): string {
    return join(this.stateDir, 'logs');
  }
}
