import { randomBytes } from 'node:crypto';
import type { Document, MongoClient } from 'mongodb';
import { toMongoError } from './to-mongo-error';

/**
 * What answers on a MongoDB URL: real MongoDB (production), or FerretDB 1.x on its SQLite or its
 * PostgreSQL backend (local infrastructure and CI; docs/local-infra.md compares them).
 */
export type ServerBackend = 'mongodb' | 'ferretdb-sqlite' | 'ferretdb-postgresql';

/**
 * Tells the backend apart with real requests. `buildInfo` carries `ferretdbVersion` only on
 * FerretDB; FerretDB's `explain` then returns its backend's own plan: SQLite's `EXPLAIN QUERY PLAN`
 * rows (an array under `queryPlanner.Plan`) or PostgreSQL's JSON plan (a document). `explain` needs
 * an existing collection, so this writes one document into a throwaway database and drops it.
 * For tests, benchmarks and tools — services never branch on the backend.
 */
export async function detectServerBackend(client: MongoClient): Promise<ServerBackend> {
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    if (typeof info.ferretdbVersion !== 'string') return 'mongodb';
    const db = client.db(`backend_probe_${randomBytes(6).toString('hex')}`);
    try {
      const probe = db.collection<{ _id: string }>('probe');
      await probe.insertOne({ _id: 'probe' });
      const plan = (await probe.find({ _id: 'probe' }).explain()) as Document;
      const planner = plan.queryPlanner as Document | undefined;
      return Array.isArray(planner?.Plan) ? 'ferretdb-sqlite' : 'ferretdb-postgresql';
    } finally {
      await db.dropDatabase();
    }
  } catch (err) {
    throw toMongoError(err, { operation: 'detectServerBackend' });
  }
}
