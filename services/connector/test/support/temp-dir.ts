import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/**
 * Registers `beforeEach`/`afterEach` of the calling describe block: every test gets a fresh
 * temporary directory (`path`, named after `prefix`), removed with its contents after the test.
 */
export function useTempDir(prefix: string): { readonly path: string } {
  const dir = { path: '' };
  beforeEach(async () => {
    dir.path = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await rm(dir.path, { recursive: true, force: true });
  });
  return dir;
}
