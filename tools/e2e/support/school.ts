import { randomUUID } from 'node:crypto';
import { AdminApiClient, AdminApiError, readUntil } from '@isams-sync/testing';
import type { AdminSyncRun, RunningSystem, SimulatedServerOptions } from '@isams-sync/testing';

/** A sync run as the gateway reports it. */
export type SyncRun = AdminSyncRun;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One simulated school driven through the gateway's admin API, as an admin would: a generated iSAMS
 * school in the simulator, an admin token, settings saved, runs triggered and awaited.
 */
export class School {
  /** The school's admin API; a request that gets no answer in 130 s fails. */
  readonly client: AdminApiClient;

  private constructor(
    readonly system: RunningSystem,
    readonly id: string,
    readonly apiKey: string,
  ) {
    this.client = new AdminApiClient(system.gatewayUrl, id, '', { requestTimeoutMs: 130_000 });
  }

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
    await school.client.saveSettings({ isamsUrl: system.simulator.url, apiKey });
    return school;
  }

  /** A fresh admin token: run triggers are rate-limited per credential. */
  async newToken(): Promise<void> {
    this.client.useToken(await this.system.issueToken(this.id, 'e2e'));
  }

  /** Calls `/api/v1/schools/<id><path>`; a non-2xx answer throws `AdminApiError`. */
  api<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.client.call<T>(method, path, body);
  }

  /** Requests a real run (live events confirmed); a rate-limited trigger gets a new token and retries. */
  async trigger(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.client.triggerSync()).syncRunId;
      } catch (err) {
        if (!(err instanceof AdminApiError) || err.status !== 429 || attempt > 3) throw err;
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
        return await this.client.getRun(runId);
      } catch (err) {
        if (err instanceof AdminApiError && err.status === 429 && attempt <= 120) {
          await this.newToken();
          continue;
        }
        const transient = !(err instanceof AdminApiError) || err.status >= 500;
        if (!transient || attempt > 120) throw err;
        await sleep(500);
      }
    }
  }

  /** Polls until the run is terminal. */
  waitRun(runId: string, timeoutMs = 240_000): Promise<SyncRun> {
    return this.poll(runId, () => false, timeoutMs, 300);
  }

  /** Triggers a run and waits for its end. */
  async sync(): Promise<SyncRun> {
    return this.waitRun(await this.trigger());
  }

  /** Polls the run until `predicate` holds (or the run ends); returns the run seen. */
  waitFor(runId: string, predicate: (run: SyncRun) => boolean, timeoutMs = 240_000): Promise<SyncRun> {
    return this.poll(runId, predicate, timeoutMs, 50);
  }

  private poll(
    runId: string,
    predicate: (run: SyncRun) => boolean,
    timeoutMs: number,
    intervalMs: number,
  ): Promise<SyncRun> {
    return readUntil(
      `run ${runId} of ${this.id} to end or meet the condition`,
      () => this.run(runId),
      (run) => predicate(run) || run.terminal,
      { timeoutMs, intervalMs, detail: (last) => JSON.stringify(last) },
    );
  }

  /** Simulator admin call scoped to this school (`/admin/schools/<id><path>`). */
  sim(method: string, path: string, body?: unknown): Promise<unknown> {
    return this.system.simulator.admin(method, `/admin/schools/${this.id}${path}`, body);
  }
}
