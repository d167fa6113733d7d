import {
  readUntil,
  grpcHealthStatus,
  PrivateInfra,
  startSystem,
  type RunningSystem,
} from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Service = 'connector' | 'roster' | 'bookings' | 'gateway';
const SERVICES: Service[] = ['connector', 'roster', 'bookings', 'gateway'];
const GRPC_SERVICES = ['connector', 'roster', 'bookings'] as const;
/** Services whose readiness depends on each server (the gateway has no Kafka connection). */
const DEPENDS_ON = {
  kafka: ['connector', 'roster', 'bookings'],
  ferretdb: SERVICES,
} as const satisfies Record<string, readonly Service[]>;

interface Observation {
  ready: Record<Service, number>;
  live: Record<Service, number>;
  grpcOverall: Record<(typeof GRPC_SERVICES)[number], string | number>;
  grpcLiveness: Record<(typeof GRPC_SERVICES)[number], string | number>;
}

/**
 * Kafka, then FerretDB, stopped and started again under the running services (a private Kafka +
 * FerretDB, so the shared infrastructure is never touched): every service's `/ready` turns 503 and
 * its gRPC health NOT_SERVING while a dependency is away, and both come back by themselves;
 * liveness (`/health`, the gRPC `liveness` key) answers OK at every observation throughout.
 */
describe('e2e: readiness and gRPC health follow Kafka and FerretDB; liveness never does', () => {
  let infra: PrivateInfra;
  let system: RunningSystem;
  const observations: Observation[] = [];

  const address = (svc: (typeof GRPC_SERVICES)[number]) =>
    ({ connector: system.connectorAddress, roster: system.rosterAddress, bookings: system.bookingsAddress })[
      svc
    ];
  const status = async (url: string) => {
    try {
      return (await fetch(url, { signal: AbortSignal.timeout(5_000) })).status;
    } catch {
      return 0;
    }
  };
  const observe = async (): Promise<Observation> => {
    const each = async <K extends string, V>(keys: readonly K[], f: (k: K) => Promise<V>) =>
      Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await f(k)] as const))) as Record<K, V>;
    const o: Observation = {
      ready: await each(SERVICES, (s) => status(`${system.opsUrls[s]}/ready`)),
      live: await each(SERVICES, (s) => status(`${system.opsUrls[s]}/health`)),
      grpcOverall: await each(GRPC_SERVICES, (s) => grpcHealthStatus(address(s), '')),
      grpcLiveness: await each(GRPC_SERVICES, (s) => grpcHealthStatus(address(s), 'liveness')),
    };
    observations.push(o);
    return o;
  };
  /** Observes until `done` holds; the deadline only bounds a failing run. */
  const until = (what: string, done: (o: Observation) => boolean) =>
    readUntil(what, observe, done, {
      timeoutMs: 90_000,
      intervalMs: 250,
      detail: (last) => `last observation ${JSON.stringify(last)}\n${system.logs()}\n(${infra.logDir()})`,
    });
  const readyFlags = (o: Observation, services: readonly Service[]) => services.map((s) => o.ready[s]);
  const grpcFlags = (o: Observation, services: readonly Service[]) =>
    GRPC_SERVICES.filter((s) => services.includes(s)).map((s) => o.grpcOverall[s]);
  const allUp = (o: Observation) =>
    SERVICES.every((s) => o.ready[s] === 200) && GRPC_SERVICES.every((s) => o.grpcOverall[s] === 'SERVING');

  beforeAll(async () => {
    infra = await PrivateInfra.up();
    const fast = { READINESS_INTERVAL_MS: '300ms', READINESS_TIMEOUT_MS: '2s' };
    system = await startSystem({
      infra,
      env: { connector: fast, roster: fast, bookings: fast, gateway: fast },
    });
  }, 300_000);

  afterAll(async () => {
    await infra?.restart().catch(() => undefined);
    await system?.stop();
    infra?.destroy();
  });

  it('is ready and SERVING with Kafka and FerretDB up', async () => {
    await until('all ready at start', allUp);
  });

  for (const server of ['kafka', 'ferretdb'] as const) {
    it(`turns not ready / NOT_SERVING with ${server} stopped, and back by itself when it returns`, async () => {
      const affected = DEPENDS_ON[server];
      await infra.stopServer(server);
      const down = await until(
        `not ready with ${server} stopped`,
        (o) =>
          readyFlags(o, affected).every((s) => s === 503) &&
          grpcFlags(o, affected).every((s) => s === 'NOT_SERVING'),
      );
      expect(readyFlags(down, affected)).toEqual(affected.map(() => 503));
      expect(grpcFlags(down, affected)).toEqual(grpcFlags(down, affected).map(() => 'NOT_SERVING'));
      // A service that does not use the stopped server stays ready (the gateway has no Kafka).
      for (const s of SERVICES.filter((x) => !(affected as readonly Service[]).includes(x)))
        expect(down.ready[s]).toBe(200);

      await infra.restart();
      const back = await until(`ready again after ${server} returned`, allUp);
      expect(readyFlags(back, SERVICES)).toEqual(SERVICES.map(() => 200));
    }, 300_000);
  }

  it('answered liveness OK at every observation, whatever Kafka and FerretDB did', () => {
    expect(observations.length).toBeGreaterThan(4);
    const failures = observations.filter(
      (o) =>
        SERVICES.some((s) => o.live[s] !== 200) || GRPC_SERVICES.some((s) => o.grpcLiveness[s] !== 'SERVING'),
    );
    expect(failures).toEqual([]);
  });
});
