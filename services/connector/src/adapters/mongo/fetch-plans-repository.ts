import type { Collection, Db } from 'mongodb';
import { toMongoError } from '@isams-sync/mongo';
import type { FetchPlan } from '../../domain/method-groups';
import { COLLECTIONS } from './collections';

/** Stored shape: groups as objects, because FerretDB does not store arrays nested in arrays. */
interface FetchPlanDocument extends Omit<FetchPlan, 'groups'> {
  _id: string;
  tenantId: string;
  groups: Array<{ datasets: FetchPlan['groups'][number] }>;
  updatedAt: Date;
}

/**
 * How each school is fetched (`_id` = tenant id): whole key, or the method groups learnt from
 * iSAMS's time-outs, and the Contacts (Filtered) method name it accepted. No document = whole key.
 */
export class FetchPlansRepository {
  private readonly coll: Collection<FetchPlanDocument>;

  constructor(db: Db) {
    this.coll = db.collection<FetchPlanDocument>(COLLECTIONS.fetchPlans);
  }

  async get(tenantId: string): Promise<FetchPlan | null> {
    try {
      const doc = await this.coll.findOne({ _id: tenantId, tenantId });
      if (!doc) return null;
      const { _id, tenantId: _tenant, updatedAt: _at, groups, ...plan } = doc;
      return { ...plan, groups: groups.map((g) => g.datasets) };
    } catch (err) {
      throw toMongoError(err, { operation: 'get', collection: COLLECTIONS.fetchPlans });
    }
  }

  async put(tenantId: string, plan: FetchPlan): Promise<void> {
    try {
      await this.coll.replaceOne(
        { _id: tenantId, tenantId },
        { tenantId, ...plan, groups: plan.groups.map((datasets) => ({ datasets })), updatedAt: new Date() },
        { upsert: true },
      );
    } catch (err) {
      throw toMongoError(err, { operation: 'put', collection: COLLECTIONS.fetchPlans });
    }
  }
}
