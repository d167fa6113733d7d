/**
 * Parses one bomb (or a generated normal school document) with the streaming parser and prints
 * one JSON line: the error code it ended with (or `ok`), records seen, peak RSS and heap. Run as a
 * child process, usually with a small `--max-old-space-size`, by hostile-documents-memory.test.ts
 * and bench/hostile-documents.bench.ts:
 *
 *   node --max-old-space-size=96 --import tsx libs/isams/test/support/parse-in-child.ts rows-xml
 *   node … parse-in-child.ts school-xml <file>
 */
import { createReadStream } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { streamBatchDocument } from '../../src/parser/stream-batch-document';
import { BOMBS, bomb } from './bombs';
import type { BombName } from './bombs';

const [name, file] = process.argv.slice(2) as [string, string | undefined];
let peakHeap = 0;
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
}, 5);
let records = 0;
let outcome = 'ok';
try {
  const isSchool = name === 'school-xml' || name === 'school-json';
  const format = isSchool ? (name === 'school-json' ? 'json' : 'xml') : BOMBS[name as BombName].format;
  const input = isSchool ? createReadStream(file!, { highWaterMark: 64 * 1024 }) : bomb(name as BombName);
  // The connector's own use: no limits given, so the defaults apply.
  for await (const e of streamBatchDocument(input, { format })) {
    if (e.type === 'record') records++;
    peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
  }
} catch (err) {
  outcome = (err as { code?: string }).code ?? String(err);
}
clearInterval(sampler);
const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
process.stdout.write(
  JSON.stringify({
    name,
    outcome,
    records,
    peakRssMb: mb(process.resourceUsage().maxRSS * 1024),
    peakHeapMb: mb(peakHeap),
  }) + '\n',
);
