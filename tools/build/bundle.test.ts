import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleTargetError, bundle, entryOf, workerEntriesOf } from './bundle';

const outRoot = mkdtempSync(join(tmpdir(), 'bundle-test-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

const runNode = (file: string, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [file], {
    cwd: outRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('bundle', () => {
  it('fails with a clear message for a service that does not exist yet', () => {
    expect(() => entryOf('no-such-service')).toThrow(BundleTargetError);
    expect(() => entryOf('no-such-service')).toThrow(
      /no entry for "no-such-service": services\/no-such-service\/src\/main\.ts does not exist\. Bundleable targets: .*create-topics/,
    );
    expect(() => entryOf('../etc')).toThrow(/invalid target name/);
  });

  it('the CLI exits 1 and names the missing entry', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, 'bundle.ts'), 'no-such-service', '--out-dir', outRoot],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('services/no-such-service/src/main.ts does not exist');
  });

  it('produces an ESM bundle whose __dirname readers find their .proto files, and keeps optional deps external', async () => {
    const result = await bundle({
      target: 'grpc-assets',
      outRoot,
      entry: resolve(import.meta.dirname, 'fixtures/grpc-assets-entry.ts'),
    });
    expect(result.outFile).toBe(join(outRoot, 'grpc-assets', 'main.js'));
    expect(result.copiedAssets).toEqual(
      expect.arrayContaining([
        join('node_modules', 'grpc-health-check', 'proto'),
        join('node_modules', '@grpc/reflection', 'build/proto'),
      ]),
    );
    const code = readFileSync(result.outFile, 'utf8');
    // External: loaded at run time through the require shim (inside the driver's try/catch), not inlined.
    expect(code).toMatch(/\w\("kerberos"\)/);
    const run = runNode(result.outFile);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ health: 'function', reflection: 'function', mongo: 'function' });
  });

  it('bundles the topic hook script, which validates its environment', async () => {
    const result = await bundle({ target: 'create-topics', outRoot });
    expect(existsSync(result.outFile)).toBe(true);
    // A tool's folder (tools/build) holds test fixtures, workers among them: none travels with it.
    expect(result.workerFiles).toEqual([]);
    const noBrokers = runNode(result.outFile);
    expect(noBrokers.status).toBe(1);
    expect(noBrokers.stderr).toContain('KAFKA_BROKERS: required');
    const saslWithoutCredentials = runNode(result.outFile, {
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
    });
    expect(saslWithoutCredentials.status).toBe(1);
    expect(saslWithoutCredentials.stderr).toContain('KAFKA_SASL_USERNAME: required');
    expect(saslWithoutCredentials.stderr).toContain('KAFKA_SASL_PASSWORD: required');
  });

  it('bundles a worker thread’s module beside main.js, where the code that starts it finds it', async () => {
    const entry = resolve(import.meta.dirname, 'fixtures/worker-entry/main.ts');
    expect(workerEntriesOf(entry)).toEqual([
      resolve(import.meta.dirname, 'fixtures/worker-entry/lib/echo.worker.ts'),
    ]);
    const result = await bundle({ target: 'worker-entry', outRoot, entry });
    expect(result.workerFiles).toEqual([join(outRoot, 'worker-entry', 'echo.worker.js')]);
    const run = runNode(result.outFile);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^hello from the worker \(reader \d+\)$/);
  });
});
