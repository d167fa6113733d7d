import { z } from 'zod';
import { cloudEventEnvelopeSchema } from './cloud-event';
import type { EventRegistry } from './event-registry';

/** File name (inside `libs/events/schemas/`) of the envelope schema. */
export const ENVELOPE_SCHEMA_FILE = 'cloudevent-envelope.json';

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
      $id: ENVELOPE_SCHEMA_FILE,
      ...z.toJSONSchema(cloudEventEnvelopeSchema, { target: 'draft-2020-12' }),
    }),
  };
  for (const t of reg.types) {
    files[`${t.type}.json`] = stableJson({
      ...z.toJSONSchema(t.schema, { target: 'draft-2020-12' }),
      $id: `${t.type}.json`,
      title: t.type,
      description: t.description,
      'x-cloudevents-source': t.source,
    });
  }
  return files;
}
