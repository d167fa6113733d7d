import { freePort, startServiceProcess, type ServiceProcess } from './processes';

/** A simulated school's server behaviour (see the simulator README › Server behaviour). */
export interface SimulatedServerOptions {
  /** `keep-alive` (default) or `close`: `Connection: close` and the socket closed after every response. */
  connection?: 'keep-alive' | 'close';
  /** Generation time model: iSAMS gives up after `limitMs` (~35 s by default). */
  generation?: {
    limitMs?: number;
    msPerMethod?: number;
    msPer1000Rows?: number;
    deadlockPer1000Rows?: number;
  };
}

/** Counters of a simulated school's Batch API requests. */
export interface SimulatedRequestStats {
  requests: number;
  documents: number;
  generationTimeouts: number;
  generationDeadlocks: number;
  methodsNotAllocated: number;
}

/** The iSAMS simulator running as a real HTTP server in its own process, with its admin API. */
export interface SimulatorProcess {
  readonly url: string;
  readonly process: ServiceProcess;
  /** Calls the simulator's admin API; throws with the status and body on a non-2xx answer. */
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Creates a generated school; the cache is bypassed by default so changes show at once. */
  createSchool(
    schoolId: string,
    opts: {
      seed?: number;
      size?: 'small' | 'medium' | 'large';
      apiKey: string;
      datasets?: string[];
      cacheMode?: 'cached' | 'bypass';
    } & SimulatedServerOptions,
  ): Promise<void>;
  /** Changes a school's server behaviour (connection mode, generation time model). */
  setServer(schoolId: string, server: SimulatedServerOptions): Promise<void>;
  /** The school's request counters. */
  stats(schoolId: string): Promise<SimulatedRequestStats>;
  /** Arms a fault for the school's next `times` requests. */
  fault(schoolId: string, kind: string, times?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `services/isams-simulator/src/main.ts` on a free port (services never import each other,
 * so it runs as a separate process) with short fault timings suitable for tests.
 */
export async function startSimulator(env: Record<string, string> = {}): Promise<SimulatorProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startServiceProcess({
    name: `isams-simulator-${port}`,
    entry: 'services/isams-simulator/src/main.ts',
    env: {
      SIM_HOST: '127.0.0.1',
      SIM_PORT: String(port),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
      SIM_INTERNAL_TIMEOUT_MS: '300ms',
      SIM_SLOW_MS: '200ms',
      ...env,
    },
    ready: { url: `${url}/health` },
  });
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
    process: proc,
    admin,
    async createSchool(schoolId, opts) {
      await admin('POST', '/admin/schools', {
        schoolId,
        seed: opts.seed ?? 7,
        size: opts.size ?? 'small',
        apiKey: opts.apiKey,
        ...(opts.datasets ? { datasets: opts.datasets } : {}),
        cacheMode: opts.cacheMode ?? 'bypass',
        ...(opts.connection ? { connection: opts.connection } : {}),
        ...(opts.generation ? { generation: opts.generation } : {}),
      });
    },
    async setServer(schoolId, server) {
      await admin('PATCH', `/admin/schools/${schoolId}/server`, server);
    },
    async stats(schoolId) {
      return ((await admin('GET', `/admin/schools/${schoolId}`)) as { stats: SimulatedRequestStats }).stats;
    },
    async fault(schoolId, kind, times = 1) {
      await admin('POST', `/admin/schools/${schoolId}/faults`, { kind, times });
    },
    stop: () => proc.stop(),
  };
}
