/**
 * Test-only entry: the connector in its own process, so a test can SIGKILL it. With
 * CONNECTOR_TEST_CRASH_AT=<step> it kills itself (SIGKILL, no clean-up) when a run reaches that step.
 */
import { createConnectorApp } from '../../src/app';
import { loadConnectorConfig } from '../../src/config';

const crashAt = process.env.CONNECTOR_TEST_CRASH_AT;
const app = createConnectorApp(loadConnectorConfig(), {
  ...(process.env.CONNECTOR_TEST_OWNER ? { owner: process.env.CONNECTOR_TEST_OWNER } : {}),
  onStep: (step) => {
    if (step === crashAt) process.kill(process.pid, 'SIGKILL');
  },
});
await app.start();
process.stdout.write(`READY ${app.grpcPort}\n`);
