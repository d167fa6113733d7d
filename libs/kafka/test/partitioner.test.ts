import { describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import type { PartitionMetadata } from 'kafkajs';
import { tenantPartitioner } from '../src/partitioner';

const partitions = (count: number, leader = 1): PartitionMetadata[] =>
  Array.from({ length: count }, (_, i) => ({
    partitionId: i,
    leader,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));
const partitionMetadata = partitions(12);

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

  it('answers as kafkajs’s murmur2 partitioner for every tenant and partition count, one after the other', () => {
    const partition = tenantPartitioner();
    const murmur = Partitioners.DefaultPartitioner();
    // The same tenants again under another partition count (a topic grown), and with leaders
    // unknown: a remembered answer must follow the count, and a keyed record ignores availability.
    for (const metadata of [partitions(12), partitions(3), partitions(12), partitions(7, -1)])
      for (let i = 0; i < 200; i++) {
        const tenant = `school-${i}`;
        const want = murmur({
          topic: 't',
          partitionMetadata: metadata,
          message: { key: tenant, value: null },
        });
        const message = { key: `${tenant}/pupil/${i}`, value: null, headers: { ce_tenantid: tenant } };
        expect(partition({ topic: 't', partitionMetadata: metadata, message })).toBe(want);
      }
  });

  it('keeps an explicit partition, and places a record without ce_tenantid by its key', () => {
    const partition = tenantPartitioner();
    const murmur = Partitioners.DefaultPartitioner();
    const headers = { ce_tenantid: 'school-1' };
    expect(
      partition({ topic: 't', partitionMetadata, message: { key: 'k', value: null, headers, partition: 5 } }),
    ).toBe(5);
    for (const key of ['school-9', Buffer.from('school-9')])
      expect(partition({ topic: 't', partitionMetadata, message: { key, value: null } })).toBe(
        murmur({ topic: 't', partitionMetadata, message: { key: 'school-9', value: null } }),
      );
  });
});
