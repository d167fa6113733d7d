import { describe, expect, it } from 'vitest';
import { useGatewayHarness } from '../support/gateway-harness';

/**
 * "Comment (kept with your name in the audit log)", the dashboard says beside Approve, Discard and
 * Undo: the audit entry of each decision has who, when, the comment and (for a batch) the version.
 */
describe('the audit entries of held-batch decisions and run undos (real FerretDB, fake upstreams)', () => {
  const gw = useGatewayHarness('school-a');
  const req = (method: 'GET' | 'POST', url: string, payload?: object) =>
    gw.h.request(gw.token, method, url, payload);
  const latestEntry = async (action: string) => {
    const entries = (await req('GET', '/api/v1/schools/school-a/audit-log')).json().entries as Array<{
      action: string;
    }>;
    return entries.find((e) => e.action === action);
  };

  it('keeps the comment and the batch version of an approval, and of a discard', async () => {
    const approved = await req('POST', '/api/v1/schools/school-a/held-batches/batch-1/approve', {
      comment: '  Leavers confirmed by the office  ',
      version: 1,
    });
    expect(approved.statusCode).toBe(200);
    expect(await latestEntry('held-batch.approve')).toMatchObject({
      actor: expect.stringMatching(/^token:/),
      at: expect.any(String),
      outcome: 'succeeded',
      target: { batchId: 'batch-1', version: 1, comment: 'Leavers confirmed by the office' },
    });

    gw.h.upstream.state.batch = { ...gw.h.upstream.state.batch, status: 'pending', version: 2 };
    const comment = 'x'.repeat(1000);
    const discarded = await req('POST', '/api/v1/schools/school-a/held-batches/batch-1/discard', {
      comment,
      version: 2,
    });
    expect(discarded.statusCode).toBe(200);
    expect(await latestEntry('held-batch.discard')).toMatchObject({
      outcome: 'succeeded',
      target: { batchId: 'batch-1', version: 2, comment },
    });
  });

  it('a refused decision is audited with its comment too; a decision without one has none', async () => {
    const refused = await req('POST', '/api/v1/schools/school-a/held-batches/batch-1/discard', {
      comment: 'second thoughts',
    });
    expect(refused.statusCode).toBe(409);
    expect(await latestEntry('held-batch.discard')).toMatchObject({
      outcome: 'failed',
      errorCode: 'ROSTER_HELD_BATCH_DECIDED',
      target: { batchId: 'batch-1', comment: 'second thoughts' },
    });
    gw.h.upstream.state.batch = { ...gw.h.upstream.state.batch, status: 'pending' };
    expect((await req('POST', '/api/v1/schools/school-a/held-batches/batch-1/approve')).statusCode).toBe(200);
    expect(await latestEntry('held-batch.approve')).toMatchObject({ target: { batchId: 'batch-1' } });
    expect(await latestEntry('held-batch.approve')).not.toHaveProperty('target.comment');
  });

  it('keeps the comment of a run undo', async () => {
    const undone = await req('POST', '/api/v1/schools/school-a/sync-runs/run-9/undo', {
      comment: 'The feed was from the wrong term',
    });
    expect(undone.statusCode).toBe(200);
    expect(await latestEntry('sync-run.undo')).toMatchObject({
      outcome: 'succeeded',
      target: { syncRunId: 'run-9', comment: 'The feed was from the wrong term' },
    });
  });
});
