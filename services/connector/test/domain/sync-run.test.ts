import { describe, expect, it } from 'vitest';
import type { RawElement } from '@isams-sync/isams';
import { CanonicalLines, canonicalRawJson } from '../../src/domain/canonical-json';
import { ChunkPlanner } from '../../src/domain/chunk-plan';
import { firstScheduledRun, nextScheduledRun, scheduleJitterMs } from '../../src/domain/schedule';
import { DEFAULT_PARSER_LIMITS } from '@isams-sync/isams';
import { isUnchanged, knownDocumentOf, readingOf } from '../../src/domain/sync-run';
import type { AppliedSnapshot } from '../../src/domain/sync-run';

describe('canonical JSON of raw records', () => {
  it('sorts attributes, keeps text and children in order, and round-trips as JSON', () => {
    const a = canonicalRawJson({
      name: 'Pupil',
      attributes: { b: '2', a: '1' },
      children: [{ name: 'Forename', attributes: {}, text: 'Ann "A"', children: [] }],
    });
    const b = canonicalRawJson({
      name: 'Pupil',
      attributes: { a: '1', b: '2' },
      children: [{ name: 'Forename', attributes: {}, text: 'Ann "A"', children: [] }],
    });
    expect(a).toBe(b);
    expect(JSON.parse(a)).toEqual({
      name: 'Pupil',
      attributes: { a: '1', b: '2' },
      children: [{ name: 'Forename', attributes: {}, text: 'Ann "A"', children: [] }],
    });
  });

  it('gives exactly the text fingerprints were computed over so far, also past the cache of encoded names', () => {
    // The encoding every stored fingerprint was made with: a change would make every school look
    // changed once (no "unchanged" skip), so the text must stay byte for byte the same.
    const reference = (raw: RawElement): string => {
      let out = `{"name":${JSON.stringify(raw.name)},"attributes":{`;
      const keys = Object.keys(raw.attributes).sort();
      for (let i = 0; i < keys.length; i++)
        out += `${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:${JSON.stringify(raw.attributes[keys[i]!])}`;
      out += '}';
      if (raw.text !== undefined) out += `,"text":${JSON.stringify(raw.text)}`;
      return `${out},"children":[${raw.children.map(reference).join(',')}]}`;
    };
    const odd = [
      'Pupil',
      'x:Name',
      'é_ü',
      'a\u2028b',
      'q"uote',
      'back\\slash',
      'ctl\u0001',
      '\ud83d\ude00',
      'lone\ud83d',
      'del\u007f~',
    ];
    const records: RawElement[] = [];
    for (let i = 0; i < 6_000; i++) {
      const name = `${odd[i % odd.length]}${i % 4 === 0 ? '' : i}`; // ~4,500 distinct names
      records.push({
        name,
        attributes: { [`k${i}`]: `v"${i}`, id: String(i), [odd[(i + 1) % odd.length]!]: '\n\t' },
        ...(i % 2 === 0 ? { text: `t ${odd[(i + 2) % odd.length]}` } : {}),
        children: [
          { name: odd[(i + 3) % odd.length]!, attributes: {}, children: [] },
          { name, attributes: { z: '', a: 'ä' }, text: '', children: [] },
        ],
      });
    }
    // Twice: the second pass reads the cached encodings (and the names past the limit again).
    for (let pass = 0; pass < 2; pass++)
      for (const r of records) expect(canonicalRawJson(r)).toBe(reference(r));
    // As the connector writes them: all lines in one UTF-8 block, each with its size.
    const writer = new CanonicalLines();
    const sizes = records.map((r) => writer.line(r));
    const block = writer.take();
    const expected = records.map((r) => `${reference(r)}\n`).join('');
    expect(Buffer.from(block).equals(Buffer.from(expected, 'utf8'))).toBe(true);
    expect(sizes).toEqual(records.map((r) => Buffer.byteLength(reference(r))));
    // The writer starts again empty; a block left unfinished is forgotten by `clear`.
    writer.line(records[0]!);
    writer.clear();
    expect(new TextDecoder().decode(writer.take())).toBe('');
  });

  it('a writer grows for a huge record and lets that buffer go once the block is taken', () => {
    const writer = new CanonicalLines();
    const huge: RawElement = {
      name: 'Note',
      attributes: {},
      text: 'x'.repeat(5 * 1024 * 1024),
      children: [],
    };
    const size = writer.line(huge);
    expect(size).toBe(5 * 1024 * 1024 + '{"name":"Note","attributes":{},"text":"","children":[]}'.length);
    expect(writer.capacity).toBeGreaterThan(5 * 1024 * 1024);
    expect(writer.take().length).toBe(size + 1);
    expect(writer.capacity).toBeLessThanOrEqual(4 * 1024 * 1024);
    // And it goes on writing whole lines.
    const small: RawElement = { name: 'Pupil', attributes: { Id: '1' }, children: [] };
    writer.line(small);
    expect(new TextDecoder().decode(writer.take())).toBe(`${canonicalRawJson(small)}\n`);
  });
});

