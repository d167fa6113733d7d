import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The CI step `npm run check:contracts` against a copy of the released snapshot: unchanged it
 * passes; when the released copy has a field the generated schemas no longer have (a field removed
 * since the release), it fails and names the field.
 */
const root = resolve(import.meta.dirname, '../..');
const releasedDir = join(root, 'libs/events/schemas/released');
const work = mkdtempSync(join(tmpdir(), 'check-contracts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (dir: string) =>
  spawnSync('npx', ['tsx', 'tools/codegen/check-contracts.ts', '--released-dir', dir], {
    cwd: root,
    encoding: 'utf8',
  });

describe('check:contracts (CLI)', () => {
  it('passes against an unchanged copy of the released snapshot', () => {
    const dir = join(work, 'same');
    cpSync(releasedDir, dir, { recursive: true });
    const r = run(dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\d+ schemas compatible with the released 1\.0\.0/);
  });

  it('fails when a released field is gone from the generated schemas', () => {
    const dir = join(work, 'removed');
    cpSync(releasedDir, dir, { recursive: true });
    const file = join(dir, 'roster-entities/staff.json');
    const schema = JSON.parse(readFileSync(file, 'utf8')) as { properties: Record<string, unknown> };
    schema.properties.homePhone = { type: 'string' };
    writeFileSync(file, JSON.stringify(schema));
    const r = run(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /roster-entities\/staff\.json: breaking change without a new major version[^]*homePhone: property removed/,
    );
  });
});
