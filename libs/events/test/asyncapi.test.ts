import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import specs from '@asyncapi/specs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  ASYNCAPI_FILE,
  CLOUDEVENT_ATTRIBUTES,
  PUBLISHED_TOPICS,
  TOPICS,
  asyncApiText,
  platformPingV1,
  registry,
} from '../src/index';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const libDir = join(import.meta.dirname, '..');
const text = asyncApiText(registry, TOPICS);
const doc = JSON.parse(text) as Json;

/** Follows a local `#/a/b` reference inside the document. */
const follow = (ref: string): unknown =>
  ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Json | undefined)?.[key], doc);

describe('AsyncAPI document', () => {
  it('is committed as generated (run `npm run gen:asyncapi` when this fails)', () => {
    expect(readFileSync(join(libDir, ASYNCAPI_FILE), 'utf8')).toBe(text);
  });

  it('is a valid AsyncAPI 3.0.0 document (the official JSON Schema of @asyncapi/specs)', () => {
    // The spec schema embeds the draft-07 meta-schema itself: ajv's own copy must stay out.
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true, meta: false, validateSchema: false }));
    const validate = ajv.compile(specs.schemas['3.0.0'] as object);
    expect(validate(doc) ? '' : ajv.errorsText(validate.errors)).toBe('');
    const broken = structuredClone(doc);
    broken.channels.rosterChangesV1.address = 42;
    expect(validate(broken)).toBe(false);
  });

  it('covers every main topic and every registered type exactly once (the test ping excepted)', () => {
    const main = TOPICS.filter((t) => !t.name.endsWith('.dlq')).map((t) => t.name);
    expect(Object.keys(PUBLISHED_TOPICS).sort()).toEqual([...main].sort());
    expect(Object.values(doc.channels as Json).map((c: Json) => c.address)).toEqual(main);
    const published = Object.values(PUBLISHED_TOPICS).flatMap((p) => p.types.map((t) => t.type));
    expect(new Set(published).size).toBe(published.length);
    expect(published.sort()).toEqual(
      registry.types
        .filter((t) => t !== platformPingV1)
        .map((t) => t.type)
        .sort(),
    );
    expect(doc.asyncapi).toBe('3.0.0');
  });

  it('tags the product contracts public and the service-to-service topics internal', () => {
    const audience = Object.fromEntries(
      Object.values(doc.channels as Json).map((c: Json) => [c.address, c.tags[0].name]),
    );
    expect(audience).toEqual({
      'isams.raw-datasets.v1': 'internal',
      'sync.runs.v1': 'internal',
      'roster.changes.v1': 'public',
      'roster.state.v1': 'public',
      'roster.changes.directory.v1': 'public',
      'roster.state.directory.v1': 'public',
      'bookings.events.v1': 'public',
    });
  });

  it('resolves every reference: local ones inside the document, payloads to the committed JSON Schemas', () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object')
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref') refs.push(v as string);
          else walk(v);
        }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(100);
    for (const ref of refs) {
      if (ref.startsWith('#/')) expect(follow(ref), ref).toBeDefined();
      else {
        const file = join(libDir, 'asyncapi', ref);
        expect(existsSync(file), ref).toBe(true);
        const schema = JSON.parse(readFileSync(file, 'utf8')) as Json;
        const message = Object.values(doc.components.messages as Json).find(
          (m: Json) => m.payload.$ref === ref,
        );
        expect(schema.$id).toBe(message['x-dataschema']);
      }
    }
  });

  describe('headers and tombstones, as on the wire', () => {
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
    const resolved = (node: Json): Json =>
      typeof node.$ref === 'string' ? (follow(node.$ref) as Json) : node;
    const accepts = (schema: Json, value: unknown) => ajv.validate(resolved(schema), value);
    const messagesOf = (channel: Json): Json[] =>
      Object.values(channel.messages as Json).map((m: Json) => resolved(m));
    const compacted = Object.values(doc.channels as Json).filter((c: Json) =>
      (c.bindings.kafka.topicConfiguration['cleanup.policy'] as string[]).includes('compact'),
    );

    it('the CloudEvents header schema names every header a producer sends (trace context optional)', () => {
      const headers = follow('#/components/schemas/cloudEventHeaders') as Json;
      const sent = CLOUDEVENT_ATTRIBUTES.map((a) => (a === 'datacontenttype' ? 'content-type' : `ce_${a}`));
      expect(Object.keys(headers.properties as Json).sort()).toEqual([...sent].sort());
      for (const optional of ['ce_traceparent', 'ce_tracestate', 'ce_subject', 'ce_syncrunid'])
        expect(headers.required).not.toContain(optional);
      const traced = {
        ce_specversion: '1.0',
        ce_id: 'e1',
        ce_source: '/isams-sync/roster',
        ce_type: 'com.schoolcloud.isams-sync.roster.entity-state.v1',
        ce_time: '2026-01-10T07:02:11.000Z',
        ce_tenantid: 'a3f1c2d4-school-7',
        ce_traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        ce_tracestate: 'vendor=abc',
        'content-type': 'application/json',
      };
      expect(accepts(headers, traced)).toBe(true);
    });

    it('each compacted state topic describes its tombstone: a null value with only ce_tenantid', () => {
      expect(compacted.map((c: Json) => c.address)).toEqual(['roster.state.v1', 'roster.state.directory.v1']);
      const tombstone = { headers: { ce_tenantid: 'a3f1c2d4-school-7' }, value: null };
      for (const channel of compacted) {
        const matching = messagesOf(channel).filter(
          (m) => accepts(m.headers as Json, tombstone.headers) && accepts(m.payload as Json, tombstone.value),
        );
        expect(
          matching.map((m) => m.name),
          channel.address as string,
        ).toHaveLength(1);
        // The CloudEvents there require ce_id: a consumer tells a tombstone from an event by its headers.
        for (const m of messagesOf(channel).filter((x) => x !== matching[0]))
          expect(accepts(m.headers as Json, tombstone.headers), m.name as string).toBe(false);
      }
      // No other topic carries tombstones.
      for (const channel of Object.values(doc.channels as Json).filter((c) => !compacted.includes(c)))
        for (const m of messagesOf(channel)) expect(typeof m.payload.$ref, m.name as string).toBe('string');
    });
  });
});
