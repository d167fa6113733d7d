import { z } from 'zod';
import { cloudEventEnvelopeSchema } from './cloud-event';
import type { EventRegistry } from './event-registry';
import { ENVELOPE_SCHEMA_VERSION, SCHEMA_BASE_URI } from './schema-uri';
import { ROSTER_ENTITY_TYPES } from './types/roster-change.events';
import { ROSTER_ENTITY_SCHEMA_VERSION, rosterEntitySchemas } from './types/roster-entities';

/** File name (inside `libs/events/schemas/`) of the envelope schema. */
export const ENVELOPE_SCHEMA_FILE = 'cloudevent-envelope.json';
/** Folder (inside `libs/events/schemas/`) of the roster entity image schemas, one file per entity type. */
export const ROSTER_ENTITY_SCHEMA_DIR = 'roster-entities';
/** Folder (inside `libs/events/schemas/`) of the released snapshot the compatibility check compares with. */
export const RELEASED_DIR = 'released';

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Stable JSON text: sorted keys, two-space indent, trailing newline. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

/**
 * The JSON Schema files for the envelope and the `data` of every registered type, as
 * `{ fileName: content }`. Deterministic, so committed files can be compared byte for byte.
 */
export function generateEventSchemaFiles(reg: EventRegistry): Record<string, string> {
  const files: Record<string, string> = {
    [ENVELOPE_SCHEMA_FILE]: stableJson({
      ...z.toJSONSchema(cloudEventEnvelopeSchema, { target: 'draft-2020-12' }),
      $id: `${SCHEMA_BASE_URI}cloudevent-envelope/${ENVELOPE_SCHEMA_VERSION}.json`,
      'x-schema-version': ENVELOPE_SCHEMA_VERSION,
    }),
  };
  for (const t of reg.types) {
    files[`${t.type}.json`] = stableJson({
      ...z.toJSONSchema(t.schema, { target: 'draft-2020-12' }),
      $id: t.dataschema,
      title: t.type,
      description: t.description,
      'x-cloudevents-source': t.source,
      'x-schema-version': t.schemaVersion,
    });
  }
  for (const entityType of ROSTER_ENTITY_TYPES) {
    // The image carries an `id` in its metadata, so zod puts it under `$defs` and refers to it: unwrap.
    const generated = z.toJSONSchema(rosterEntitySchemas[entityType], { target: 'draft-2020-12' });
    const { $defs, $ref, $schema } = generated;
    const body = $defs?.[String($ref).replace('#/$defs/', '')] ?? generated;
    files[`${ROSTER_ENTITY_SCHEMA_DIR}/${entityType}.json`] = stableJson({
      $schema,
      ...body,
      $id: `${SCHEMA_BASE_URI}${ROSTER_ENTITY_SCHEMA_DIR}/${entityType}/${ROSTER_ENTITY_SCHEMA_VERSION}.json`,
      'x-schema-version': ROSTER_ENTITY_SCHEMA_VERSION,
    });
  }
  return files;
}
