import type { Db } from 'mongodb';
import type { FetchPlan } from '../../domain/method-groups';
import type { FetchPlanStore } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';
import { SchoolDocuments } from './school-documents';
import type { SchoolDocument } from './school-documents';

/** Stored shape: groups as objects, because FerretDB does not store arrays nested in arrays. */
interface FetchPlanDocument extends Omit<FetchPlan, 'groups'>, SchoolDocument {
  groups: Array<{ datasets: FetchPlan['groups'][number] }>;
  updatedAt: Date;
}

/**
 * How each school is fetched (`_id` = tenant id): whole key, or the method groups learnt from
 * iSAMS's time-outs, and the Contacts (Filtered) method name it accepted. No document = whole key.
 */
export class FetchPlansRepository implements FetchPlanStore {
  private readonly docs: SchoolDocuments<FetchPlanDocument>;

  constructor(db: Db) {
    this.docs = new SchoolDocuments(db, COLLECTIONS.fetchPlans);
  }

  async get(tenantId: string): Promise<FetchPlan | null> {
    const doc = await this.docs.find(tenantId);
    if (!doc) return null;
    const { _id, tenantId: _tenant, updatedAt: _at, groups, ...plan } = doc;
    return { ...plan, groups: groups.map((g) => g.datasets) };
  }

  put(tenantId: string, plan: FetchPlan): Promise<void> {
    return this.docs.replace(tenantId, {
      tenantId,
      ...plan,
      groups: plan.groups.map((datasets) => ({ datasets })),
      updatedAt: new Date(),
    });
  }
}
