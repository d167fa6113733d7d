import { describe, expect, it } from 'vitest';
import { DATASET_IDS } from '../src/datasets';
import type { BatchParseEvent } from '../src/parser/parse-events';
import { streamBatchDocument } from '../src/parser/stream-batch-document';
import { chunks, collect, errorOf } from './helpers';

/** The events read before the document failed, and its error (none when it read to its end). */
async function readWhole(
  json: string,
  size: number,
): Promise<{ events: BatchParseEvent[]; error: { code: string; message: string } | undefined }> {
  const events: BatchParseEvent[] = [];
  try {
    for await (const e of streamBatchDocument(chunks(json, size), { format: 'json' })) events.push(e);
  } catch (err) {
    return { events, error: err as { code: string; message: string } };
  }
  return { events, error: undefined };
}

const SIZES = [1, 7, 1_000_000];

describe('streamBatchDocument (JSON): the document must be an iSAMS Batch API document', () => {
  it.each([
    ['an empty object', '{}', 'no "iSAMS" object'],
    [
      'ASP.NET\'s error shape (a "Message" text)',
      '{"Message":"An error has occurred."}',
      '"Message" that is text',
    ],
    ['the same, any case', '{"message":"An error has occurred."}', '"Message" that is text'],
    ['an OAuth error', '{"error":"invalid_client"}', 'no "iSAMS" object'],
    ["a gateway's JSON error", '{"error":"Service Unavailable","status":503}', 'no "iSAMS" object'],
    ['"?xml" only', '{"?xml":{"@version":"1.0"}}', 'no "iSAMS" object'],
    [
      '"iSAMS" as an array',
      '{"iSAMS":[{"HRManager":{"CurrentStaff":{"StaffMember":{"@Id":"1"}}}}]}',
      '"iSAMS" is an array',
    ],
    ['"iSAMS" as text', '{"iSAMS":"x"}', '"iSAMS" is a single value'],
    ['"isams" as a number', '{"isams":12}', '"iSAMS" is a single value'],
    ['"iSAMS" as true', '{"iSAMS":true}', '"iSAMS" is a single value'],
  ])('refuses %s: ISAMS_MALFORMED_DOCUMENT, never `end`', async (_, json, reason) => {
    for (const size of SIZES) {
      const { events, error } = await readWhole(json, size);
      expect(error?.code).toBe('ISAMS_MALFORMED_DOCUMENT');
      expect(error?.message).toContain('The response is not an iSAMS Batch API document');
      expect(error?.message).toContain(reason);
      expect(events.map((e) => e.type)).not.toContain('end');
    }
  });

  it('reads an "iSAMS" object without modules as an empty document, as XML reads <iSAMS/>', async () => {
    for (const [json, xml] of [
      ['{"iSAMS":{}}', '<iSAMS/>'],
      ['{"?xml":{"@version":"1.0"},"iSAMS":{}}', '<?xml version="1.0"?><iSAMS></iSAMS>'],
      // Json.NET writes an empty element as null or "".
      ['{"iSAMS":null}', '<iSAMS/>'],
      ['{"iSAMS":""}', '<iSAMS></iSAMS>'],
    ] as const) {
      const end = { type: 'end', absent: [...DATASET_IDS], unknownContainers: [] };
      expect(await collect(json, 'json')).toEqual([{ ...end, bytes: json.length }]);
      expect(await collect(xml, 'xml')).toEqual([{ ...end, bytes: xml.length }]);
    }
  });

  it('keeps the other root keys of an iSAMS document ignored, a "Message" text among them', async () => {
    const json =
      '{"Message":"x","error":1,"iSAMS":{"HRManager":{"CurrentStaff":{"StaffMember":{"@Id":"1"}}}},"extra":[1]}';
    for (const size of SIZES) {
      const { events, error } = await readWhole(json, size);
      expect(error).toBeUndefined();
      expect(events.filter((e) => e.type === 'record')).toHaveLength(1);
      expect(events.at(-1)?.type).toBe('end');
    }
  });

  it('still classifies iSAMS\'s error message (a "Message" object), at the root or inside "iSAMS"', async () => {
    for (const json of [
      '{"Message":{"MessageId":"InvalidApiKey","Title":"Invalid API Key"}}',
      '{"message":{"MessageId":"InvalidApiKey"}}',
      '{"iSAMS":{"Message":{"MessageId":"InvalidApiKey"}}}',
      '{"?xml":{"@version":"1.0"},"Message":{"MessageId":"InvalidApiKey"}}',
    ]) {
      expect((await errorOf(collect(json, 'json'))).code).toBe('ISAMS_INVALID_KEY');
    }
  });

  it('still reports a truncated or malformed body as before', async () => {
    expect((await errorOf(collect('{"error":"invalid_client"', 'json'))).code).toBe(
      'ISAMS_TRUNCATED_DOCUMENT',
    );
    expect((await errorOf(collect('{"error" "x"}', 'json'))).code).toBe('ISAMS_MALFORMED_DOCUMENT');
    expect((await errorOf(collect('', 'json'))).code).toBe('ISAMS_TRUNCATED_DOCUMENT');
  });
});
