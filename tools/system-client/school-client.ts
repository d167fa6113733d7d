/**
 * One school admin's view of the gateway's HTTP API (the same calls the Data Dashboard makes):
 * settings, trigger a sync, follow a run. Shared by the benchmarks and the load test.
 */

/** A sync run as the gateway returns it (the fields the tools read). */
export interface GatewaySyncRun {
  syncRunId: string;
  status: string;
  terminal: boolean;
  trigger: { kind: string; actor: string | null };
  requestedAt: string | null;
  fetchStartedAt: string | null;
  fetchedAt: string | null;
  publishedAt: string | null;
  finishedAt: string | null;
  fetchDurationMs: number;
  datasets: Array<{ datasetId: string; recordCount: number; bytes: number; chunkCount: number }>;
  rosterCounts: Record<string, Record<string, number>> | null;
  error: { code: string; message: string; adminAction?: string } | null;
  heldBatchId: string | null;
}

export interface SchoolSettingsInput {
  isamsUrl: string;
  apiKey: string;
  format?: 'xml' | 'json';
  scheduleMinutes?: number;
  enabled?: boolean;
}

export class SchoolApiClient {
  constructor(
    readonly gatewayUrl: string,
    readonly schoolId: string,
    private readonly token: string,
  ) {}

  /**
   * Calls `/api/v1/schools/<id><path>`; throws with status and body on a non-2xx answer. A GET
   * answered 429/502/503/504 (the services behind the gateway busy, e.g. under a load test) is
   * retried up to 6 times, 2 s apart; writes are never retried.
   */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const res = await fetch(`${this.gatewayUrl}/api/v1/schools/${this.schoolId}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (res.ok) return (await res.json()) as T;
      const text = await res.text();
      if (method !== 'GET' || attempt >= 6 || ![429, 502, 503, 504].includes(res.status))
        throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  saveSettings(input: SchoolSettingsInput): Promise<unknown> {
    return this.call('PUT', '/settings', {
      format: 'xml',
      scheduleMinutes: 60,
      enabled: true,
      ...input,
    });
  }

  async triggerSync(): Promise<GatewaySyncRun> {
    const { run } = await this.call<{ run: GatewaySyncRun }>('POST', '/sync-runs', {
      dryRun: false,
      confirmLiveEvents: true,
    });
    return run;
  }

  getRun(syncRunId: string): Promise<GatewaySyncRun> {
    return this.call<GatewaySyncRun>('GET', `/sync-runs/${syncRunId}`);
  }

  async listRuns(pageSize = 20): Promise<GatewaySyncRun[]> {
    return (await this.call<{ runs: GatewaySyncRun[] }>('GET', `/sync-runs?pageSize=${pageSize}`)).runs;
  }

  /** Polls the run until it is terminal; `onStatus` sees each new status. */
  async waitForRun(
    syncRunId: string,
    opts: { pollMs?: number; timeoutMs?: number; onStatus?: (status: string) => void } = {},
  ): Promise<GatewaySyncRun> {
    const until = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
    let last = '';
    for (;;) {
      const run = await this.getRun(syncRunId);
      if (run.status !== last) {
        last = run.status;
        opts.onStatus?.(run.status);
      }
      if (run.terminal) return run;
      if (Date.now() > until) throw new Error(`run ${syncRunId} still ${run.status} after the timeout`);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
    }
  }

  /** Triggers a sync and waits for its end; the time is from the trigger call to seeing it terminal. */
  async syncAndWait(
    opts: { pollMs?: number; timeoutMs?: number; onStatus?: (status: string) => void } = {},
  ): Promise<{ run: GatewaySyncRun; seconds: number }> {
    const started = performance.now();
    const requested = await this.triggerSync();
    const run = await this.waitForRun(requested.syncRunId, opts);
    return { run, seconds: (performance.now() - started) / 1000 };
  }
}

/** Records and bytes of a run over all its datasets. */
export function runTotals(run: GatewaySyncRun): { records: number; bytes: number; chunks: number } {
  return run.datasets.reduce(
    (t, d) => ({
      records: t.records + d.recordCount,
      bytes: t.bytes + d.bytes,
      chunks: t.chunks + d.chunkCount,
    }),
    { records: 0, bytes: 0, chunks: 0 },
  );
}

/** Changed entities (everything but `unchanged`) in a run's roster counts. */
export function changedCount(run: GatewaySyncRun): number {
  let n = 0;
  for (const counts of Object.values(run.rosterCounts ?? {}))
    for (const [kind, v] of Object.entries(counts)) if (kind !== 'unchanged' && typeof v === 'number') n += v;
  return n;
}
