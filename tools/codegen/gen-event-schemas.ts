// Writes one JSON Schema per registered event type (plus the envelope) into libs/events/schemas/,
// generated from the zod schemas with zod's native z.toJSONSchema, and one per roster entity image
// (schemas/roster-entities/). Deterministic output; files of types no longer registered are removed
// (never those of the released snapshot, schemas/released/). Usage: npm run gen:schemas
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RELEASED_DIR, generateEventSchemaFiles, registry } from '@isams-sync/events';

const outDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../libs/events/schemas');

const files = generateEventSchemaFiles(registry);
mkdirSync(outDir, { recursive: true });
let written = 0;
for (const [name, content] of Object.entries(files)) {
  const path = join(outDir, name);
  mkdirSync(dirname(path), { recursive: true });
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== content) {
    writeFileSync(path, content);
    written += 1;
    console.log(`wrote ${path}`);
  }
}
for (const name of readdirSync(outDir, { recursive: true, encoding: 'utf8' })) {
  if (name.startsWith(`${RELEASED_DIR}/`)) continue; // the released snapshot is not generated
  if (name.endsWith('.json') && !(name in files)) {
    rmSync(join(outDir, name));
    console.log(`removed stale ${join(outDir, name)}`);
  }
}
console.log(`event schemas: ${Object.keys(files).length} files, ${written} changed`);
