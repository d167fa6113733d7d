import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import { sampleRun } from '../support/fake-connector';
import { startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

/** The `event:` and `data:` of each server-sent event in `text`. */
function sseEvents(text: string): Array<{ event: string; data: string }> {
  return text
    .split('\n\n')
    .map((block) => ({
      event: /^event: (.*)$/m.exec(block)?.[1] ?? '',
      data: /^data: (.*)$/m.exec(block)?.[1] ?? '',
    }))
    .filter((e) => e.event !== '');
}

/**
 * A stopping gateway ends its live-progress streams with `GATEWAY_SHUTTING_DOWN` (the page opens the
 * stream again, on a replica that stays) and then closes like one without streams: every later stop
 * step runs, the database connection included.
 */
describe('gateway shutdown with live-progress streams open (real FerretDB)', () => {
  let h: GatewayHarness;
  let token: string;
  const lines: string[] = [];
  beforeAll(async () => {
    const logger = createLogger({
      service: 'gateway',
      level: 'info',
      destination: { write: (l) => lines.push(l) },
    });
    h = await startGatewayHarness({}, { logger });
    await h.app.start();
    token = (await h.issueToken('school-a')).token;
    h.connector.watchForever = true;
    h.connector.runs.set('school-a', [sampleRun({ syncRunId: 'run-a', terminal: false })]);
  });
  afterAll(async () => h?.close());

  it('ends each open stream with event: error GATEWAY_SHUTTING_DOWN, then stops every part', async () => {
    const res = await fetch(
      `http://127.0.0.1:${h.app.httpPort}/api/v1/schools/school-a/sync-runs/run-a/events`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: run')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    const stopped = h.app.stop();
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    await stopped;

    const events = sseEvents(text);
    expect(events.map((e) => e.event)).toEqual(['run', 'error']);
    expect(JSON.parse(events[1]!.data)).toEqual({
      code: 'GATEWAY_SHUTTING_DOWN',
      message: expect.stringContaining('open the live-progress stream again'),
    });
    const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toContain('mongo connection closed');
    expect(h.app.http.server.listening).toBe(false);
  }, 20_000);
});
