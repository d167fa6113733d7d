import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_SCHEMA_FILE,
  ROSTER_ENTITY_SCHEMA_DIR,
  ROSTER_ENTITY_TYPES,
  generateEventSchemaFiles,
  registry,
  stableJson,
} from '../src/index';

const schemaDir = join(import.meta.dirname, '../schemas');

describe('committed JSON Schemas', () => {
  const generated = generateEventSchemaFiles(registry);

  it('has one file per registered type, the envelope and one per roster entity image, and nothing else', () => {
    const expected = [
      ENVELOPE_SCHEMA_FILE,
      ...registry.types.map((t) => `${t.type}.json`),
      ...ROSTER_ENTITY_TYPES.map((t) => `${ROSTER_ENTITY_SCHEMA_DIR}/${t}.json`),
    ].sort();
    expect(Object.keys(generated).sort()).toEqual(expected);
    const committed = [
      ...readdirSync(schemaDir).filter((f) => f.endsWith('.json')),
      ...readdirSync(join(schemaDir, ROSTER_ENTITY_SCHEMA_DIR)).map(
        (f) => `${ROSTER_ENTITY_SCHEMA_DIR}/${f}`,
      ),
    ];
    expect(committed.sort()).toEqual(expected);
  });

  it('give every event type its versioned dataschema URI as $id', () => {
    for (const t of registry.types) {
      const schema = JSON.parse(generated[`${t.type}.json`]!) as Record<string, unknown>;
      expect(schema.$id).toBe(
        `https://schemas.schoolcloud.example/isams-sync/${t.type}/${t.schemaVersion}.json`,
      );
      expect(schema['x-schema-version']).toBe(t.schemaVersion);
    }
  });

  it('type the images of every roster change and state event by entity type', () => {
    const pupilUpdated = JSON.parse(generated['com.schoolcloud.isams-sync.roster.pupil.updated.v1.json']!);
    expect(pupilUpdated.properties.before).toEqual({ $ref: '#/$defs/roster-entity-pupil' });
    expect(pupilUpdated.properties.entityType).toEqual({ const: 'pupil', type: 'string' });
    const state = JSON.parse(generated['com.schoolcloud.isams-sync.roster.entity-state.v1.json']!);
    expect(state.oneOf).toHaveLength(ROSTER_ENTITY_TYPES.length);
    expect(Object.keys(state.$defs).sort()).toEqual(
      ROSTER_ENTITY_TYPES.map((t) => `roster-entity-${t}`).sort(),
    );
  });

  it('equal what generation produces now (run `npm run gen:schemas` when this fails)', () => {
    for (const [name, content] of Object.entries(generated)) {
      expect(readFileSync(join(schemaDir, name), 'utf8'), name).toBe(content);
    }
  });

  it('are deterministic', () => {
    expect(generateEventSchemaFiles(registry)).toEqual(generated);
    expect(stableJson({ b: 1, a: { d: 2, c: [{ f: 1, e: 2 }] } })).toBe(
      '{\n  "a": {\n    "c": [\n      {\n        "e": 2,\n        "f": 1\n      }\n    ],\n    "d": 2\n  },\n  "b": 1\n}\n',
    );
  });
});
