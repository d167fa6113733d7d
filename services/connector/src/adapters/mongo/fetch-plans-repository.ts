import type { Collection, Db } from 'mongodb';
import { withMongoErrors } from '@isams-sync/mongo';
import type { FetchPlan } from '../../domain/method-groups';
import type { FetchPlanStore } from '../../use-cases/ports';
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
export class FetchPlansRepository implements FetchPlanStore {
  private readonly coll: Collection<FetchPlanDocument>;

  constructor(db: Db) {
    this.coll = db.collection<FetchPlanDocument>(COLLECTIONS.fetchPlans);
  }

  get(tenantId: string): Promise<FetchPlan | null> {
    return withMongoErrors({ operation: 'get', collection: COLLECTIONS.fetchPlans }, async () => {
      const doc = await this.coll.findOne({ _id: tenantId, tenantId });
      if (!doc) return null;
      const { _id, tenantId: _tenant, updatedAt: _at, groups, ...plan } = doc;
      return { ...plan, groups: groups.map((g) => g.datasets) };
    });
  }

  put(tenantId: string, plan: FetchPlan): Promise<void> {
    return withMongoErrors({ operation: 'put', collection: COLLECTIONS.fetchPlans }, async () => {
      await this.coll.replaceOne(
        { _id: tenantId, tenantId },
        { tenantId, ...plan, groups: plan.groups.map((datasets) => ({ datasets })), updatedAt: new Date() },
        { upsert: true },
      );
    });
  }
}
