import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_SCHEMA_FILE,
  ROSTER_ENTITY_SCHEMA_DIR,
  ROSTER_ENTITY_TYPES,
  rosterChangeEventTypes,
  rosterEntitySchemas,
  rosterEntityStateV1,
} from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import { normalise } from '../../src/domain/normalise';
import type { RawSnapshot } from '../../src/domain/normalise';
import { el, smallSchool, staff } from '../support/raw';
import { generatedSchool } from '../support/school-feed';

/**
 * Issue #19: the published JSON Schemas (the committed files other teams use) describe every entity
 * image the roster's real normaliser produces — run over the simulator's generated schools and the
 * hand-made small school. Validated against the *closed* variant of each schema (no property the
 * schema does not declare), so a field added to the normaliser without its schema fails here, even
 * though the published images are open for consumers.
 */
const schemaDir = resolve(import.meta.dirname, '../../../../libs/events/schemas');
const readSchema = (file: string) =>
  JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as Record<string, unknown>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Every object schema with `properties` made closed (`additionalProperties: false`). */
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (node === null || typeof node !== 'object') return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, closed(v)]));
  if ('properties' in out) out.additionalProperties = false;
  return out;
}

const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
ajv.addVocabulary(['x-schema-version', 'x-cloudevents-source']);
const compiled = new Map<string, ValidateFunction>();
function validator(file: string, close: boolean): ValidateFunction {
  const key = `${file}|${close}`;
  let v = compiled.get(key);
  if (v === undefined) {
    const schema = readSchema(file);
    v = ajv.compile(close ? { ...(closed(schema) as object), $id: `${String(schema.$id)}?closed` } : schema);
    compiled.set(key, v);
  }
  return v;
}
/** `v(data)` as a plain boolean (ajv's type guard would narrow `data` to never on failure). */
const valid = (v: ValidateFunction, data: unknown): boolean => v(data);
const errorsOf = (v: ValidateFunction) => ajv.errorsText(v.errors, { separator: '\n' });

const asOf = new Date('2026-01-10T00:00:00Z');
type Datasets = RawSnapshot['datasets'];

let loaded: Promise<Array<[string, Datasets]>> | undefined;
const schools = (): Promise<Array<[string, Datasets]>> => (loaded ??= loadSchools());
async function loadSchools(): Promise<Array<[string, Datasets]>> {
  // The small school plus a leaver with a school mobile (fields the generator never fills).
  const small = smallSchool();
  small.currentStaff!.push(
    staff('77', 'UC77', [el('SchoolMobileNumber', {}, '07700 900077'), el('LeavingDate', {}, '2026-07-31')]),
  );
  const out: Array<[string, Datasets]> = [['hand-made small school', small as Datasets]];
  for (const seed of [1, 7, 42])
    out.push([`simulator seed ${seed} small`, await generatedSchool(seed, 'small')]);
  out.push(['simulator seed 3 medium', await generatedSchool(3, 'medium')]);
  return out;
}

