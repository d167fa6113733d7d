import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeServiceKeys } from '@isams-sync/grpc';
import { describe, expect, it } from 'vitest';
import { serviceBasics } from '../src';

const identityDir = () => writeServiceKeys(mkdtempSync(join(tmpdir(), 'shell-identity-')));

describe('serviceBasics', () => {
  it("makes the service's logger, identity and metrics, or uses the test's own logger", async () => {
    const config = { LOG_LEVEL: 'silent' as const, GRPC_IDENTITY_DIR: identityDir() };
    const made = serviceBasics(config, 'roster');
    expect(made.identity.self).toBe('roster');
    expect(made.identity.verifying.size).toBeGreaterThan(0);
    expect(made.logger.level).toBe('silent');
    made.metrics.counter({ name: 'shell_basics_total', help: 'test' }).inc();
    expect(await made.metrics.render()).toContain('service="roster"');
    const own = made.logger.child({});
    expect(serviceBasics(config, 'roster', own).logger).toBe(own);
  });

  it('refuses a service name that is not one (the identity would be nobody’s)', () => {
    const config = { LOG_LEVEL: 'silent' as const, GRPC_IDENTITY_DIR: identityDir() };
    expect(() => serviceBasics(config, 'Not A Service!')).toThrow();
  });
});
