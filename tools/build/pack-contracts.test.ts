import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue #19: the contracts package is installable by another repository. Packs it
 * (`npm run pack:contracts`), installs the tarball into a fresh project outside the workspace (only
 * zod comes from the registry / npm cache), imports it, creates and validates an example event and
 * type-checks a consumer against the shipped declarations with `moduleResolution: nodenext`.
 */
const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'contracts-consumer-'));
const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8' });
let tarball = '';
let files: string[] = [];

beforeAll(() => {
  const out = run('npx', ['tsx', 'tools/build/pack-contracts.ts', '--out', join(work, 'pack')], root);
  tarball = out.trim().split('\n').at(-1)!;
  files = run('tar', ['-tzf', tarball], work).trim().split('\n');
  const project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  run(
    'npm',
    ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    project,
  );
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CONSUMER = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CONTRACTS_VERSION, registry, rosterChangeEventTypes } from '@isams-sync/events';

const pupilAdded = rosterChangeEventTypes.pupil.added;
const event = pupilAdded.create({
  tenantId: 'school-1',
  idParts: ['run-1', 'pupil', '100'],
  subject: 'pupil/100',
  syncRunId: 'run-1',
  time: '2026-01-10T08:00:00Z',
  data: {
    syncRunId: 'run-1',
    entityType: 'pupil',
    entityId: '100',
    change: 'added',
    after: { id: '100', forename: 'Ada', surname: 'Lovelace', dob: '2014-05-01', yearGroupId: '7' },
  },
});
const received = pupilAdded.parse(JSON.parse(JSON.stringify(event)));
const forename: unknown = received.data.after?.forename;
registry.parse(event);
const schemaFile = createRequire(import.meta.url).resolve(
  '@isams-sync/events/schemas/com.schoolcloud.isams-sync.roster.pupil.added.v1.json',
);
const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { $id: string };
let rejected = '';
try {
  pupilAdded.create({ ...event, idParts: ['x'], tenantId: 'school-1', data: { ...event.data, after: { id: '100', dob: 'soon' } } });
} catch (e) {
  rejected = (e as { code: string }).code;
}
console.log(JSON.stringify({ version: CONTRACTS_VERSION, dataschema: event.dataschema, schemaId: schema.$id, forename, rejected }));
`;

describe('contracts package (npm pack)', () => {
  it('ships compiled JS, declarations, schemas, the AsyncAPI document — no TypeScript sources, no released snapshot', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/index.js',
        'package/README.md',
        'package/types/libs/events/src/index.d.ts',
        'package/schemas/com.schoolcloud.isams-sync.roster.pupil.added.v1.json',
        'package/schemas/roster-entities/contact.json',
        'package/asyncapi/asyncapi.json',
      ]),
    );
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    // The released snapshot (libs/events/schemas/released/) stays in the repository; event types
    // may have the word in their names (booking.cancellation-released.v1).
    expect(files.filter((f) => f.startsWith('package/schemas/released/'))).toEqual([]);
    expect(files).toContain(
      'package/schemas/com.schoolcloud.isams-sync.bookings.booking.cancellation-released.v1.json',
    );
    expect(tarball).toMatch(/isams-sync-events-1\.\d+\.\d+\.tgz$/);
  });

  it('installs outside the workspace, imports, creates and validates an example event', () => {
    const project = join(work, 'consumer');
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
    const result = JSON.parse(run(process.execPath, ['consumer.ts'], project).trim()) as Record<
      string,
      string
    >;
    expect(result).toEqual({
      version: expect.stringMatching(/^1\.\d+\.\d+$/),
      dataschema:
        'https://schemas.schoolcloud.example/isams-sync/com.schoolcloud.isams-sync.roster.pupil.added.v1/1.0.0.json',
      schemaId:
        'https://schemas.schoolcloud.example/isams-sync/com.schoolcloud.isams-sync.roster.pupil.added.v1/1.0.0.json',
      forename: 'Ada',
      rejected: 'EVENT_DATA_INVALID',
    });
  });

  it('type-checks a consumer against the shipped declarations (nodenext, strict, lib check on)', () => {
    const project = join(work, 'consumer');
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    args.push(
      '--target',
      'es2022',
      '--allowImportingTsExtensions',
      '--typeRoots',
      join(root, 'node_modules/@types'),
    );
    args.push('--types', 'node', 'consumer.ts');
    let output = '';
    try {
      output = run(process.execPath, [tsc, ...args], project);
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(output).toBe('');
  });
});
