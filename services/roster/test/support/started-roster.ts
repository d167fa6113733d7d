import { afterAll, beforeAll } from 'vitest';
import type { RosterApp } from '../../src/app';
import type { ProcessingStep } from '../../src/use-cases/changeset-processor';
import { rosterClient } from './grpc-client';
import { createHarness, pauseBeforeStep } from './harness';
import type { Harness } from './harness';
import { publishSnapshot } from './school-feed';
import type { Datasets, snapshotEvents } from './school-feed';

/** One roster app on a fresh harness for a test file, with a gateway gRPC client; stopped after the file. */
export interface StartedRoster {
  readonly h: Harness;
  readonly app: RosterApp;
  readonly rpc: ReturnType<typeof rosterClient>;
  /** Publishes a school's snapshot for `syncRunId` to the harness' raw topic, as the connector would. */
  publish(
    tenantId: string,
    syncRunId: string,
    datasets: Datasets,
    opts?: Parameters<typeof snapshotEvents>[3],
  ): Promise<void>;
  /**
   * Starts a second roster app on the harness whose processing of `changesetId` waits before `step`
   * until `pause.release()`, with a gateway client, and runs `body` with them; whatever `body` does,
   * the pause is released, the client closed and the app stopped afterwards.
   */
  withPausedApp(
    changesetId: string,
    step: ProcessingStep,
    body: (paused: PausedApp) => Promise<void>,
  ): Promise<void>;
}

/** What {@link StartedRoster.withPausedApp} gives its body. */
export interface PausedApp {
  readonly app: RosterApp;
  readonly rpc: ReturnType<typeof rosterClient>;
  readonly pause: ReturnType<typeof pauseBeforeStep>;
}

/** Registers the file's beforeAll/afterAll; the fields are readable from the first test on. */
export function useStartedRoster(): StartedRoster {
  let h: Harness | undefined;
  let app: RosterApp | undefined;
  let rpc: ReturnType<typeof rosterClient> | undefined;
  beforeAll(async () => {
    h = await createHarness();
    app = await h.startApp();
    rpc = rosterClient(app.grpcPort);
  });
  afterAll(async () => {
    rpc?.close();
    await h?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the roster app is started in beforeAll; read it inside a test');
    return value;
  };
  return {
    get h() {
      return started(h);
    },
    get app() {
      return started(app);
    },
    get rpc() {
      return started(rpc);
    },
    publish: (tenantId, syncRunId, datasets, opts) =>
      publishSnapshot(started(h).producer, started(h).topics.raw, tenantId, syncRunId, datasets, opts),
    async withPausedApp(changesetId, step, body) {
      const pause = pauseBeforeStep(changesetId, step);
      const paused = await started(h).startApp(pause.overrides);
      const client = rosterClient(paused.grpcPort);
      try {
        await body({ app: paused, rpc: client, pause });
      } finally {
        pause.release();
        client.close();
        await paused.stop();
      }
    },
  };
}
