/**
 * Test support for other projects' tests (`@isams-sync/isams/test-support`): real-shaped Batch API
 * documents to serve from test servers. Not part of the library's runtime API (src/index.ts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateLargeDocument } from '../../bench/generate-large-document';
import { fixture } from '../helpers';

/** The reference sample document (about 10 kB of XML: a few records of every dataset). */
export function referenceSampleDocument(): Buffer {
  return Buffer.from(fixture('reference-sample.xml'), 'utf8');
}

/**
 * A generated school document of about `approxBytes` (staff, pupils, contacts, sets and set lists
 * in the Batch API's shape) and its record count. Below about 6 MB of XML the school is scaled
 * down so that the document stays near the requested size.
 */
export async function generatedSchoolDocument(
  format: 'xml' | 'json',
  approxBytes: number,
): Promise<{ bytes: Buffer; records: number }> {
  const fullSchoolBytes = format === 'xml' ? 6_400_000 : 4_000_000;
  const scale = Math.min(1, (approxBytes * 0.8) / fullSchoolBytes);
  const dir = await mkdtemp(join(tmpdir(), 'isams-document-'));
  try {
    const path = join(dir, `school.${format}`);
    const records = await generateLargeDocument(path, format, approxBytes, scale);
    return { bytes: await readFile(path), records };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
