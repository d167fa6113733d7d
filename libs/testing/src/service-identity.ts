import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServiceKeyring, writeServiceKeys } from '@isams-sync/grpc';
import type { ClientIdentity } from '@isams-sync/grpc';

let dir: string | undefined;

/**
 * A directory of fresh service-identity keys for every pair of `SERVICE_CALLS`, made once per test
 * process and removed when it exits: pass it as `GRPC_IDENTITY_DIR` to the services under test.
 */
export function testServiceIdentityDir(): string {
  if (dir === undefined) {
    const made = writeServiceKeys(mkdtempSync(join(tmpdir(), 'isams-sync-identity-')));
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    dir = made;
  }
  return dir;
}

/** The identity a test client calls `audience` with, as `as` (default `gateway`), from `keyDir`. */
export function testClientIdentity(
  audience: string,
  as = 'gateway',
  keyDir = testServiceIdentityDir(),
): ClientIdentity {
  return { keyring: loadServiceKeyring(keyDir, as), audience };
}
