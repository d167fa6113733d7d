import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startServiceProcess, type ServiceProcess } from '@isams-sync/testing';

describe('startServiceProcess', () => {
  const started: ServiceProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
  });

  it('starts the simulator as a real process, survives kill -9 and restarts', async () => {
    const port = await freePort();
    const sim = await startServiceProcess({
      name: 'sim-process-test',
      entry: 'services/isams-simulator/src/main.ts',
      env: { SIM_PORT: String(port), SIM_SEED_SCHOOLS: 'proc:7:small', LOG_LEVEL: 'warn' },
      ready: { url: `http://127.0.0.1:${port}/admin/schools` },
    });
    started.push(sim);
    const firstPid = sim.pid();
    expect(firstPid).toBeGreaterThan(0);
    const schools = (await (await fetch(`http://127.0.0.1:${port}/admin/schools`)).json()) as {
      schools: unknown[];
    };
    expect(schools.schools).toHaveLength(1);

    await sim.kill9();
    await expect(fetch(`http://127.0.0.1:${port}/admin/schools`)).rejects.toThrow();

    await sim.restart();
    expect(sim.pid()).not.toBe(firstPid);
    const again = await fetch(`http://127.0.0.1:${port}/admin/schools`);
    expect(again.status).toBe(200);
  });

  it('fails with the log path when the process dies before it is ready', async () => {
    await expect(
      startServiceProcess({
        name: 'bad-config-test',
        entry: 'services/isams-simulator/src/main.ts',
        env: { SIM_PORT: 'not-a-port' },
        ready: { url: 'http://127.0.0.1:1/never', timeoutMs: 30_000 },
      }),
    ).rejects.toThrow(/exited .* before it was ready; see .*bad-config-test\.log/);
  });
});
