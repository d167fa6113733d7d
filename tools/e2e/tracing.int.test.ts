import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunningSystem } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSystemWithSchool,
  syncRemovingABookedPupil,
  stopSystem,
  type School,
  type ServiceClients,
} from './support';

const ROOT = resolve(import.meta.dirname, '../..');

/** One span as the receiver wrote it (OTLP/JSON), with its service. */
interface SpanRecord {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
}

type OtlpValue = { stringValue?: string; intValue?: string; boolValue?: boolean };
type OtlpAttribute = { key: string; value: OtlpValue };

function readSpans(file: string): SpanRecord[] {
  if (!existsSync(file)) return [];
  const spans: SpanRecord[] = [];
  const value = (v: OtlpValue) => v.stringValue ?? v.intValue ?? v.boolValue;
  const attrs = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, value(a.value)]));
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const request = JSON.parse(line) as {
      resourceSpans?: Array<{
        resource?: { attributes?: OtlpAttribute[] };
        scopeSpans?: Array<{
          spans?: Array<{
            traceId: string;
            spanId: string;
            parentSpanId?: string;
            name: string;
            attributes?: OtlpAttribute[];
            links?: Array<{ traceId: string; spanId: string }>;
          }>;
        }>;
      }>;
    };
    for (const rs of request.resourceSpans ?? []) {
      const service = String(attrs(rs.resource?.attributes)['service.name']);
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            attributes: attrs(s.attributes),
            links: s.links ?? [],
          });
    }
  }
  return spans;
}

/** The spans from `span` up to its trace's root, following parents. */
function ancestry(span: SpanRecord, byId: Map<string, SpanRecord>): SpanRecord[] {
  const chain = [span];
  for (let s = span; s.parentSpanId !== '';) {
    const parent = byId.get(s.parentSpanId);
    if (parent === undefined) break;
    chain.push(parent);
    s = parent;
  }
  return chain;
}

/**
 * Tracing through the whole system: the services run with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a
 * real OTLP/HTTP receiver (tools/otlp-sink, built from the Go module proxy on the OpenTelemetry
 * Collector's pdata module) that writes every span to a file. An admin's Run removes a pupil with a
 * booking; the removal's trace must lead, parent by parent, from the bookings span that cancelled
 * the booking through the roster's changeset and the connector's run to the gateway's HTTP request.
 */
describe('e2e: one trace from the admin’s Run to the booking cancellation (OTLP)', () => {
  let sink: ChildProcess;
  let spansFile: string;
  let system: RunningSystem;
  let clients: ServiceClients;
  let school: School;

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'tools/otlp-sink/install.sh')], { cwd: ROOT, stdio: 'inherit' });
    const dir = mkdtempSync(join(tmpdir(), 'otlp-sink-'));
    spansFile = join(dir, 'spans.jsonl');
    const addressFile = join(dir, 'address');
    sink = spawn(
      join(ROOT, '.cache/tools/otlp-sink'),
      ['-listen', '127.0.0.1:0', '-out', spansFile, '-address-file', addressFile],
      { stdio: 'inherit' },
    );
    for (let i = 0; i < 100 && !existsSync(addressFile); i++) await new Promise((r) => setTimeout(r, 100));
    const endpoint = `http://${readFileSync(addressFile, 'utf8').trim()}`;
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint };
    ({ system, clients, school } = await startSystemWithSchool(
      { env: { connector: otel, roster: otel, bookings: otel, gateway: otel } },
      'e2e-trace',
      5,
    ));
  }, 300_000);

  afterAll(async () => {
    await stopSystem(system, clients);
    sink?.kill('SIGTERM');
  }, 90_000);

  it('the removal’s trace holds gateway, connector, roster and bookings spans in causal order', async () => {
    const first = await school.sync();
    expect(first.status, system.logs()).toBe('applied');
    const run = await syncRemovingABookedPupil(clients, school, { dayOffset: 10 });

    // The SDKs export in batches (every 5 s by default), each service on its own clock: wait for the
    // bookings span of the removal and for every roster step span of the run's trace.
    const steps = ['staged', 'diffed', 'applying', 'publishing', 'reporting'];
    let spans: SpanRecord[] = [];
    let removal: SpanRecord | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      spans = readSpans(spansFile);
      const runSpan = spans.find(
        (s) => s.name === 'connector.sync-run' && s.attributes['isams_sync.sync_run_id'] === run.syncRunId,
      );
      removal = spans.find(
        (s) =>
          s.service === 'bookings' &&
          s.traceId === runSpan?.traceId &&
          (s.name === 'bookings.apply-removal' || s.name.startsWith('process ')) &&
          spans.some((p) => p.spanId === s.parentSpanId && p.service === 'roster'),
      );
      const stepsSeen = new Set(
        spans.filter((s) => s.traceId === removal?.traceId && s.service === 'roster').map((s) => s.name),
      );
      if (removal !== undefined && steps.every((step) => stepsSeen.has(`roster.changeset ${step}`))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(removal, `spans received: ${spans.length}`).toBeDefined();

    const trace = spans.filter((s) => s.traceId === removal!.traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const chain = ancestry(removal!, byId);
    // Services along the parent chain, from the root down, each once in a row.
    const services = chain
      .map((s) => s.service)
      .reverse()
      .filter((s, i, all) => s !== all[i - 1]);
    expect(services).toEqual(['gateway', 'connector', 'roster', 'bookings']);
    const names = chain.map((s) => s.name).reverse();
    const root = chain.at(-1)!;
    expect(root.parentSpanId).toBe('');
    expect(root.service).toBe('gateway');
    expect(root.name).toMatch(/^POST .*sync-runs$/);
    // The roster publishes a changeset's events while it applies it (the `applying` step; the
    // `publishing` step only finishes what a crash left), so that step's span is the event's parent.
    const published = /^roster\.changeset (applying|publishing)$/;
    expect(names).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/ConnectorService\/TriggerSync$/),
        'connector.sync-run',
        expect.stringMatching(published),
      ]),
    );
    // The order along the chain: gateway request → gRPC → connector run → marker → roster → bookings.
    const at = (re: RegExp) => names.findIndex((n) => re.test(n));
    expect(at(/^POST /)).toBeLessThan(at(/TriggerSync$/));
    expect(at(/TriggerSync$/)).toBeLessThan(at(/^connector\.sync-run$/));
    expect(at(/^connector\.sync-run$/)).toBeLessThan(at(published));
    expect(at(published)).toBeLessThan(names.length - 1);

    // The run's other work is in the same trace: the fetch, every chunk published and each step.
    const inTrace = new Set(trace.map((s) => s.name));
    expect(inTrace).toContain('connector.fetch');
    expect(trace.filter((s) => s.attributes['isams_sync.chunk_index'] !== undefined)).toHaveLength(
      run.progress.chunksPublished,
    );
    for (const step of steps) expect(inTrace, step).toContain(`roster.changeset ${step}`);

    // No personal data or key in any attribute of any span.
    const everything = JSON.stringify(spans.map((s) => s.attributes));
    expect(everything).not.toMatch(/forename|surname|@|apiKey|\{[0-9A-Fa-f]{8}-/);
  }, 300_000);
});
