// Writes one JSON Schema per registered event type (plus the envelope) into libs/events/schemas/,
// generated from the zod schemas with zod's native z.toJSONSchema. Deterministic output; files of
// types no longer registered are removed. Usage: npm run gen:schemas
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateEventSchemaFiles, registry } from '@isams-sync/events';

const outDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../libs/events/schemas');

const files = generateEventSchemaFiles(registry);
mkdirSync(outDir, { recursive: true });
let written = 0;
for (const [name, content] of Object.entries(files)) {
  const path = join(outDir, name);
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
for (const name of readdirSync(outDir)) {
  if (name.endsWith('.json') && !(name in files)) {
    rmSync(join(outDir, name));
    console.log(`removed stale ${join(outDir, name)}`);
  }
}
console.log(`event schemas: ${Object.keys(files).length} files, ${written} changed`);
