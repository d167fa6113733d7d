import { EventuallyTimedOut, eventually } from './eventually';

/** A sync run as the gateway's admin API returns it (the fields tests and tools read). */
export interface AdminSyncRun {
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
  progress: {
    chunksPublished: number;
    chunksTotal: number;
    datasetsDone: number;
    groupsDone: number;
    groupsTotal: number;
  };
  datasets: Array<{ datasetId: string; recordCount: number; bytes: number; chunkCount: number }>;
  absentDatasets: string[];
  /** How the run fetched the document: the whole key, or method groups. */
  fetch: { mode: 'whole' | 'groups'; groups: Array<{ datasetIds: string[]; status: string | null }> } | null;
  error: { code: string; message: string; adminAction?: string; transient?: boolean } | null;
  rosterStatus: string | null;
  rosterCounts: Record<string, Record<string, number>> | null;
  heldBatchId: string | null;
}

/** The school settings an admin saves (format, schedule and enabled have defaults). */
export interface AdminSettingsInput {
  isamsUrl: string;
  apiKey: string;
  format?: 'xml' | 'json';
  scheduleMinutes?: number;
  enabled?: boolean;
}

/** An admin-API answer outside 2xx: its status and body. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 500)}`);
  }
}

/** Options of {@link AdminApiClient}. */
export interface AdminApiClientOptions {
  /**
   * Retries a GET answered 429/502/503/504 (the services behind the gateway busy, e.g. under a load
   * test) until `attempts` answers were seen, `delayMs` apart. Writes are never retried. Default: none.
   */
  busyReads?: { attempts: number; delayMs: number };
  /** Aborts one request after this long; default: no limit of its own. */
  requestTimeoutMs?: number;
}

/** Options of {@link AdminApiClient.waitForRun}. */
export interface WaitForRunOptions {
  /** Bounds a hang; default 30 minutes. */
  timeoutMs?: number;
  /** Pause between two reads; default 250 ms. */
  intervalMs?: number;
  /** Sees each new status. */
  onStatus?: (status: string) => void;
}

const BUSY = new Set([429, 502, 503, 504]);

/**
 * One school admin's view of the gateway's admin API (`/api/v1/schools/<id>…`, the calls the Data
 * Dashboard makes) for tests and tools: any call, settings, trigger a sync, follow a run.
 */
export class AdminApiClient {
  constructor(
    readonly gatewayUrl: string,
    readonly schoolId: string,
    private token: string,
    private readonly options: AdminApiClientOptions = {},
  ) {}

  /** Calls with another admin token from now on (e.g. a fresh one: triggers are rate-limited per credential). */
  useToken(token: string): void {
    this.token = token;
  }

  /** Calls `/api/v1/schools/<id><path>`; throws {@link AdminApiError} on a non-2xx answer. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const attempts = method === 'GET' ? (this.options.busyReads?.attempts ?? 1) : 1;
    for (let attempt = 1; ; attempt += 1) {
      const res = await fetch(`${this.gatewayUrl}/api/v1/schools/${this.schoolId}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(this.options.requestTimeoutMs === undefined
          ? {}
          : { signal: AbortSignal.timeout(this.options.requestTimeoutMs) }),
      });
      const text = await res.text();
      if (res.ok) return JSON.parse(text) as T;
      if (attempt >= attempts || !BUSY.has(res.status))
        throw new AdminApiError(res.status, text, `${method} ${path}`);
      await new Promise((resolve) => setTimeout(resolve, this.options.busyReads?.delayMs ?? 0));
    }
  }

  /** Saves the school's settings (XML, hourly, enabled unless said otherwise). */
  saveSettings(input: AdminSettingsInput): Promise<unknown> {
    return this.call('PUT', '/settings', { format: 'xml', scheduleMinutes: 60, enabled: true, ...input });
  }

  /** Requests a real run, live events confirmed. */
  async triggerSync(): Promise<AdminSyncRun> {
    const { run } = await this.call<{ run: AdminSyncRun }>('POST', '/sync-runs', {
      dryRun: false,
      confirmLiveEvents: true,
    });
    return run;
  }

  getRun(syncRunId: string): Promise<AdminSyncRun> {
    return this.call<AdminSyncRun>('GET', `/sync-runs/${syncRunId}`);
  }

