import { describe, expect, it, vi } from 'vitest';
import type { PartitionMetadata } from 'kafkajs';
import type * as KafkajsRuntime from '../src/kafkajs-runtime';

// The tenant partitioner hashes a school once per partition count (libs/kafka/src/partitioner.ts):
// kafkajs's murmur2 partitioner, counted here, is asked once per (count, tenant), not per record.
const hashed = vi.hoisted(() => ({ keys: [] as string[] }));
vi.mock('../src/kafkajs-runtime', async (importOriginal) => {
  const runtime = await importOriginal<typeof KafkajsRuntime>();
  return {
    ...runtime,
    Partitioners: {
      ...runtime.Partitioners,
      DefaultPartitioner: () => {
        const murmur = runtime.Partitioners.DefaultPartitioner();
        return (args: Parameters<typeof murmur>[0]) => {
          hashed.keys.push(String(args.message.key));
          return murmur(args);
        };
      },
    },
  };
});
const { tenantPartitioner } = await import('../src/partitioner');

const partitions = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, i) => ({
    partitionId: i,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));

describe('tenantPartitioner, remembered', () => {
  it('hashes each tenant once per partition count, however many of its records pass', () => {
    const partition = tenantPartitioner();
    const twelve = partitions(12);
    const place = (tenant: string, i: number, metadata = twelve) =>
      partition({
        topic: 't',
        partitionMetadata: metadata,
        message: { key: `${tenant}/pupil/${i}`, value: null, headers: { ce_tenantid: tenant } },
      });
    const first = place('school-1', 0);
    for (let i = 1; i < 1000; i++) expect(place('school-1', i)).toBe(first);
    place('school-2', 0);
    place('school-2', 1);
    place('school-1', 0, partitions(3));
    expect(hashed.keys).toEqual(['school-1', 'school-2', 'school-1']);
  });
});
