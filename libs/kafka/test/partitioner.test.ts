import { describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import type { PartitionMetadata } from 'kafkajs';
import { tenantPartitioner } from '../src/partitioner';

const partitionMetadata: PartitionMetadata[] = Array.from({ length: 12 }, (_, i) => ({
  partitionId: i,
  leader: 1,
  replicas: [1],
  isr: [1],
  partitionErrorCode: 0,
}));

describe('tenantPartitioner', () => {
  it('places a record by its ce_tenantid header, whatever its key', () => {
    const partition = tenantPartitioner();
    const murmur = Partitioners.DefaultPartitioner();
    for (const tenant of ['school-1', 'school-2', 'school-3', 'another']) {
      const byTenantKey = murmur({ topic: 't', partitionMetadata, message: { key: tenant, value: null } });
      for (const key of [tenant, `${tenant}/pupil-1`, `${tenant}/pupil-2`]) {
        expect(
          partition({
            topic: 't',
            partitionMetadata,
            message: { key, value: null, headers: { ce_tenantid: tenant } },
          }),
        ).toBe(byTenantKey);
      }
    }
  });
});
