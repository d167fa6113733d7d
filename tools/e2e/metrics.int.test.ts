import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TOPICS, dlqTopicName } from '@isams-sync/events';
import { DATASETS } from '@isams-sync/isams';
import { createKafkaClient, createRawProducer, ensureTopics } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { getTestInfra, type RunningSystem } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSystemWithSchool,
  syncRemovingABookedPupil,
  stopSystem,
  type School,
  type ServiceClients,
} from './support';
import { parsePrometheusText, samplesOf, valueOf, type PromSample } from './support/prometheus-text';

type Service = 'connector' | 'roster' | 'bookings' | 'gateway';
const SERVICES: Service[] = ['connector', 'roster', 'bookings', 'gateway'];
const ROOT = resolve(import.meta.dirname, '../..');
const SYNC_RUNS = '/api/v1/schools/:schoolId/sync-runs';

/** Every series name the chart's alert rules use (our own prefixes), read from the template itself. */
function alertRuleSeries(): string[] {
  const template = readFileSync(resolve(ROOT, 'charts/isams-sync/templates/prometheus-rule.yaml'), 'utf8');
  const exprs = [...template.matchAll(/expr: \|\n([\s\S]*?)\n\s+for:/g)].map((m) => m[1]!);
  // The `$failed`/`$held`/`$dlq` selectors are defined above the rules.
  const defs = [...template.matchAll(/printf "([a-z_]+)\{/g)].map((m) => m[1]!);
  const names = [
    ...exprs.join('\n').matchAll(/\b((?:connector|roster|bookings|gateway|isams_sync)_[a-z0-9_]+)\b/g),
  ];
  return [...new Set([...names.map((m) => m[1]!), ...defs])].sort();
}

/**
 * The whole system as processes: after a good sync, a sync removing a pupil with a booking (cancelled),
 * a sync that failed (the simulated iSAMS refusing the key) and a record no consumer can read, every service's `/metrics` is scraped and parsed, and
 * the series the alert rules use (and the rest of docs/deploy.md › Monitoring) are there with the
 * values these events imply — labels bounded (route templates, catalogue codes, no school id).
 */
describe('e2e: every service exports the series of the alert rules', () => {
  let system: RunningSystem;
  let school: School;
  let clients: ServiceClients;
  let scraped: Record<Service, PromSample[]>;

  const scrape = async (): Promise<Record<Service, PromSample[]>> =>
    Object.fromEntries(
      await Promise.all(
        SERVICES.map(async (s) => {
          const res = await fetch(`${system.opsUrls[s]}/metrics`, { signal: AbortSignal.timeout(10_000) });
          expect(res.status).toBe(200);
          expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
          return [s, parsePrometheusText(await res.text())] as const;
        }),
      ),
    ) as Record<Service, PromSample[]>;
  /**
   * Scrapes until every condition holds (the sampled gauges and the roster's reports arrive a little
   * later); the failure names the conditions that never held.
   */
  const scrapeUntil = async (conditions: Record<string, (m: Record<Service, PromSample[]>) => boolean>) => {
    const deadline = Date.now() + 120_000;
    let unmet: string[] = [];
    while (Date.now() < deadline) {
      const m = await scrape();
      unmet = Object.entries(conditions)
        .filter(([, holds]) => !holds(m))
        .map(([what]) => what);
      if (unmet.length === 0) return m;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`never seen in the scrapes: ${unmet.join('; ')}\n${system.logs()}`);
  };

  beforeAll(async () => {
    const fast = { METRICS_SAMPLE_INTERVAL_MS: '300ms' };
    ({ system, clients, school } = await startSystemWithSchool(
      { env: { connector: fast, roster: fast, bookings: fast } },
      'e2e-metrics',
      7,
    ));
  }, 300_000);

  afterAll(() => stopSystem(system, clients), 90_000);

  it('a sync, a removal cancelling a booking, a failed sync and a dead letter are counted', async () => {
    const good = await school.sync();
    expect(good.status, JSON.stringify(good.error)).toBe('applied');
    // A leaver with a future booking (two pupils booked, one leaving): the next sync removes them and
    // bookings cancels that booking.
    await syncRemovingABookedPupil(clients, school, { booked: 2 });
    await school.sim('POST', '/faults', { kind: 'invalidKey', times: 5 });
    try {
      const bad = await school.sync();
      expect(bad.status).toBe('failed');
      expect(bad.error?.code).toBe('ISAMS_INVALID_KEY');
    } finally {
      await school.sim('DELETE', '/faults');
    }
    // A record that is not a CloudEvent on the roster's input: dead-lettered, never retried.
    const kafka = createKafkaClient({
      clientId: 'e2e-metrics',
      brokers: getTestInfra().kafkaBrokers,
      logger: createLogger({ service: 'e2e-metrics', level: 'silent' }),
    });
    const declaredDlq = TOPICS.find((t) => t.name === dlqTopicName('isams.raw-datasets.v1'))!;
    await ensureTopics(kafka, [
      { ...declaredDlq, name: dlqTopicName(system.topics.raw), replicationFactor: 1 },
    ]);
    const producer = createRawProducer(kafka);
    await producer.connect();
    await producer.send(system.topics.raw, [{ key: 'e2e-metrics', value: 'not a cloudevent' }]);
    await producer.disconnect();
    // An unknown path: counted as `unmatched`, never by its URL.
    expect((await fetch(`${system.gatewayUrl}/api/v1/no-such-thing/e2e-metrics`)).status).toBe(404);

    scraped = await scrapeUntil({
      'connector: one failed run': (m) =>
        valueOf(m.connector, 'connector_sync_runs_finished_total', { status: 'failed' }) === 1,
      'connector: both applied runs': (m) =>
        valueOf(m.connector, 'connector_sync_runs_finished_total', { status: 'applied' }) === 2,
      'bookings: the cancellation counted': (m) =>
        valueOf(m.bookings, 'bookings_cancelled_total', { reason: 'roster_removal' }) === 1,
      'connector: one enabled school sampled': (m) => valueOf(m.connector, 'connector_schools_enabled') === 1,
      'roster: the dead letter counted': (m) =>
        samplesOf(m.roster, 'isams_sync_dead_letters_total').length === 1,
      ...Object.fromEntries(
        (['connector', 'roster', 'bookings'] as const).map((s) => [
          `${s}: its consumer group's lag sampled, 0`,
          (m: Record<Service, PromSample[]>) =>
            samplesOf(m[s], 'isams_sync_consumer_lag_messages').length === 1 &&
            valueOf(m[s], 'isams_sync_consumer_lag_messages') === 0,
        ]),
      ),
    });
  }, 600_000);

  it('connector: runs by status and catalogue error code, fetch/publish durations, bytes, schools', () => {
    const c = scraped.connector;
    expect(
      samplesOf(c, 'connector_sync_runs_finished_total').map((s) => [
        s.labels.status,
        s.labels.error_code,
        s.value,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['applied', 'none', 2],
        ['failed', 'ISAMS_INVALID_KEY', 1],
      ]),
    );
    expect(valueOf(c, 'connector_fetch_duration_seconds_count', { outcome: 'ok' })).toBe(2);
    expect(valueOf(c, 'connector_fetch_duration_seconds_count', { outcome: 'failed' })).toBe(1);
    expect(valueOf(c, 'connector_publish_duration_seconds_count')).toBe(2);
    expect(valueOf(c, 'connector_document_bytes_count')).toBe(2);
    const documentBytes = valueOf(c, 'connector_document_bytes_sum')!;
    expect(documentBytes).toBeGreaterThan(10_000);
    const perDataset = samplesOf(c, 'connector_dataset_bytes_total');
    expect(perDataset.length).toBeGreaterThan(3);
    for (const s of perDataset) expect(Object.keys(DATASETS)).toContain(s.labels.dataset);
    expect(perDataset.every((s) => s.value > 0)).toBe(true);
    // One enabled school, synced a moment ago (its failed run does not make it older).
    expect(valueOf(c, 'connector_schools_never_synced')).toBe(0);
    expect(valueOf(c, 'connector_schools_stale')).toBe(0);
    const oldest = valueOf(c, 'connector_school_last_good_sync_oldest_age_seconds')!;
    expect(oldest).toBeGreaterThan(0);
    expect(oldest).toBeLessThan(3_600);
    expect(samplesOf(c, 'isams_sync_consumer_lag_messages')[0]!.labels.topic).toBe(system.topics.runs);
  });

  it('roster: changesets by outcome, held batches, the dead letter by topic and code, lag', () => {
    const r = scraped.roster;
    expect(valueOf(r, 'roster_changesets_total', { outcome: 'applied' })).toBe(2);
    expect(valueOf(r, 'roster_held_batches_pending')).toBe(0);
    expect(valueOf(r, 'roster_held_batch_oldest_age_seconds')).toBe(0);
    const [dead] = samplesOf(r, 'isams_sync_dead_letters_total');
    expect(dead).toMatchObject({ labels: { topic: system.topics.raw }, value: 1 });
    expect(dead!.labels.error_code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    expect(samplesOf(r, 'isams_sync_consumer_lag_messages')[0]!.labels.topic).toBe(system.topics.raw);
  });

  it("bookings: the leaver's cancellation by reason, the other reasons from 0, lag", () => {
    const b = scraped.bookings;
    expect(valueOf(b, 'bookings_cancelled_total', { reason: 'roster_removal' })).toBe(1);
    expect(valueOf(b, 'bookings_cancelled_total', { reason: 'roster_removal_approved' })).toBe(0);
    expect(valueOf(b, 'bookings_reinstated_total')).toBe(0);
    expect(valueOf(b, 'bookings_roster_changes_total', { status: 'applied' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(b, 'bookings_cancelled_total', { reason: 'user_cancelled' })).toBe(0);
    expect(valueOf(b, 'bookings_not_reinstated_total', { reason: 'slot_taken' })).toBe(0);
    expect(samplesOf(b, 'isams_sync_consumer_lag_messages')[0]!.labels.topic).toBe(system.topics.changes);
  });

  it('gateway: requests by route template, method and status; durations; no URL or school id as a label', () => {
    const g = scraped.gateway;
    const triggers = valueOf(g, 'gateway_http_requests_total', {
      listener: 'public',
      method: 'POST',
      route: SYNC_RUNS,
      status_code: '202',
    });
    expect(triggers).toBe(3);
    expect(
      valueOf(g, 'gateway_http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }),
    ).toBe(1);
    expect(
      valueOf(g, 'gateway_http_request_duration_seconds_count', { method: 'POST', route: SYNC_RUNS }),
    ).toBe(3);
    const routes = new Set(samplesOf(g, 'gateway_http_requests_total').map((s) => s.labels.route));
    for (const route of routes) expect(route === 'unmatched' || route!.startsWith('/')).toBe(true);
  });

  it('every series the alert rules use exists, and no series of any service names a school', () => {
    const all = SERVICES.flatMap((s) => scraped[s]);
    const present = new Set(all.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    const used = alertRuleSeries();
    expect(used).toEqual(
      expect.arrayContaining([
        'connector_sync_runs_finished_total',
        'connector_school_last_good_sync_oldest_age_seconds',
        'roster_changesets_total',
        'roster_held_batch_oldest_age_seconds',
        'isams_sync_dead_letters_total',
        'isams_sync_consumer_lag_messages',
        'isams_sync_dependency_up',
      ]),
    );
    expect(used.filter((n) => !present.has(n))).toEqual([]);
    for (const s of SERVICES) {
      expect(valueOf(scraped[s], 'isams_sync_dependency_up', { dependency: 'mongo' })).toBe(1);
      if (s !== 'gateway')
        expect(valueOf(scraped[s], 'isams_sync_dependency_up', { dependency: 'kafka' })).toBe(1);
    }
    const naming = all.filter((s) =>
      Object.entries(s.labels).some(([k, v]) => /tenant|school/i.test(k) || v.includes(school.id)),
    );
    expect(naming).toEqual([]);
  });
});
