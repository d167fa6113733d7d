import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_SCHEMA_FILE, generateEventSchemaFiles, registry, stableJson } from '../src/index';

const schemaDir = join(import.meta.dirname, '../schemas');

describe('committed JSON Schemas', () => {
  const generated = generateEventSchemaFiles(registry);

  it('has one file per registered type plus the envelope, and nothing else', () => {
    const expected = [ENVELOPE_SCHEMA_FILE, ...registry.types.map((t) => `${t.type}.json`)].sort();
    expect(Object.keys(generated).sort()).toEqual(expected);
    expect(
      readdirSync(schemaDir)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(expected);
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
