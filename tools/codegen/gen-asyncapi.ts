// Writes the AsyncAPI 3.0 document of every topic isams-sync publishes to
// libs/events/asyncapi/asyncapi.json, generated from the event registry and TOPICS (the same source as
// the JSON Schemas it refers to). Deterministic. Usage: npm run gen:asyncapi
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ASYNCAPI_FILE, TOPICS, asyncApiText, registry } from '@isams-sync/events';

const path = resolve(import.meta.dirname, '../../libs/events', ASYNCAPI_FILE);
const text = asyncApiText(registry, TOPICS);
let current: string | undefined;
try {
  current = readFileSync(path, 'utf8');
} catch {
  current = undefined;
}
mkdirSync(join(path, '..'), { recursive: true });
if (current !== text) writeFileSync(path, text);
console.log(`asyncapi: ${path} ${current === text ? 'unchanged' : 'written'}`);