  async listRuns(pageSize = 20): Promise<AdminSyncRun[]> {
    return (await this.call<{ runs: AdminSyncRun[] }>('GET', `/sync-runs?pageSize=${pageSize}`)).runs;
  }

  /** Reads the run until it is terminal. */
  waitForRun(syncRunId: string, options: WaitForRunOptions = {}): Promise<AdminSyncRun> {
    let last = '';
    return eventually(
      async () => {
        const run = await this.getRun(syncRunId);
        if (run.status !== last) {
          last = run.status;
          options.onStatus?.(run.status);
        }
        return run.terminal ? run : undefined;
      },
      `run ${syncRunId} of ${this.schoolId} to end`,
      {
        timeoutMs: options.timeoutMs ?? 30 * 60_000,
        intervalMs: options.intervalMs ?? 250,
        detail: () => `still ${last}`,
      },
    );
  }

  /** Triggers a sync and waits for its end; `seconds` is from the trigger call to seeing it terminal. */
  syncAndWait(options: WaitForRunOptions = {}): Promise<{ run: AdminSyncRun; seconds: number }> {
    return this.timedSync((id) => this.waitForRun(id, options));
  }

  /**
   * Follows the run's live events (`GET …/sync-runs/<id>/events`, as the dashboard does) until it
   * is terminal; a stream that ends first (its maximum lifetime) is opened again. Throws
   * {@link EventuallyTimedOut} after `timeoutMs` (default 30 minutes), and the stream's own errors.
   */
  async watchRun(
    syncRunId: string,
    options: Pick<WaitForRunOptions, 'timeoutMs' | 'onStatus'> = {},
  ): Promise<AdminSyncRun> {
    const timeoutMs = options.timeoutMs ?? 30 * 60_000;
    const deadline = AbortSignal.timeout(timeoutMs);
    let last: AdminSyncRun | undefined;
    try {
      for (;;) {
        const res = await fetch(
          `${this.gatewayUrl}/api/v1/schools/${this.schoolId}/sync-runs/${syncRunId}/events`,
          {
            headers: { accept: 'text/event-stream', authorization: `Bearer ${this.token}` },
            signal: deadline,
          },
        );
        if (!res.ok || res.body === null)
          throw new AdminApiError(res.status, await res.text(), `GET /sync-runs/${syncRunId}/events`);
        for await (const { event, data } of serverSentEvents(res.body)) {
          if (event === 'run') {
            const run = JSON.parse(data) as AdminSyncRun;
            if (run.status !== last?.status) options.onStatus?.(run.status);
            last = run;
            if (run.terminal) return run;
          } else if (event === 'error') {
            const { code } = JSON.parse(data) as { code: string };
            // The stream's lifetime ended: open another one.
            if (code !== 'GATEWAY_STREAM_EXPIRED')
              throw new Error(`the events of run ${syncRunId} failed: ${data}`);
          }
        }
      }
    } catch (err) {
      if (deadline.aborted)
        throw new EventuallyTimedOut(
          `run ${syncRunId} of ${this.schoolId} to end`,
          timeoutMs,
          `run ${syncRunId} of ${this.schoolId} did not end within ${timeoutMs} ms (still ${last?.status ?? 'unseen'})`,
        );
      throw err;
    }
  }

  /** Triggers a sync and follows its live events to its end; `seconds` as in {@link syncAndWait}. */
  syncAndWatch(
    options: Pick<WaitForRunOptions, 'timeoutMs' | 'onStatus'> = {},
  ): Promise<{ run: AdminSyncRun; seconds: number }> {
    return this.timedSync((id) => this.watchRun(id, options));
  }

  /** Triggers a sync and waits for its end by `wait`, timed from the trigger call. */
  private async timedSync(
    wait: (syncRunId: string) => Promise<AdminSyncRun>,
  ): Promise<{ run: AdminSyncRun; seconds: number }> {
    const started = performance.now();
    const requested = await this.triggerSync();
    const run = await wait(requested.syncRunId);
    return { run, seconds: (performance.now() - started) / 1000 };
  }
}

/** The events of a `text/event-stream` body: `event:` and `data:` lines up to each blank line. */
async function* serverSentEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffered = '';
  let event = 'message';
  let data: string[] = [];
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, newline).replace(/\r$/, '');
      buffered = buffered.slice(newline + 1);
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n') };
        event = 'message';
        data = [];
      } else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
  }
}