describe('entity image schemas against the real normaliser', () => {
  it('every image of every simulator school validates against its closed schema (all 15 types seen)', async () => {
    const seen = new Map<RosterEntityType, number>();
    const fieldsSeen = new Map<RosterEntityType, Set<string>>();
    for (const [name, datasets] of await schools()) {
      const { entities } = normalise({ datasets, asOf });
      for (const type of ROSTER_ENTITY_TYPES) {
        const validate = validator(`${ROSTER_ENTITY_SCHEMA_DIR}/${type}.json`, true);
        for (const image of entities[type].values()) {
          if (!valid(validate, image)) expect.fail(`${name} ${type} ${image.id}: ${errorsOf(validate)}`);
          // The zod schema the events library validates with agrees.
          expect(rosterEntitySchemas[type].safeParse(image).success, `${name} ${type} ${image.id}`).toBe(
            true,
          );
          for (const v of Object.values(image)) expect(v).not.toBeNull();
          seen.set(type, (seen.get(type) ?? 0) + 1);
          const f = fieldsSeen.get(type) ?? new Set<string>();
          for (const k of Object.keys(image)) f.add(k);
          fieldsSeen.set(type, f);
        }
      }
    }
    expect([...seen.keys()].sort()).toEqual([...ROSTER_ENTITY_TYPES].sort());
    // The generated schools exercise most of each schema: every declared property of the people
    // types appears in at least one image (catches a schema field the normaliser never produces).
    for (const type of ['staff', 'pupil', 'contact'] as const) {
      const declared = Object.keys(rosterEntitySchemas[type].shape);
      const missing = declared.filter((k) => !fieldsSeen.get(type)!.has(k));
      expect(missing, `${type} fields never produced`).toEqual([]);
    }
  });

  it('the change and state events built from those images validate against their published schemas, with dataschema = $id', async () => {
    const [, datasets] = (await schools())[1]!;
    const { entities } = normalise({ datasets, asOf });
    const envelope = validator(ENVELOPE_SCHEMA_FILE, false);
    for (const type of ROSTER_ENTITY_TYPES) {
      const image = entities[type].values().next().value!;
      const updated = rosterChangeEventTypes[type].updated;
      const change = updated.create({
        tenantId: 'school-1',
        idParts: ['run-1', type, image.id],
        subject: `${type}/${image.id}`,
        syncRunId: 'run-1',
        data: {
          syncRunId: 'run-1',
          entityType: type,
          entityId: image.id,
          change: 'updated',
          before: image,
          after: image,
          changedFields: [],
        },
      });
      const state = rosterEntityStateV1.create({
        tenantId: 'school-1',
        idParts: ['run-1', 'sync', type, image.id],
        subject: `${type}/${image.id}`,
        data: {
          entityType: type,
          entityId: image.id,
          status: 'active',
          data: image,
          lastChangeId: 'run-1#1',
        },
      });
      for (const event of [change, state]) {
        if (!valid(envelope, event)) expect.fail(`${event.type} envelope: ${errorsOf(envelope)}`);
        const file = `${event.type}.json`;
        expect(event.dataschema).toBe(readSchema(file).$id);
        const validate = validator(file, true);
        if (!valid(validate, event.data)) expect.fail(`${event.type}: ${errorsOf(validate)}`);
      }
    }
  });

  it('the schemas reject what the roster never produces: null fields, a wrong type, an image of another entity type', () => {
    const pupil = validator(`${ROSTER_ENTITY_SCHEMA_DIR}/pupil.json`, false);
    expect(pupil({ id: '100', forename: 'Ada' })).toBe(true);
    expect(pupil({ id: '100', forename: null })).toBe(false);
    expect(pupil({ id: '100', dob: 'yesterday' })).toBe(false);
    expect(pupil({ forename: 'Ada' })).toBe(false);
    // Open for consumers: an unknown field passes the published schema (not the closed one).
    expect(pupil({ id: '100', nickname: 'A' })).toBe(true);
    expect(validator(`${ROSTER_ENTITY_SCHEMA_DIR}/pupil.json`, true)({ id: '100', nickname: 'A' })).toBe(
      false,
    );
    const state = validator('com.schoolcloud.isams-sync.roster.entity-state.v1.json', false);
    const base = { entityId: '1', status: 'active', lastChangeId: 'r#1' };
    expect(state({ ...base, entityType: 'staff', data: { id: '1', teaching: true } })).toBe(true);
    expect(state({ ...base, entityType: 'staff', data: { id: '1', teaching: 'yes' } })).toBe(false);
    expect(state({ ...base, entityType: 'setMembership', data: { id: '1:2' } })).toBe(false);
    expect(
      state({ ...base, entityType: 'setMembership', data: { id: '1:2', setId: '1', pupilId: '2' } }),
    ).toBe(true);
  });
});