describe('chunk planning', () => {
  it('closes a chunk before it would exceed the budget; an oversized record gets its own', () => {
    const p = new ChunkPlanner(100);
    for (const size of [40, 40, 40, 500, 10]) p.add(size);
    expect(p.finish()).toEqual([2, 1, 1, 1]);
  });
  it('an empty dataset is one chunk of zero records', () => {
    expect(new ChunkPlanner(100).finish()).toEqual([0]);
  });
});

describe('unchanged detection', () => {
  const fp = (c: string) => c.repeat(64);
  const last = {
    syncRunId: 'r1',
    fingerprints: { currentPupils: fp('a'), currentStaff: fp('b') },
    absent: ['contacts' as const],
  };
  it('needs the same fingerprints for the same datasets and the same absent set', () => {
    const same = [
      { datasetId: 'currentPupils' as const, fingerprint: fp('a') },
      { datasetId: 'currentStaff' as const, fingerprint: fp('b') },
    ];
    expect(isUnchanged(same, ['contacts'], last)).toBe(true);
    expect(isUnchanged(same, ['contacts'], null)).toBe(false);
    expect(isUnchanged(same, [], last)).toBe(false);
    expect(
      isUnchanged([same[0]!, { datasetId: 'currentStaff', fingerprint: fp('c') }], ['contacts'], last),
    ).toBe(false);
    expect(isUnchanged([same[0]!], ['contacts'], last)).toBe(false);
  });
});

describe('the reading a document summary is kept under', () => {
  const parts = {
    readerVersion: 1,
    canonicalVersion: 1,
    maxChunkBytes: 524_288,
    parserLimits: DEFAULT_PARSER_LIMITS,
  };

  it('changes with each part that decides what a fetch records of the same bytes', () => {
    const changed = [
      { ...parts, readerVersion: 2 },
      { ...parts, canonicalVersion: 2 },
      { ...parts, maxChunkBytes: 262_144 },
      { ...parts, parserLimits: { ...DEFAULT_PARSER_LIMITS, maxRecordBytes: 4096 } },
      { ...parts, parserLimits: { ...DEFAULT_PARSER_LIMITS, maxRecordsPerDocument: 10 } },
    ].map(readingOf);
    expect(new Set([readingOf(parts), ...changed]).size).toBe(6);
    expect(readingOf({ ...parts })).toBe(readingOf(parts));
  });

  it('a snapshot’s document is known only to a run that is not a dry run, under the same reading', () => {
    const reading = readingOf(parts);
    const document = {
      sha256: 'h',
      reading,
      summary: { datasets: [], absent: [], unknownContainers: [], findings: [], bytes: 1 },
    };
    const snapshot: AppliedSnapshot = { syncRunId: 'r', fingerprints: {}, absent: [], document };
    expect(knownDocumentOf(snapshot, { dryRun: false, reading })).toBe(document);
    expect(knownDocumentOf(snapshot, { dryRun: true, reading })).toBeUndefined();
    expect(
      knownDocumentOf(snapshot, { dryRun: false, reading: readingOf({ ...parts, maxChunkBytes: 1 }) }),
    ).toBeUndefined();
    expect(knownDocumentOf({ ...snapshot, document: undefined }, { dryRun: false, reading })).toBeUndefined();
    expect(knownDocumentOf(null, { dryRun: false, reading })).toBeUndefined();
  });
});

describe('schedule', () => {
  it('jitters deterministically per school within the bound', () => {
    expect(scheduleJitterMs('s1', 60_000)).toBe(scheduleJitterMs('s1', 60_000));
    expect(scheduleJitterMs('s1', 60_000)).toBeLessThan(60_000);
    expect(scheduleJitterMs('s1', 0)).toBe(0);
    expect(firstScheduledRun('s1', new Date(0), 0).getTime()).toBe(0);
  });
  it('backs off after transient failures (×2 per failure, at most ×8)', () => {
    const at = (failures: number) =>
      nextScheduledRun({
        tenantId: 't',
        endedAt: new Date(0),
        scheduleMinutes: 60,
        jitterMs: 0,
        consecutiveFailures: failures,
      }).getTime() / 3_600_000;
    expect([0, 1, 2, 3, 4, 10].map(at)).toEqual([1, 1, 2, 4, 8, 8]);
  });
});
