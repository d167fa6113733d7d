import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONTRACTS_VERSION,
  breakingChanges,
  checkContracts,
  generateEventSchemaFiles,
  registry,
} from '../src/index';
import type { ContractsRelease } from '../src/index';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const releasedDir = join(import.meta.dirname, '../schemas/released');
const PUPIL_UPDATED = 'com.schoolcloud.isams-sync.roster.pupil.updated.v1.json';
const STATE = 'com.schoolcloud.isams-sync.roster.entity-state.v1.json';
const CANCELLED = 'com.schoolcloud.isams-sync.bookings.booking.cancelled.v1.json';

/** The committed released snapshot, as the CI check reads it. */
function released(): ContractsRelease {
  const manifest = JSON.parse(readFileSync(join(releasedDir, 'manifest.json'), 'utf8')) as Json;
  const files: Record<string, Json> = {};
  for (const f of readdirSync(releasedDir, { recursive: true, encoding: 'utf8' }))
    if (f.endsWith('.json') && f !== 'manifest.json')
      files[f] = JSON.parse(readFileSync(join(releasedDir, f), 'utf8')) as Json;
  return { packageVersion: manifest.packageVersion as string, files };
}

/** The contracts as generated now (a deep copy the test may change). */
/** `1.0.3` → `1.1.0`. */
function minorAfter(version: string): string {
  const [major, minor] = version.split('.').map(Number);
  return `${major}.${minor! + 1}.0`;
}

function current(): { packageVersion: string; files: Record<string, Json> } {
  const files = Object.fromEntries(
    Object.entries(generateEventSchemaFiles(registry)).map(([f, t]) => [f, JSON.parse(t) as Json]),
  );
  return { packageVersion: CONTRACTS_VERSION, files };
}

const bump = (s: Json, version: string): void => {
  s['x-schema-version'] = version;
};

describe('contracts compatibility check', () => {
  it('the committed contracts are compatible with the released snapshot', () => {
    expect(checkContracts(released(), current())).toEqual([]);
  });

  it('fails when a field is removed from an entity image, even with a minor bump', () => {
    const c = current();
    delete c.files[PUPIL_UPDATED]!.$defs['roster-entity-pupil'].properties.forename;
    const problems = checkContracts(released(), c);
    expect(problems.join('\n')).toMatch(
      new RegExp(
        `${PUPIL_UPDATED.replaceAll('.', '\\.')}: breaking change[^]*(before|after)\\.forename: property removed`,
      ),
    );
    bump(c.files[PUPIL_UPDATED]!, '1.1.0');
    c.packageVersion = '1.1.0';
    expect(checkContracts(released(), c).join('\n')).toMatch(/(before|after)\.forename: property removed/);
  });

  it('fails on a narrowed type, a newly required field, a removed enum value and a removed oneOf branch', () => {
    const c = current();
    const booking = c.files[CANCELLED]!;
    booking.properties.reason.enum = booking.properties.reason.enum.slice(1);
    const pupil = c.files[PUPIL_UPDATED]!;
    pupil.$defs['roster-entity-pupil'].properties.dob.type = 'integer';
    pupil.$defs['roster-entity-pupil'].required.push('surname');
    c.files[STATE]!.oneOf = c.files[STATE]!.oneOf.filter(
      (b: Json) => b.properties.entityType.const !== 'contact',
    );
    const text = checkContracts(released(), c).join('\n');
    expect(text).toMatch(/reason: enum value removed \(roster_removal\)/);
    expect(text).toMatch(/(before|after)\.dob: type narrowed \(no longer string\)/);
    expect(text).toMatch(/(before|after)\.surname: newly required/);
    expect(text).toMatch(/oneOf branch entityType="contact" removed/);
  });

  it('an additive change needs a schema minor and a package minor, and then passes', () => {
    // From the released package version (the working tree may already carry a bumped one).
    const c = { ...current(), packageVersion: released().packageVersion };
    c.files[PUPIL_UPDATED]!.$defs['roster-entity-pupil'].properties.nickname = { type: 'string' };
    expect(checkContracts(released(), c).join('\n')).toMatch(/changed without a new version/);
    bump(c.files[PUPIL_UPDATED]!, '1.1.0');
    expect(checkContracts(released(), c).join('\n')).toMatch(/bump the package minor/);
    c.packageVersion = minorAfter(released().packageVersion);
    expect(checkContracts(released(), c)).toEqual([]);
  });

  it('a removed event type needs a package major', () => {
    const c = current();
    delete c.files[CANCELLED];
    expect(checkContracts(released(), c).join('\n')).toMatch(/released and now gone/);
    c.packageVersion = '2.0.0';
    expect(checkContracts(released(), c)).toEqual([]);
  });

  it('breakingChanges: tightened constraints and a closed object are breaking; added optional fields are not', () => {
    const r = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: {} };
    expect(
      breakingChanges(r, { ...r, properties: { a: { type: 'string' }, b: { type: 'number' } } }),
    ).toEqual([]);
    expect(breakingChanges(r, { ...r, properties: { a: { type: 'string', minLength: 2 } } })).toEqual([
      'a: minLength tightened',
    ]);
    expect(breakingChanges(r, { ...r, properties: { a: { type: 'string', pattern: '^x' } } })).toEqual([
      'a: pattern added or changed',
    ]);
    expect(breakingChanges(r, { ...r, additionalProperties: false })).toEqual([
      '(root): additional properties no longer allowed',
    ]);
    expect(breakingChanges({ ...r, required: ['a'] }, r)).toEqual(['a: no longer required']);
  });
});
