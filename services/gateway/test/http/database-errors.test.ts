import Fastify from 'fastify';
import { MongoErrors } from '@isams-sync/mongo';
import { describe, expect, it } from 'vitest';
import { installErrorHandlers } from '../../src/handlers/http/error-handler';

/**
 * The gateway's own database (admin tokens, audit log) failing: the admin gets the documented
 * upstream error, not the database library's code with its collection and driver names.
 */
describe('the gateway’s own database errors in the error model', () => {
  const answer = async (err: Error) => {
    const app = Fastify();
    installErrorHandlers(app, 1024);
    app.get('/api/v1/x', async () => {
      throw err;
    });
    const res = await app.inject({ method: 'GET', url: '/api/v1/x' });
    await app.close();
    return { status: res.statusCode, body: res.body, error: res.json().error };
  };
  const driver = {
    operation: 'findOne',
    collection: 'admin_tokens',
    driverError: 'MongoServerSelectionError',
  };

  it('database away → 503 GATEWAY_UPSTREAM_UNAVAILABLE naming the database, nothing of its internals', async () => {
    const res = await answer(MongoErrors.MONGO_UNAVAILABLE(driver));
    expect(res.status).toBe(503);
    expect(res.error).toMatchObject({
      code: 'GATEWAY_UPSTREAM_UNAVAILABLE',
      details: { upstream: 'database' },
    });
    expect(res.body).not.toMatch(/admin_tokens|MongoServerSelectionError|MONGO_/);
  });

  it('database too slow → 504 GATEWAY_UPSTREAM_TIMEOUT', async () => {
    const res = await answer(MongoErrors.MONGO_TIMEOUT(driver));
    expect(res.status).toBe(504);
    expect(res.error).toMatchObject({ code: 'GATEWAY_UPSTREAM_TIMEOUT', details: { upstream: 'database' } });
  });

  it('any other database error → 500 INTERNAL without detail', async () => {
    const res = await answer(MongoErrors.MONGO_DUPLICATE_KEY(driver));
    expect(res.status).toBe(500);
    expect(res.error.code).toBe('INTERNAL');
    expect(res.body).not.toMatch(/admin_tokens|MONGO_/);
  });
});
