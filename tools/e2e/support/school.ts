import { randomUUID } from 'node:crypto';
import type { RunningSystem, SimulatedServerOptions } from '@isams-sync/testing';

/** A sync run as the gateway reports it (the fields the suite reads). */
export interface SyncRun {
  syncRunId: string;
  status: string;
  terminal: boolean;
  error: { code: string; message: string; adminAction?: string; transient?: boolean } | null;
  rosterStatus: string | null;
  rosterCounts: Record<string, Record<string, number>> | null;
  heldBatchId: string | null;
  progress: {
    chunksPublished: number;
    chunksTotal: number;
    datasetsDone: number;
    groupsDone: number;
    groupsTotal: number;
  };
  absentDatasets: string[];
  /** How the run fetched the document: the whole key, or method groups. */
  fetch: { mode: 'whole' | 'groups'; groups: Array<{ datasetIds: string[]; status: string | null }> } | null;
}

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 500)}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One simulated school driven through the gateway's admin API, as an admin would: a generated iSAMS
 * school in the simulator, an admin token, settings saved, runs triggered and awaited.
 */
export class School {
  private token = '';

  private constructor(
    readonly system: RunningSystem,
    readonly id: string,
    readonly apiKey: string,
  ) {}

  /**
   * Creates the simulated school (same seed ⇒ same data), issues a token and saves the settings.
   * `server`: the school's connection mode (keep-alive by default, or close-per-response) and
   * generation time model.
   */
  static async create(
    system: RunningSystem,
    id: string,
    seed: number,
    server: SimulatedServerOptions = {},
  ): Promise<School> {
    const apiKey = `{${randomUUID().toUpperCase()}}`;
    await system.simulator.createSchool(id, { seed, size: 'small', apiKey, cacheMode: 'bypass', ...server });
    const school = new School(system, id, apiKey);
    await school.newToken();
    await school.api('PUT', '/settings', {
      isamsUrl: system.simulator.url,
      apiKey,
      format: 'xml',
      scheduleMinutes: 60,
      enabled: true,
    });
    return school;
  }

  /** A fresh admin token: run triggers are rate-limited per credential. */
  async newToken(): Promise<void> {
    this.token = await this.system.issueToken(this.id, 'e2e');
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.system.gatewayUrl}/api/v1/schools/${this.id}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(130_000),
    });
    const text = await res.text();
    if (!res.ok) throw new GatewayError(res.status, text, `${method} ${path}`);
    return JSON.parse(text) as T;
  }

  /** Requests a real run (live events confirmed); a rate-limited trigger gets a new token and retries. */
  async trigger(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { run } = await this.api<{ run: SyncRun }>('POST', '/sync-runs', {
          dryRun: false,
          confirmLiveEvents: true,
        });
        return run.syncRunId;
      } catch (err) {
        if (!(err instanceof GatewayError) || err.status !== 429 || attempt > 3) throw err;
        await this.newToken();
      }
    }
  }

  /**
   * The run, tolerating a gateway that is briefly away (crash tests restart it). Reads are
   * rate-limited per credential and `waitFor` polls quickly, so a 429 gets a new token.
   */
  async run(runId: string): Promise<SyncRun> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.api<SyncRun>('GET', `/sync-runs/${runId}`);
      } catch (err) {
        if (err instanceof GatewayError && err.status === 429 && attempt <= 120) {
          await this.newToken();
          continue;
        }
        const transient = !(err instanceof GatewayError) || err.status >= 500;
        if (!transient || attempt > 120) throw err;
        await sleep(500);
      }
    }
  }

  /** Polls until the run is terminal. */
  async waitRun(runId: string, timeoutMs = 240_000): Promise<SyncRun> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.run(runId);
      if (run.terminal) return run;
      if (Date.now() > deadline)
        throw new Error(
          `run ${runId} of ${this.id} not terminal after ${timeoutMs} ms: ${JSON.stringify(run)}`,
        );
      await sleep(300);
    }
  }

  /** Triggers a run and waits for its end. */
  async sync(): Promise<SyncRun> {
    return this.waitRun(await this.trigger());
  }

  /** Polls the run until `predicate` holds (or the run ends); returns the run seen. */
  async waitFor(runId: string, predicate: (run: SyncRun) => boolean, timeoutMs = 240_000): Promise<SyncRun> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.run(runId);
      if (predicate(run) || run.terminal) return run;
      if (Date.now() > deadline) throw new Error(`run ${runId}: condition not met: ${JSON.stringify(run)}`);
      await sleep(50);
    }
  }

  /** Simulator admin call scoped to this school (`/admin/schools/<id><path>`). */
  sim(method: string, path: string, body?: unknown): Promise<unknown> {
    return this.system.simulator.admin(method, `/admin/schools/${this.id}${path}`, body);
  }
}
