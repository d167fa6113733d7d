import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_SCHEMA_FILE,
  PUBLISHED_TOPICS,
  ROSTER_CHANGES,
  deterministicEventId,
  registry,
  rosterEntityStateV1,
} from '../src/index';

/**
 * docs/events.md lets a team subscribe from the document alone: every JSON example in it is a
 * complete event that validates against the published JSON Schemas (envelope and data, with ajv, as
 * another team would) and the package's own parser, names its schema in `dataschema`, and the
 * examples cover every event type of the public topics (one per change for roster.changes.v1).
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const doc = readFileSync(join(import.meta.dirname, '../../../docs/events.md'), 'utf8');
const schemaDir = join(import.meta.dirname, '../schemas');
const examples = [...doc.matchAll(/```json\n([^]*?)\n```/g)].map((m) => JSON.parse(m[1]!) as Json);

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
ajv.addVocabulary(['x-schema-version', 'x-cloudevents-source']);
const schemaFile = (file: string) => JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as Json;
const validate = (file: string, value: unknown): string => {
  const v = ajv.getSchema(schemaFile(file).$id as string) ?? ajv.compile(schemaFile(file));
  return v(value) ? '' : ajv.errorsText(v.errors);
};

describe('docs/events.md example messages', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
  });

  it('every example validates against the envelope and its type schema, and parses with the package', () => {
    for (const e of examples) {
      expect(validate(ENVELOPE_SCHEMA_FILE, e), e.type).toBe('');
      expect(validate(`${e.type}.json`, e.data), e.type).toBe('');
      expect(e.dataschema).toBe(schemaFile(`${e.type}.json`).$id);
      expect(e.dataschema).toBe(registry.get(e.type)!.dataschema);
      expect(registry.parse(e).data).toEqual(e.data);
    }
  });

  it('covers every bookings, state and directory type and every roster change, with real deterministic ids', () => {
    const types = new Set(examples.map((e) => e.type as string));
    for (const topic of ['bookings.events.v1', 'roster.changes.directory.v1', 'roster.state.directory.v1'])
      for (const t of PUBLISHED_TOPICS[topic]!.types) expect(types).toContain(t.type);
    expect(types).toContain(rosterEntityStateV1.type);
    for (const change of ROSTER_CHANGES)
      expect(
        [...types].some(
          (t) => t.startsWith('com.schoolcloud.isams-sync.roster.') && t.endsWith(`.${change}.v1`),
        ),
        change,
      ).toBe(true);
    const pupilAdded = examples.find((e) => e.type.endsWith('roster.pupil.added.v1'))!;
    expect(pupilAdded.id).toBe(
      deterministicEventId(
        pupilAdded.type,
        pupilAdded.tenantid,
        pupilAdded.data.syncRunId,
        'pupil',
        pupilAdded.data.entityId,
      ),
    );
  });

  it('an example with a wrong field fails, so the check is real', () => {
    const e = structuredClone(examples.find((x) => x.type.endsWith('roster.pupil.added.v1'))!);
    e.data.after.dob = 10;
    expect(validate(`${e.type}.json`, e.data)).toMatch(/dob/);
    expect(() => registry.parse(e)).toThrow(/EVENT_DATA_INVALID|after\.dob/);
  });
});
